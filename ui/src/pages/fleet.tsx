import { useEffect } from 'preact/hooks';
import { get } from '../api';
import { PageTitle, Status, useLoad } from '../common';
import { useTexts } from '../i18n';

/** One self-hosted inference server as GET /admin/fleet shows it. */
export interface FleetServer {
  backend: string;
  engine: string;
  detected_engine: string | null;
  deployments: { name: string; alias: string; picks: number }[];
  waiting: number | null;
  running: number | null;
  kv_cache_usage: number | null;
  prefix_cache_hit_rate: number | null;
  last_scrape_age_ms: number | null;
  stale: boolean;
  error: string | null;
  gateway_in_flight: number;
  gateway_prefill_tokens: number;
  picks: number;
  share: number;
}

export interface FleetList {
  object: 'list';
  window_ms: number | null;
  data: FleetServer[];
}

const REFRESH_MS = 5_000;

export const loadFleet = (): Promise<FleetList> => get<FleetList>('/admin/fleet');

export function Fleet(): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const fleet = useLoad(loadFleet, []);
  useEffect(() => {
    // A live view: read again every few seconds while the page is open and visible.
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') fleet.reload();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [fleet.reload]);
  const servers = fleet.data?.data ?? [];
  const share = (value: number | null, label: string): preact.JSX.Element | string =>
    value === null ? '–' : (
      <>
        <meter min={0} max={1} value={value} aria-label={label} /> {texts.percent(value)}
      </>
    );

  return (
    <>
      <PageTitle text="nav.fleet" />
      <p class="muted">
        {t('fleet.refresh_note', { seconds: REFRESH_MS / 1000 })}
        {fleet.data?.window_ms ? ` ${t('fleet.window', { minutes: texts.number(fleet.data.window_ms / 60_000, 1) })}` : ''}
      </p>
      <Status error={fleet.error} loading={fleet.loading && fleet.data === undefined} />
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">{t('nav.fleet')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('fleet.server')}</th>
              <th scope="col">{t('fleet.engine')}</th>
              <th scope="col">{t('group.deployment')}</th>
              <th scope="col" class="num">{t('fleet.waiting')}</th>
              <th scope="col" class="num">{t('fleet.running')}</th>
              <th scope="col" class="num">{t('models.in_flight')}</th>
              <th scope="col" class="num">{t('fleet.prefill')}</th>
              <th scope="col">{t('fleet.kv')}</th>
              <th scope="col">{t('fleet.prefix_hits')}</th>
              <th scope="col">{t('fleet.traffic')}</th>
              <th scope="col">{t('fleet.scraped')}</th>
            </tr>
          </thead>
          <tbody>
            {servers.length === 0 && fleet.data ? (
              <tr>
                <td colSpan={11} class="muted">{t('common.none')}</td>
              </tr>
            ) : null}
            {servers.map((server) => (
              <tr key={server.backend}>
                <th scope="row" class="mono">{server.backend}</th>
                <td>{server.detected_engine ?? server.engine}</td>
                <td>{server.deployments.map((deployment) => `${deployment.name} (${deployment.alias})`).join(', ')}</td>
                <td class="num">{texts.number(server.waiting, 0)}</td>
                <td class="num">{texts.number(server.running, 0)}</td>
                <td class="num">{texts.number(server.gateway_in_flight, 0)}</td>
                <td class="num">{texts.number(server.gateway_prefill_tokens, 0)}</td>
                <td>{share(server.kv_cache_usage, t('fleet.kv_of', { name: server.backend }))}</td>
                <td>{texts.percent(server.prefix_cache_hit_rate)}</td>
                <td>{share(server.share, t('fleet.traffic_of', { name: server.backend }))}</td>
                <td>
                  {server.last_scrape_age_ms === null ? t('fleet.never') : t('fleet.age', { seconds: texts.number(server.last_scrape_age_ms / 1000, 1) })}
                  {server.stale ? <span class="bad"> {t('fleet.stale')}</span> : null}
                  {server.error ? <span class="muted"> {server.error}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
