import { useMemo, useState } from 'preact/hooks';
import { get, query } from '../api';
import { Chart, type Series } from '../chart';
import { PageTitle, RANGES, Status, useLoad, type Range } from '../common';
import { useTexts } from '../i18n';

interface Bucket {
  ts: string;
  requests: number;
  errors: number;
  rps: number;
  error_rate: number;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p99_ms: number | null;
  cost_usd: number;
  energy_wh: number;
  co2e_g: number;
}

export interface Stats {
  buckets: Bucket[];
  totals: { requests: number; errors: number; cost_usd: number; energy_wh: number; co2e_g: number; spend_today_usd: number; spend_month_usd: number };
}

/** A percentile over the whole range, approximated by the request-weighted mean of the buckets' percentiles. */
function weighted(buckets: readonly Bucket[], pick: (bucket: Bucket) => number | null): number | null {
  let sum = 0;
  let weight = 0;
  for (const bucket of buckets) {
    const value = pick(bucket);
    if (value === null || bucket.requests === 0) continue;
    sum += value * bucket.requests;
    weight += bucket.requests;
  }
  return weight === 0 ? null : sum / weight;
}

function worst(buckets: readonly Bucket[], pick: (bucket: Bucket) => number | null): number | null {
  let max: number | null = null;
  for (const bucket of buckets) {
    const value = pick(bucket);
    if (value !== null && (max === null || value > max)) max = value;
  }
  return max;
}

export function Overview(): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const [range, setRange] = useState<Range>(RANGES[1]!);
  const stats = useLoad(() => {
    const to = new Date();
    const from = new Date(to.getTime() - range.ms);
    return get<Stats>(`/admin/stats${query({ from: from.toISOString(), to: to.toISOString(), bucket: range.bucket })}`);
  }, [range]);

  const data = stats.data;
  const charts = useMemo(() => {
    if (data === undefined) return null;
    const times = data.buckets.map((bucket) => Date.parse(bucket.ts));
    const pick = (f: (bucket: Bucket) => number | null): (number | null)[] => data.buckets.map(f);
    return {
      times,
      traffic: [{ label: t('overview.rps'), values: pick((b) => b.rps), color: '#1d4ed8' }] as Series[],
      errors: [{ label: t('overview.error_rate'), values: pick((b) => b.error_rate), color: '#b91c1c' }] as Series[],
      latency: [
        { label: t('overview.latency_p50'), values: pick((b) => b.latency_p50_ms), color: '#1d4ed8' },
        { label: t('overview.latency_p99'), values: pick((b) => b.latency_p99_ms), color: '#7c3aed' },
        { label: t('overview.ttft_p50'), values: pick((b) => b.ttft_p50_ms), color: '#047857' },
        { label: t('overview.ttft_p99'), values: pick((b) => b.ttft_p99_ms), color: '#b45309' },
      ] as Series[],
      cost: [{ label: t('overview.cost'), values: pick((b) => b.cost_usd), color: '#0f766e' }] as Series[],
      energy: [{ label: t('overview.energy'), values: pick((b) => b.energy_wh), color: '#a16207' }] as Series[],
      co2: [{ label: t('overview.co2'), values: pick((b) => b.co2e_g), color: '#4b5563' }] as Series[],
    };
  }, [data, t]);

  const totals = data?.totals;
  const seconds = range.ms / 1000;
  return (
    <>
      <PageTitle text="nav.overview">
        <fieldset class="segmented">
          <legend>{t('overview.range')}</legend>
          {RANGES.map((option) => (
            <label key={option.id}>
              <input type="radio" name="range" value={option.id} checked={option.id === range.id} onChange={() => setRange(option)} />
              <span>{t(`range.${option.id}`)}</span>
            </label>
          ))}
        </fieldset>
      </PageTitle>
      <Status error={stats.error} loading={stats.loading && data === undefined} />
      {totals && data ? (
        <section aria-labelledby="kpi-heading">
          <h2 id="kpi-heading" class="visually-hidden">
            {t('overview.figures')}
          </h2>
          <dl class="kpis">
            <Kpi label={t('overview.requests')} value={texts.number(totals.requests, 0)} />
            <Kpi label={t('overview.rps')} value={texts.number(totals.requests / seconds, 3)} />
            <Kpi label={t('overview.error_rate')} value={texts.percent(totals.requests === 0 ? 0 : totals.errors / totals.requests)} />
            <Kpi label={t('overview.latency_p50')} value={texts.ms(weighted(data.buckets, (b) => b.latency_p50_ms))} />
            <Kpi label={t('overview.latency_p99')} value={texts.ms(worst(data.buckets, (b) => b.latency_p99_ms))} />
            <Kpi label={t('overview.ttft_p50')} value={texts.ms(weighted(data.buckets, (b) => b.ttft_p50_ms))} />
            <Kpi label={t('overview.ttft_p99')} value={texts.ms(worst(data.buckets, (b) => b.ttft_p99_ms))} />
            <Kpi label={t('overview.spend_today')} value={texts.usd(totals.spend_today_usd)} testId="spend-today" />
            <Kpi label={t('overview.spend_month')} value={texts.usd(totals.spend_month_usd)} testId="spend-month" />
            <Kpi label={t('overview.cost_range')} value={texts.usd(totals.cost_usd)} />
            <Kpi label={t('overview.energy')} value={`${texts.number(totals.energy_wh, 3)} Wh`} />
            <Kpi label={t('overview.co2')} value={`${texts.number(totals.co2e_g, 3)} g`} />
          </dl>
          <p class="muted">{t('overview.percentile_note')}</p>
        </section>
      ) : null}
      {charts ? (
        <section aria-labelledby="charts-heading" class="charts">
          <h2 id="charts-heading">{t('overview.charts')}</h2>
          <Chart title={t('overview.rps')} floor={0.01} times={charts.times} series={charts.traffic} format={(v) => texts.number(v, 3)} />
          <Chart title={t('overview.error_rate')} floor={0.01} times={charts.times} series={charts.errors} format={texts.percent} />
          <Chart title={t('overview.latency')} floor={100} times={charts.times} series={charts.latency} format={texts.ms} />
          <Chart title={t('overview.cost')} floor={0.01} times={charts.times} series={charts.cost} format={texts.usd} />
          <Chart title={t('overview.energy')} floor={1} times={charts.times} series={charts.energy} format={(v) => (v === null ? '–' : `${texts.number(v, 3)} Wh`)} />
          <Chart title={t('overview.co2')} floor={1} times={charts.times} series={charts.co2} format={(v) => (v === null ? '–' : `${texts.number(v, 3)} g`)} />
        </section>
      ) : null}
    </>
  );
}

function Kpi(props: { label: string; value: string; testId?: string }): preact.JSX.Element {
  return (
    <div class="kpi">
      <dt>{props.label}</dt>
      <dd data-testid={props.testId}>{props.value}</dd>
    </div>
  );
}
