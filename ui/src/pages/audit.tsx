import { useState } from 'preact/hooks';
import { get, query, type List } from '../api';
import { PageTitle, Status, useLoad } from '../common';
import { useTexts } from '../i18n';

interface AuditEntry {
  seq: number;
  ts: number;
  time?: string;
  kind: string;
  actor: string | null;
  team_id: string | null;
  subject: string | null;
  data: Record<string, unknown>;
  hash: string;
}

/** The chain check's answer: whether every entry links to the one before, and where it broke. */
interface Verification {
  status: 'ok' | 'broken';
  broken_at: number | null;
  reason: string | null;
  entries: number;
  checkpoints: number;
  signatures?: unknown;
  last_checkpoint: { seq: number; time: string; signed: boolean } | null;
}

const PAGE = 50;

export function Audit(): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const verify = useLoad(() => get<Verification>('/admin/audit/verify'), []);
  const first = useLoad(() => get<List<AuditEntry>>(`/admin/audit${query({ limit: PAGE })}`), []);
  const [more, setMore] = useState<{ rows: AuditEntry[]; cursor: string | null | undefined; error: unknown }>({ rows: [], cursor: undefined, error: null });
  const cursor = more.cursor === undefined ? (first.data?.next_cursor ?? null) : more.cursor;
  const rows = [...(first.data?.data ?? []), ...more.rows];

  const loadMore = async (): Promise<void> => {
    try {
      const page = await get<List<AuditEntry>>(`/admin/audit${query({ limit: PAGE, cursor })}`);
      setMore((state) => ({ rows: [...state.rows, ...page.data], cursor: page.next_cursor ?? null, error: null }));
    } catch (error) {
      setMore((state) => ({ ...state, error }));
    }
  };

  const check = verify.data;
  const intact = check === undefined ? undefined : check.status === 'ok';
  const details =
    check === undefined
      ? ''
      : [
          t('audit.entries', { n: texts.number(check.entries, 0) }),
          t('audit.checkpoints', { n: texts.number(check.checkpoints, 0) }),
          check.last_checkpoint ? t('audit.last_checkpoint', { seq: check.last_checkpoint.seq, time: texts.dateTime(check.last_checkpoint.time) }) : null,
          check.broken_at !== null ? t('audit.broken_at', { seq: check.broken_at, reason: check.reason ?? '' }) : null,
        ]
          .filter((part) => part !== null)
          .join(' · ');

  return (
    <>
      <PageTitle text="nav.audit">
        <button
          type="button"
          class="secondary"
          onClick={() => {
            verify.reload();
            first.reload();
            setMore({ rows: [], cursor: undefined, error: null });
          }}
        >
          {t('common.refresh')}
        </button>
      </PageTitle>
      <section aria-labelledby="chain-heading" class="card">
        <h2 id="chain-heading">{t('audit.chain')}</h2>
        <Status error={verify.error} loading={verify.loading && verify.data === undefined} />
        {intact === undefined ? null : (
          <p data-testid="chain-status">
            <strong class={intact ? 'ok' : 'bad'}>{intact ? t('audit.intact') : t('audit.broken')}</strong> <span class="muted">{details}</span>
          </p>
        )}
      </section>
      <Status error={first.error ?? more.error} loading={first.loading && first.data === undefined} />
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">{t('nav.audit')}</caption>
          <thead>
            <tr>
              <th scope="col" class="num">#</th>
              <th scope="col">{t('requests.time')}</th>
              <th scope="col">{t('audit.kind')}</th>
              <th scope="col">{t('audit.actor')}</th>
              <th scope="col">{t('audit.subject')}</th>
              <th scope="col">{t('audit.details')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && first.data ? (
              <tr>
                <td colSpan={6} class="muted">{t('common.none')}</td>
              </tr>
            ) : null}
            {rows.map((entry) => (
              <tr key={entry.seq}>
                <th scope="row" class="num">{entry.seq}</th>
                <td>{texts.dateTime(entry.time ?? entry.ts)}</td>
                <td>{entry.kind}</td>
                <td>{entry.actor ?? '–'}</td>
                <td class="mono">{entry.subject ?? '–'}</td>
                <td class="mono small">{JSON.stringify(entry.data)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cursor !== null && first.data ? (
        <button type="button" class="secondary" onClick={loadMore}>
          {t('requests.load_more')}
        </button>
      ) : null}
    </>
  );
}
