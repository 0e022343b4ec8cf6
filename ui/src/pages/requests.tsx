import { useState } from 'preact/hooks';
import { ApiError, get, query, type List } from '../api';
import { Field, Link, PageTitle, Status, useLoad } from '../common';
import { useTexts, type Texts } from '../i18n';
import { loadDirectory, type Directory } from '../names';

/** A logged request as /admin/requests lists it (fields beyond these are shown in the detail). */
export interface RequestRow {
  id: string;
  /** When the request arrived (ISO 8601). */
  created_at?: string;
  ts?: string | number;
  key_id: string | null;
  team_id: string | null;
  alias: string | null;
  deployment: string | null;
  endpoint?: string;
  status: number;
  stream?: boolean;
  prompt_tokens?: number;
  completion_tokens?: number;
  cost_usd?: number | null;
  cost_nanos?: number | null;
  latency_ms?: number | null;
  ttft_ms?: number | null;
  error_code?: string | null;
  energy_wh?: number | null;
  co2e_g?: number | null;
  co2e_ug?: number | null;
  region?: string | null;
}

interface Attempt {
  [field: string]: unknown;
}

interface RequestDetail extends RequestRow {
  attempts?: Attempt[];
  pii_types?: Record<string, number> | string[] | null;
}

const FILTERS = ['key', 'team', 'alias', 'deployment', 'status'] as const;
type Filters = Record<(typeof FILTERS)[number] | 'from' | 'to', string>;
const EMPTY: Filters = { from: '', to: '', key: '', team: '', alias: '', deployment: '', status: '' };
const PAGE = 50;

const arrived = (row: RequestRow): string | number | null => row.created_at ?? row.ts ?? null;

export function cost(row: RequestRow): number | null {
  if (typeof row.cost_usd === 'number') return row.cost_usd;
  if (typeof row.cost_nanos === 'number') return row.cost_nanos / 1e9;
  return null;
}

function co2(row: RequestRow): number | null {
  if (typeof row.co2e_g === 'number') return row.co2e_g;
  if (typeof row.co2e_ug === 'number') return row.co2e_ug / 1e6;
  return null;
}

export function Requests(props: { id: string | null }): preact.JSX.Element {
  return props.id === null ? <RequestList /> : <RequestView id={props.id} />;
}

