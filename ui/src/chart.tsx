import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useTexts } from './i18n';

export interface Series {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly color: string;
}

interface ChartProps {
  readonly title: string;
  /** Bucket start times, epoch milliseconds. */
  readonly times: readonly number[];
  readonly series: readonly Series[];
  readonly format: (value: number | null) => string;
  /** The least top of the y axis, so that an empty or flat series does not look like a large one. */
  readonly floor: number;
}

/**
 * A time-series chart (uPlot, drawn on a canvas) inside a figure whose caption summarises it in
 * words; the same numbers are in a table behind "Show as table", for screen readers and for
 * reading exact values.
 */
export function Chart(props: ChartProps): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    // Axis ticks in the page's language: times of day within two days, dates beyond.
    const span = (props.times[props.times.length - 1] ?? 0) - (props.times[0] ?? 0);
    const tick = new Intl.DateTimeFormat(texts.lang === 'de' ? 'de-DE' : 'en-US', span > 2 * 86_400_000 ? { day: 'numeric', month: 'short' } : { hour: '2-digit', minute: '2-digit' });
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 240),
      height: 220,
      series: [
        { label: t('chart.time'), value: (_u, value) => (value == null ? '–' : texts.dateTime(value * 1000)) },
        ...props.series.map((series) => ({ label: series.label, stroke: series.color, width: 2, value: (_u: uPlot, value: number | null) => props.format(value) })),
      ],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(max ?? 0, props.floor) * 1.05] } },
      axes: [{ values: (_u, ticks) => ticks.map((seconds) => tick.format(seconds * 1000)) }, { values: (_u, ticks) => ticks.map((tick) => props.format(tick)), size: 70 }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    const data = [props.times.map((ms) => ms / 1000), ...props.series.map((series) => [...series.values])] as uPlot.AlignedData;
    plot.current = new uPlot(options, data, element);
    const observer = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(element.clientWidth, 240), height: 220 }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [props.times, props.series, props.floor, texts]);

  const summary = props.series
    .map((series) => {
      const values = series.values.filter((value): value is number => value !== null && Number.isFinite(value));
      if (values.length === 0) return t('chart.summary.empty', { series: series.label });
      return t('chart.summary', {
        series: series.label,
        min: props.format(Math.min(...values)),
        max: props.format(Math.max(...values)),
        last: props.format(values[values.length - 1]!),
      });
    })
    .join(' ');

  return (
    <figure class="chart">
      <figcaption>
        <strong>{props.title}</strong> <span class="muted">{summary}</span>
      </figcaption>
      <div ref={host} class="chart-canvas" aria-hidden="true" />
      <details>
        <summary>{t('chart.as_table')}</summary>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{props.title}</caption>
            <thead>
              <tr>
                <th scope="col">{t('chart.time')}</th>
                {props.series.map((series) => (
                  <th scope="col" key={series.label}>
                    {series.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.times.map((time, index) => (
                <tr key={time}>
                  <th scope="row">{texts.dateTime(time)}</th>
                  {props.series.map((series) => (
                    <td key={series.label} class="num">
                      {props.format(series.values[index] ?? null)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
