import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import de from './messages/de.json';
import en from './messages/en.json';

/**
 * Every text of the dashboard comes from messages/<lang>.json (the same keys in each; a test
 * keeps them equal). Numbers, money and times are formatted by Intl for the chosen language.
 */

export type MessageKey = keyof typeof en;
export type Lang = 'en' | 'de';
export const LANGS: readonly Lang[] = ['en', 'de'];

const CATALOGS: Record<Lang, Record<MessageKey, string>> = { en, de };
const STORAGE_KEY = 'stellwerk.lang';

/** The stored choice, else the browser's language when it is one we have, else English. */
export function initialLang(): Lang {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage may be blocked; the browser's language decides then.
  }
  if (stored === 'en' || stored === 'de') return stored;
  return navigator.language.toLowerCase().startsWith('de') ? 'de' : 'en';
}

/** Keeps the choice for the next visit (initialLang reads it). */
export function storeLang(lang: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not persisted: the choice holds for this page only.
  }
}

export interface Texts {
  readonly lang: Lang;
  /** The text for a key, with `{name}` placeholders filled from vars. */
  t(key: MessageKey, vars?: Record<string, string | number>): string;
  number(value: number | null | undefined, digits?: number): string;
  percent(value: number | null | undefined): string;
  usd(value: number | null | undefined): string;
  ms(value: number | null | undefined): string;
  dateTime(value: string | number | null | undefined): string;
  date(value: string | number | null | undefined): string;
}

export function texts(lang: Lang): Texts {
  const catalog = CATALOGS[lang];
  const locale = lang === 'de' ? 'de-DE' : 'en-US';
  const numbers = new Map<number, Intl.NumberFormat>();
  const numberFormat = (digits: number): Intl.NumberFormat => {
    let format = numbers.get(digits);
    if (format === undefined) {
      format = new Intl.NumberFormat(locale, { maximumFractionDigits: digits });
      numbers.set(digits, format);
    }
    return format;
  };
  const small = new Intl.NumberFormat(locale, { maximumSignificantDigits: 3 });
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 });
  // Small amounts (a single request costs fractions of a cent) keep more digits.
  const usd = new Intl.NumberFormat(locale, { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });
  const usdSmall = new Intl.NumberFormat(locale, { style: 'currency', currency: 'USD', maximumSignificantDigits: 3 });
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' });
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
  const dash = '–';
  const toDate = (value: string | number): Date => new Date(value);
  return {
    lang,
    t(key, vars) {
      const text = catalog[key] ?? key;
      if (vars === undefined) return text;
      return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
    },
    // Small fractions (a rate of 0.0004 requests/s, 0.002 Wh) keep their first significant digits.
    number: (value, digits = 2) =>
      value == null || !Number.isFinite(value) ? dash : value !== 0 && Math.abs(value) < 1 ? small.format(value) : numberFormat(digits).format(value),
    percent: (value) => (value == null || !Number.isFinite(value) ? dash : percent.format(value)),
    usd: (value) => (value == null || !Number.isFinite(value) ? dash : value !== 0 && Math.abs(value) < 1 ? usdSmall.format(value) : usd.format(value)),
    ms: (value) => (value == null || !Number.isFinite(value) ? dash : `${numberFormat(0).format(value)} ms`),
    dateTime: (value) => (value == null ? dash : dateTime.format(toDate(value))),
    date: (value) => (value == null ? dash : date.format(toDate(value))),
  };
}

export const TextsContext = createContext<Texts>(texts('en'));

export function useTexts(): Texts {
  return useContext(TextsContext);
}
