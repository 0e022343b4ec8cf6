import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';
import { useTexts, type MessageKey } from './i18n';

/** What a page loads: the data once it came, the error if it failed, and a way to load again. */
export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/** Loads with `load` whenever a dependency changes; an older answer never overwrites a newer one. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error: unknown) => mine === generation.current && setState((previous) => ({ data: previous.data, error, loading: false })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

/** The text to show for a failure, in the page's language where it is one we know. */
export function useErrorText(): (error: unknown) => string {
  const { t } = useTexts();
  return (error) => {
    if (error instanceof ApiError) {
      if (error.status === 404 && error.code === 'route_not_found') return t('error.unavailable');
      if (error.code === 'csrf_failed') return t('error.csrf');
      if (error.status === 403) return `${t('error.forbidden')} ${error.message}`;
      return error.message;
    }
    if (error instanceof TypeError) return t('error.network');
    return error instanceof Error ? error.message : String(error);
  };
}

/**
 * Errors and progress of a page, announced to screen readers (aria-live): the region is always
 * in the page, so a message that appears in it is read out.
 */
export function Status(props: { error?: unknown; loading?: boolean; done?: string | null }): preact.JSX.Element {
  const { t } = useTexts();
  const errorText = useErrorText();
  return (
    <div class="status" aria-live="polite" role="status">
      {props.error ? (
        <p class="error">
          <strong>{t('error.title')}</strong> {errorText(props.error)}
        </p>
      ) : null}
      {props.loading ? <p class="muted">{t('common.loading')}</p> : null}
      {props.done ? <p class="done">{props.done}</p> : null}
    </div>
  );
}

/** A page's heading; it takes the focus when the page opens, so keyboard and screen-reader users start there. */
export function PageTitle(props: { text: MessageKey; children?: ComponentChildren }): preact.JSX.Element {
  const { t } = useTexts();
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
    document.title = `${t(props.text)} · Stellwerk`;
  }, [props.text, t]);
  return (
    <header class="page-head">
      <h1 tabIndex={-1} ref={ref}>
        {t(props.text)}
      </h1>
      {props.children}
    </header>
  );
}

/** A labelled form field: the label names the input for assistive technology. */
export function Field(props: { label: string; hint?: string; children: ComponentChildren }): preact.JSX.Element {
  return (
    <label class="field">
      <span class="label">{props.label}</span>
      {props.children}
      {props.hint ? <span class="hint">{props.hint}</span> : null}
    </label>
  );
}

/** Parses an optional number field: '' is null. */
export function optionalNumber(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed.replace(',', '.'));
  if (!Number.isFinite(value)) throw new Error(`"${trimmed}" is not a number.`);
  return value;
}

/** Parses a comma-separated list field: '' is null (no restriction). */
export function optionalList(text: string): string[] | null {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length === 0 ? null : items;
}

export interface Range {
  readonly id: '1h' | '24h' | '7d' | '30d';
  readonly ms: number;
  readonly bucket: 'minute' | 'hour' | 'day';
}

export const RANGES: readonly Range[] = [
  { id: '1h', ms: 3_600_000, bucket: 'minute' },
  { id: '24h', ms: 86_400_000, bucket: 'hour' },
  { id: '7d', ms: 7 * 86_400_000, bucket: 'hour' },
  { id: '30d', ms: 30 * 86_400_000, bucket: 'day' },
];

/** Navigates inside the app without reloading it. */
export function navigate(path: string): void {
  if (location.pathname + location.search === path) return;
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** A link inside the app: a real <a href> (open in new tab works), handled without a reload. */
export function Link(props: { href: string; class?: string; current?: boolean; children: ComponentChildren }): preact.JSX.Element {
  return (
    <a
      href={props.href}
      class={props.class}
      aria-current={props.current ? 'page' : undefined}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

/**
 * An uncontrolled <select> for forms read on submit: the initial choice is marked on its option
 * (a select's defaultValue is not applied by Preact).
 */
export function Choice(props: { name: string; initial: string; options: readonly { value: string; label: string }[] }): preact.JSX.Element {
  return (
    <select name={props.name}>
      {props.options.map((option) => (
        <option key={option.value} value={option.value} selected={option.value === props.initial}>
          {option.label}
        </option>
      ))}
    </select>
  );
}
