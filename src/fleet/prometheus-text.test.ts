import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parsePrometheusText, PrometheusParseError } from './prometheus-text.js';

test('prometheus text: plain samples, HELP/TYPE and other comments skipped, blank lines and CRLF', () => {
  const text = '# HELP up Whether up.\r\n# TYPE up gauge\r\n\r\nup 1\r\n  # indented comment\n\nother_metric 2.5e3\n';
  assert.deepEqual(parsePrometheusText(text), [
    { name: 'up', labels: {}, value: 1 },
    { name: 'other_metric', labels: {}, value: 2500 },
  ]);
});

test('prometheus text: labels with escaped quote, backslash and newline, spaces and a trailing comma', () => {
  const [sample] = parsePrometheusText('m{a="x\\"y", b = "c:\\\\d" ,c="line\\nbreak",} 3\n');
  assert.deepEqual(sample, { name: 'm', labels: { a: 'x"y', b: 'c:\\d', c: 'line\nbreak' }, value: 3 });
});

test('prometheus text: a label value may hold braces, commas and equals signs', () => {
  const [sample] = parsePrometheusText('vllm:lora_requests_info{running_lora_adapters="a,b",x="{=}"} 1.7e9');
  assert.deepEqual(sample!.labels, { running_lora_adapters: 'a,b', x: '{=}' });
  assert.equal(sample!.value, 1.7e9);
});

test('prometheus text: NaN, +Inf, -Inf and timestamps', () => {
  const samples = parsePrometheusText('a NaN\nb +Inf 1700000000000\nc -Inf\nd{l="v"} -0.5 123\n');
  assert.ok(Number.isNaN(samples[0]!.value));
  assert.equal(samples[1]!.value, Infinity);
  assert.equal(samples[1]!.timestampMs, 1700000000000);
  assert.equal(samples[2]!.value, -Infinity);
  assert.equal(samples[2]!.timestampMs, undefined);
  assert.deepEqual(samples[3], { name: 'd', labels: { l: 'v' }, value: -0.5, timestampMs: 123 });
});

test('prometheus text: histogram bucket, sum and count lines are samples with their le label', () => {
  const samples = parsePrometheusText(readFileSync(new URL('./fixtures/vllm.txt', import.meta.url), 'utf8'));
  const buckets = samples.filter((sample) => sample.name === 'vllm:time_to_first_token_seconds_bucket');
  assert.deepEqual(
    buckets.map((sample) => [sample.labels.le, sample.value]),
    [['0.02', 120], ['0.1', 900], ['+Inf', 1000]],
  );
  assert.equal(samples.find((sample) => sample.name === 'vllm:time_to_first_token_seconds_sum')!.value, 61.5);
  assert.equal(samples.find((sample) => sample.name === 'vllm:time_to_first_token_seconds_count')!.value, 1000);
  assert.equal(samples.find((sample) => sample.name === 'process_resident_memory_bytes')!.value, 2.5e9);
});

test('prometheus text: OpenMetrics # EOF and empty text give no samples', () => {
  assert.deepEqual(parsePrometheusText(''), []);
  assert.deepEqual(parsePrometheusText('# EOF\n'), []);
});

test('prometheus text: malformed lines are refused with their line number', () => {
  const cases: [string, RegExp][] = [
    ['ok 1\nbroken\n', /line 2: expected a value after broken/],
    ['m{a="x} 1', /unterminated value of label a/],
    ['m{a=x} 1', /expected a quoted value for label a/],
    ['m{a="x" b="y"} 1', /expected , or }/],
    ['m abc', /"abc" is not a number/],
    ['m 0x10', /"0x10" is not a number/],
    ['m 1 2 3', /unexpected "2 3" after the value/],
    ['{a="b"} 1', /expected a metric name/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parsePrometheusText(text), (error: unknown) => error instanceof PrometheusParseError && message.test(error.message), text);
  }
});
