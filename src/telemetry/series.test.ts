import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { CounterFamily, GaugeFamily, HistogramFamily } from './series.js';

test('counter and gauge families are exposed in the Prometheus text format, one line per series', async () => {
  const registry = new Registry();
  const requests = new CounterFamily(registry, 'x_requests_total', 'Requests.', ['route', 'status']);
  const inFlight = new GaugeFamily(registry, 'x_in_flight', 'In flight.', ['route']);
  const ok = requests.series({ route: 'chat', status: 200 });
  ok.inc();
  ok.inc(2);
  requests.series({ route: 'chat', status: 502 }).inc();
  assert.equal(requests.series({ status: 200, route: 'chat' }), ok, 'the same labels give the same series');
  const gauge = inFlight.series({ route: 'chat' });
  gauge.inc();
  gauge.inc();
  gauge.dec();
  const text = await registry.metrics();
  assert.match(text, /# HELP x_requests_total Requests\.\n# TYPE x_requests_total counter\n/);
  assert.match(text, /\nx_requests_total\{route="chat",status="200"\} 3\n/);
  assert.match(text, /\nx_requests_total\{route="chat",status="502"\} 1\n/);
  assert.match(text, /# TYPE x_in_flight gauge\nx_in_flight\{route="chat"\} 1\n/);
  await registry.resetMetrics();
  assert.equal(ok.value, 0);
  ok.inc();
  assert.match(await registry.metrics(), /\nx_requests_total\{route="chat",status="200"\} 1\n/, 'a held series counts on after a reset');
});

test("a histogram family writes the same samples as prom-client's Histogram for the same observations", async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const buckets = [0.005, 0.01, 0.1, 1];
  const family = new HistogramFamily(ours, 'x_seconds', 'Time.', ['route'], buckets);
  const reference = new Histogram({ name: 'x_seconds', help: 'Time.', labelNames: ['route'], buckets, registers: [theirs] });
  const values = [0, 0.005, 0.0050001, 0.01, 0.5, 1, 3, 0.2, Number.NaN];
  const series = family.series({ route: 'chat' });
  for (const value of values) {
    series.observe(value);
    if (Number.isFinite(value)) reference.observe({ route: 'chat' }, value);
  }
  const samples = (text: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith('x_seconds'))
      .map((line) => {
        // Label order differs (prom-client puts `le` first); compare label sets.
        const match = /^(\w+)\{([^}]*)\} (.+)$/.exec(line)!;
        return `${match[1]}{${match[2]!.split(',').sort().join(',')}} ${match[3]}`;
      })
      .sort();
  assert.deepEqual(samples(await ours.metrics()), samples(await theirs.metrics()));
  assert.equal(series.count, 8, 'a value that is not a number is not counted');
});
