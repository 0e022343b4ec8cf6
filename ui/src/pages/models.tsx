import { get } from '../api';
import { PageTitle, Status, useLoad } from '../common';
import { useTexts, type MessageKey } from '../i18n';

interface Deployment {
  name: string;
  provider: string;
  model: string;
  kind: string;
  region: string | null;
  price: Record<string, unknown> | null;
  hardware: Record<string, unknown> | null;
  state: { available: boolean; circuit: 'closed' | 'open' | 'half-open'; in_flight: number; cooldown_until: string | null };
  traffic_share: number;
}

interface Alias {
  alias: string;
  strategy: string;
  fallbacks: string[];
  deployments: Deployment[];
}

/** A small object (price, hardware) as "name: value" pairs. */
function pairs(value: Record<string, unknown> | null, format: (name: string, value: unknown) => string): string {
  if (value === null) return '–';
  return Object.entries(value)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([name, v]) => format(name, v))
    .join(', ');
}

export function Models(): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const models = useLoad(() => get<{ data: Alias[] }>('/admin/models'), []);
  const PRICE_NAMES: Record<string, MessageKey> = { input_per_1m: 'models.price_in', output_per_1m: 'models.price_out', cached_input_per_1m: 'models.price_cached' };
  const price = (name: string, value: unknown): string => {
    const label = PRICE_NAMES[name];
    if (label !== undefined && typeof value === 'number') return `${t(label)} ${texts.usd(value)}`;
    if (name === 'source') return t('models.price_source', { source: String(value) });
    return `${name.replace(/_/g, ' ')} ${typeof value === 'string' ? value : JSON.stringify(value)}`;
  };
  const hardware = (name: string, value: unknown): string =>
    `${name.replace(/_/g, ' ')} ${typeof value === 'number' ? texts.number(value) : typeof value === 'string' ? value : JSON.stringify(value)}`;

  return (
    <>
      <PageTitle text="nav.models">
        <button type="button" class="secondary" onClick={models.reload}>
          {t('common.refresh')}
        </button>
      </PageTitle>
      <Status error={models.error} loading={models.loading && models.data === undefined} />
      {models.data?.data.length === 0 ? <p class="muted">{t('common.none')}</p> : null}
      {models.data?.data.map((alias) => (
        <section key={alias.alias} aria-labelledby={`alias-${alias.alias}`} class="card">
          <h2 id={`alias-${alias.alias}`}>{alias.alias}</h2>
          <p>
            {t('models.strategy')}: <strong>{alias.strategy}</strong>
            {alias.fallbacks.length > 0 ? ` · ${t('models.fallbacks')}: ${alias.fallbacks.join(' → ')}` : ''}
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('models.deployment')}</th>
                  <th scope="col">{t('models.provider')}</th>
                  <th scope="col">{t('models.region')}</th>
                  <th scope="col">{t('models.health')}</th>
                  <th scope="col">{t('models.circuit')}</th>
                  <th scope="col" class="num">{t('models.in_flight')}</th>
                  <th scope="col">{t('models.traffic')}</th>
                  <th scope="col">{t('models.price')}</th>
                  <th scope="col">{t('models.hardware')}</th>
                </tr>
              </thead>
              <tbody>
                {alias.deployments.map((deployment) => (
                  <tr key={deployment.name}>
                    <th scope="row">{deployment.name}</th>
                    <td>
                      {deployment.provider} <span class="muted">{deployment.model}</span> <span class="muted">({deployment.kind})</span>
                    </td>
                    <td>{deployment.region ?? '–'}</td>
                    <td>
                      <span class={deployment.state.available ? 'ok' : 'bad'}>{deployment.state.available ? t('models.available') : t('models.unavailable')}</span>
                      {deployment.state.cooldown_until ? ` ${t('models.cooldown', { until: texts.dateTime(deployment.state.cooldown_until) })}` : ''}
                    </td>
                    <td>
                      <span class={deployment.state.circuit === 'closed' ? 'ok' : 'bad'}>{t(`circuit.${deployment.state.circuit}` as MessageKey)}</span>
                    </td>
                    <td class="num">{texts.number(deployment.state.in_flight, 0)}</td>
                    <td>
                      <meter min={0} max={1} value={deployment.traffic_share} aria-label={t('models.traffic_of', { name: deployment.name })} /> {texts.percent(deployment.traffic_share)}
                    </td>
                    <td>{pairs(deployment.price, price)}</td>
                    <td>{pairs(deployment.hardware, hardware)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </>
  );
}