function RequestList(): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [more, setMore] = useState<{ rows: RequestRow[]; cursor: string | null; error: unknown; busy: boolean }>({ rows: [], cursor: null, error: null, busy: false });
  const directory = useLoad(loadDirectory, []);

  const params = (cursor: string | null): string =>
    query({
      from: filters.from === '' ? null : new Date(filters.from).toISOString(),
      to: filters.to === '' ? null : new Date(filters.to).toISOString(),
      key: filters.key,
      team: filters.team,
      alias: filters.alias,
      deployment: filters.deployment,
      status: filters.status,
      cursor,
      limit: PAGE,
    });
  const first = useLoad(async () => {
    const page = await get<List<RequestRow>>(`/admin/requests${params(null)}`);
    setMore({ rows: [], cursor: page.next_cursor ?? null, error: null, busy: false });
    return page;
  }, [filters]);

  const loadMore = async (): Promise<void> => {
    if (more.cursor === null) return;
    setMore((state) => ({ ...state, busy: true }));
    try {
      const page = await get<List<RequestRow>>(`/admin/requests${params(more.cursor)}`);
      setMore((state) => ({ rows: [...state.rows, ...page.data], cursor: page.next_cursor ?? null, error: null, busy: false }));
    } catch (error) {
      setMore((state) => ({ ...state, error, busy: false }));
    }
  };

  const rows = [...(first.data?.data ?? []), ...more.rows];
  const set = (name: keyof Filters) => (event: Event) => setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value });

  return (
    <>
      <PageTitle text="nav.requests">
        <button type="button" class="secondary" onClick={first.reload}>
          {t('common.refresh')}
        </button>
      </PageTitle>
      <form
        class="filters"
        aria-label={t('requests.filters')}
        onSubmit={(event) => {
          event.preventDefault();
          setFilters(draft);
        }}
      >
        <Field label={t('common.from')}>
          <input type="datetime-local" value={draft.from} onChange={set('from')} />
        </Field>
        <Field label={t('common.to')}>
          <input type="datetime-local" value={draft.to} onChange={set('to')} />
        </Field>
        <Field label={t('group.key')}>
          <select value={draft.key} onChange={set('key')}>
            <option value="">{t('common.any')}</option>
            {directory.data?.keys.map((key) => (
              <option key={key.id} value={key.id}>
                {directory.data!.keyName(key.id)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('group.team')}>
          <select value={draft.team} onChange={set('team')}>
            <option value="">{t('common.any')}</option>
            {directory.data?.teams.map((team) => (
              <option key={team.id} value={team.id}>
                {team.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('group.alias')}>
          <input value={draft.alias} onInput={set('alias')} />
        </Field>
        <Field label={t('group.deployment')}>
          <input value={draft.deployment} onInput={set('deployment')} />
        </Field>
        <Field label={t('requests.status')} hint={t('requests.status_hint')}>
          <input value={draft.status} onInput={set('status')} inputMode="numeric" size={6} />
        </Field>
        <div class="buttons">
          <button type="submit">{t('common.apply')}</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            {t('common.reset')}
          </button>
        </div>
      </form>
      <Status error={first.error ?? more.error} loading={first.loading && first.data === undefined} />
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">{t('nav.requests')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('requests.time')}</th>
              <th scope="col">{t('group.key')}</th>
              <th scope="col">{t('group.team')}</th>
              <th scope="col">{t('group.alias')}</th>
              <th scope="col">{t('group.deployment')}</th>
              <th scope="col" class="num">{t('requests.status')}</th>
              <th scope="col" class="num">{t('requests.latency')}</th>
              <th scope="col" class="num">{t('requests.tokens')}</th>
              <th scope="col" class="num">{t('requests.cost')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && first.data ? (
              <tr>
                <td colSpan={9} class="muted">{t('common.none')}</td>
              </tr>
            ) : null}
            {rows.map((row) => (
              <tr key={row.id} data-request-id={row.id}>
                <th scope="row">
                  <Link href={`/ui/requests/${encodeURIComponent(row.id)}`}>{texts.dateTime(arrived(row))}</Link>
                </th>
                <td>{directory.data?.keyName(row.key_id) ?? row.key_id ?? '–'}</td>
                <td>{directory.data?.teamName(row.team_id) ?? row.team_id ?? '–'}</td>
                <td>{row.alias ?? '–'}</td>
                <td>{row.deployment ?? '–'}</td>
                <td class={`num ${row.status >= 400 ? 'bad' : ''}`}>
                  {row.status}
                  {row.error_code ? <span class="muted"> {row.error_code}</span> : null}
                </td>
                <td class="num">{texts.ms(row.latency_ms)}</td>
                <td class="num">{texts.number((row.prompt_tokens ?? 0) + (row.completion_tokens ?? 0), 0)}</td>
                <td class="num">{texts.usd(cost(row))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {more.cursor !== null ? (
        <button type="button" class="secondary" onClick={loadMore} disabled={more.busy}>
          {t('requests.load_more')}
        </button>
      ) : null}
    </>
  );
}

function RequestView(props: { id: string }): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const detail = useLoad(() => get<RequestDetail>(`/admin/requests/${encodeURIComponent(props.id)}`), [props.id]);
  const directory = useLoad(loadDirectory, []);
  const [body, setBody] = useState<{ text: string | null; error: unknown }>({ text: null, error: null });
  const row = detail.data;

  const loadBody = async (): Promise<void> => {
    try {
      const value = await get<unknown>(`/admin/requests/${encodeURIComponent(props.id)}/body`);
      setBody({ text: JSON.stringify(value, null, 2), error: null });
    } catch (error) {
      setBody({ text: null, error: error instanceof ApiError && error.status === 404 ? new Error(t('requests.no_body')) : error });
    }
  };

  return (
    <>
      <PageTitle text="requests.detail">
        <Link href="/ui/requests" class="button secondary">
          {t('requests.back')}
        </Link>
      </PageTitle>
      <Status error={detail.error} loading={detail.loading && row === undefined} />
      {row ? (
        <>
          <section aria-labelledby="request-summary">
            <h2 id="request-summary" class="mono">
              {row.id}
            </h2>
            <Facts row={row} texts={texts} directory={directory.data} />
          </section>
          <section aria-labelledby="attempts-heading">
            <h2 id="attempts-heading">{t('requests.attempts')}</h2>
            <Attempts attempts={row.attempts ?? []} texts={texts} />
          </section>
          <section aria-labelledby="pii-heading">
            <h2 id="pii-heading">{t('requests.pii')}</h2>
            <p>{piiText(row.pii_types, texts)}</p>
          </section>
          <section aria-labelledby="body-heading">
            <h2 id="body-heading">{t('requests.body')}</h2>
            <Status error={body.error} />
            {body.text === null ? (
              <button type="button" class="secondary" onClick={loadBody}>
                {t('requests.show_body')}
              </button>
            ) : (
              <pre class="body" tabIndex={0}>
                {body.text}
              </pre>
            )}
          </section>
        </>
      ) : null}
    </>
  );
}

function Facts(props: { row: RequestDetail; texts: Texts; directory: Directory | undefined }): preact.JSX.Element {
  const { row, texts } = props;
  const { t } = texts;
  const facts: [string, string][] = [
    [t('requests.time'), texts.dateTime(arrived(row))],
    [t('group.key'), props.directory?.keyName(row.key_id) ?? row.key_id ?? '–'],
    [t('group.team'), props.directory?.teamName(row.team_id) ?? row.team_id ?? '–'],
    [t('group.alias'), row.alias ?? '–'],
    [t('group.deployment'), row.deployment ?? '–'],
    [t('requests.endpoint'), row.endpoint ?? '–'],
    [t('requests.status'), `${row.status}${row.error_code ? ` (${row.error_code})` : ''}`],
    [t('requests.stream'), row.stream ? t('common.yes') : t('common.no')],
    [t('requests.latency'), texts.ms(row.latency_ms)],
    [t('requests.ttft'), texts.ms(row.ttft_ms)],
    [t('spend.prompt_tokens'), texts.number(row.prompt_tokens ?? null, 0)],
    [t('spend.completion_tokens'), texts.number(row.completion_tokens ?? null, 0)],
    [t('requests.cost'), texts.usd(cost(row))],
    [t('spend.energy'), row.energy_wh == null ? '–' : `${texts.number(row.energy_wh, 4)} Wh`],
    [t('spend.co2'), co2(row) === null ? '–' : `${texts.number(co2(row), 4)} g`],
    [t('models.region'), row.region ?? '–'],
  ];
  return (
    <dl class="facts">
      {facts.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Attempts are shown with whatever fields the gateway records for them; times and costs are formatted. */
function Attempts(props: { attempts: Attempt[]; texts: Texts }): preact.JSX.Element {
  const { texts } = props;
  if (props.attempts.length === 0) return <p class="muted">{texts.t('common.none')}</p>;
  const columns = [...new Set(props.attempts.flatMap((attempt) => Object.keys(attempt)))].filter((name) => name !== 'request_id');
  const show = (name: string, value: unknown): string => {
    if (value === null || value === undefined) return '–';
    if (typeof value === 'number') {
      if (name.endsWith('_ms')) return texts.ms(value);
      if (name.endsWith('_usd')) return texts.usd(value);
      if (name === 'ts' || name.endsWith('_at')) return texts.dateTime(value);
      return texts.number(value, 4);
    }
    if (typeof value === 'string') return name === 'ts' || name.endsWith('_at') ? texts.dateTime(value) : value;
    return JSON.stringify(value);
  };
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {columns.map((name) => (
              <th scope="col" key={name}>
                {name.replace(/_/g, ' ')}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.attempts.map((attempt, index) => (
            <tr key={index}>
              {columns.map((name) => (
                <td key={name}>{show(name, attempt[name])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function piiText(types: RequestDetail['pii_types'], texts: Texts): string {
  if (types == null) return texts.t('requests.pii_not_scanned');
  const entries = Array.isArray(types) ? types.map((type) => [type, null] as const) : Object.entries(types);
  if (entries.length === 0) return texts.t('requests.pii_none');
  return entries.map(([type, count]) => (count === null ? type : `${type} × ${texts.number(count, 0)}`)).join(', ');
}
