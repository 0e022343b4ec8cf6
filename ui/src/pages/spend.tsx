import { useState } from 'preact/hooks';
import { get, query, type List } from '../api';
import { Field, PageTitle, Status, useLoad } from '../common';
import { useTexts, type MessageKey } from '../i18n';
import { loadDirectory, type Directory } from '../names';

type GroupBy = 'team' | 'key' | 'alias' | 'deployment' | 'day';
const GROUPS: readonly GroupBy[] = ['team', 'key', 'alias', 'deployment', 'day'];

interface UsageRow {
  [group: string]: unknown;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  spend_usd: number;
  energy_wh: number;
  co2e_g: number;
  estimated_requests: number;
}

interface Budget {
  scope: 'key' | 'team';
  id: string;
  name: string | null;
  budget_usd: number | null;
  budget_period: string;
  spent_usd: number;
  period_start: string;
}

const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

export function Spend(): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const now = new Date();
  const [groupBy, setGroupBy] = useState<GroupBy>('team');
  const [from, setFrom] = useState(isoDay(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))));
  const [to, setTo] = useState(isoDay(now));
  const params = { group_by: groupBy, from: from === '' ? null : `${from}T00:00:00Z`, to: to === '' ? null : `${to}T23:59:59.999Z` };
  const usage = useLoad(() => get<List<UsageRow>>(`/admin/usage${query(params)}`), [groupBy, from, to]);
  const directory = useLoad(loadDirectory, []);
  const budgets = useLoad(() => get<List<Budget>>('/admin/budgets'), []);

  const label = (row: UsageRow): string => {
    const value = row[groupBy];
    const text = value == null ? '' : String(value);
    if (groupBy === 'key') return directory.data?.keyName(text) ?? text;
    if (groupBy === 'team') return value == null ? t('spend.no_team') : (directory.data?.teamName(text) ?? text);
    if (groupBy === 'day') return texts.date(text);
    return text === '' ? '–' : text;
  };
  const rows = usage.data?.data ?? [];
  const total = rows.reduce((sum, row) => sum + row.spend_usd, 0);

  return (
    <>
      <PageTitle text="nav.spend" />
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <Field label={t('spend.group_by')}>
          <select value={groupBy} onChange={(event) => setGroupBy(event.currentTarget.value as GroupBy)}>
            {GROUPS.map((group) => (
              <option key={group} value={group}>
                {t(`group.${group}` as MessageKey)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('common.from')}>
          <input type="date" value={from} onChange={(event) => setFrom(event.currentTarget.value)} />
        </Field>
        <Field label={t('common.to')}>
          <input type="date" value={to} onChange={(event) => setTo(event.currentTarget.value)} />
        </Field>
        <a class="button secondary" href={`/admin/usage${query({ ...params, format: 'csv' })}`} download={`stellwerk-usage-${groupBy}.csv`}>
          {t('spend.csv')}
        </a>
      </form>
      <Status error={usage.error} loading={usage.loading && usage.data === undefined} />
      <section aria-labelledby="usage-heading">
        <h2 id="usage-heading">{t('spend.usage_heading', { group: t(`group.${groupBy}` as MessageKey) })}</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t(`group.${groupBy}` as MessageKey)}</th>
                <th scope="col" class="num">{t('spend.requests')}</th>
                <th scope="col" class="num">{t('spend.prompt_tokens')}</th>
                <th scope="col" class="num">{t('spend.completion_tokens')}</th>
                <th scope="col" class="num">{t('spend.spend')}</th>
                <th scope="col" class="num">{t('spend.energy')}</th>
                <th scope="col" class="num">{t('spend.co2')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 ? (
                <tr>
                  <td colSpan={7} class="muted">{t('common.none')}</td>
                </tr>
              ) : (
                rows.map((row, index) => (
                  <tr key={index}>
                    <th scope="row">{label(row)}</th>
                    <td class="num">{texts.number(row.requests, 0)}</td>
                    <td class="num">{texts.number(row.prompt_tokens, 0)}</td>
                    <td class="num">{texts.number(row.completion_tokens, 0)}</td>
                    <td class="num">{texts.usd(row.spend_usd)}</td>
                    <td class="num">{texts.number(row.energy_wh, 3)} Wh</td>
                    <td class="num">{texts.number(row.co2e_g, 3)} g</td>
                  </tr>
                ))
              )}
            </tbody>
            {rows.length > 0 ? (
              <tfoot>
                <tr>
                  <th scope="row">{t('common.total')}</th>
                  <td class="num">{texts.number(rows.reduce((sum, row) => sum + row.requests, 0), 0)}</td>
                  <td />
                  <td />
                  <td class="num">{texts.usd(total)}</td>
                  <td class="num">{texts.number(rows.reduce((sum, row) => sum + row.energy_wh, 0), 3)} Wh</td>
                  <td class="num">{texts.number(rows.reduce((sum, row) => sum + row.co2e_g, 0), 3)} g</td>
                </tr>
              </tfoot>
            ) : null}
          </table>
        </div>
      </section>
      <Budgets budgets={budgets.data?.data} error={budgets.error} directory={directory.data} />
    </>
  );
}

function Budgets(props: { budgets: Budget[] | undefined; error: unknown; directory: Directory | undefined }): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const withBudget = (props.budgets ?? []).filter((budget) => budget.budget_usd !== null);
  return (
    <section aria-labelledby="budgets-heading">
      <h2 id="budgets-heading">{t('spend.budgets')}</h2>
      <Status error={props.error} />
      {props.budgets !== undefined && withBudget.length === 0 ? <p class="muted">{t('spend.no_budgets')}</p> : null}
      <ul class="budgets">
        {withBudget.map((budget) => {
          const limit = budget.budget_usd ?? 0;
          const share = limit === 0 ? 1 : budget.spent_usd / limit;
          const name = budget.name ?? (budget.scope === 'key' ? props.directory?.keyName(budget.id) : props.directory?.teamName(budget.id)) ?? budget.id;
          const id = `budget-${budget.scope}-${budget.id}`;
          return (
            <li key={id}>
              <span id={id}>
                {t(`scope.${budget.scope}` as MessageKey)} <strong>{name}</strong>
              </span>
              <meter aria-labelledby={id} min={0} max={limit} low={limit * 0.8} high={limit * 0.95} optimum={0} value={Math.min(budget.spent_usd, limit)} />
              <span class={share >= 1 ? 'over' : ''}>
                {t('spend.budget_use', {
                  spent: texts.usd(budget.spent_usd),
                  limit: texts.usd(limit),
                  share: texts.percent(share),
                  period: t(`period.${budget.budget_period}` as MessageKey),
                  since: texts.date(budget.period_start),
                })}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
