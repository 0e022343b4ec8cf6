import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../telemetry/logger.js';
import { Backend, type BackendSettings } from './backend.js';
import { detectEngine, readEngineMetrics } from './engines.js';
import { parsePrometheusText } from './prometheus-text.js';
import { FleetScraper } from './scraper.js';
import { defaultMetricsUrl } from './fleet.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}.txt`, import.meta.url), 'utf8');

test('engines: each fixture is detected and read with its engine names', () => {
  const vllm = parsePrometheusText(fixture('vllm'));
  assert.equal(detectEngine(vllm), 'vllm');
  assert.deepEqual(readEngineMetrics('vllm', vllm), {
    engine: 'vllm',
    waiting: 3,
    running: 12,
    kvUsage: 0.62,
    prefixHitRate: null,
    prefixHits: 10_000,
    prefixQueries: 40_000,
    runningLoras: ['sql-lora', 'chat-lora'],
    waitingLoras: [],
    maxLoras: 4,
    promptTokens: 1_234_567,
    generationTokens: 345_678,
  });
  const old = readEngineMetrics('vllm', parsePrometheusText(fixture('vllm-v0')));
  assert.equal(old.kvUsage, 0.25, 'the older gpu_cache_usage_perc name');
  assert.equal(old.prefixHitRate, 0.4, 'the older gpu_prefix_cache_hit_rate gauge');
  assert.deepEqual([old.waiting, old.running], [0, 4]);

  const sglang = parsePrometheusText(fixture('sglang'));
  assert.equal(detectEngine(sglang), 'sglang');
  const s = readEngineMetrics('sglang', sglang);
  assert.deepEqual([s.waiting, s.running, s.kvUsage, s.prefixHitRate, s.promptTokens], [2, 9, 0.81, 0.55, 88_000]);

  const tgi = parsePrometheusText(fixture('tgi'));
  assert.equal(detectEngine(tgi), 'tgi');
  const t = readEngineMetrics('tgi', tgi);
  assert.deepEqual([t.waiting, t.running, t.kvUsage, t.promptTokens, t.generationTokens], [5, 16, null, 8123, 4100]);

  const llamacpp = parsePrometheusText(fixture('llamacpp'));
  assert.equal(detectEngine(llamacpp), 'llamacpp');
  const l = readEngineMetrics('llamacpp', llamacpp);
  assert.deepEqual([l.waiting, l.running, l.kvUsage, l.promptTokens, l.generationTokens], [1, 2, 0.125, 4321, 9876]);
});

test('engines: series of several ranks add up, ratios average, a page of another program detects nothing', () => {
  const samples = parsePrometheusText('vllm:num_requests_running{engine="0"} 2\nvllm:num_requests_running{engine="1"} 3\nvllm:kv_cache_usage_perc{engine="0"} 0.2\nvllm:kv_cache_usage_perc{engine="1"} 0.6\n');
  const reading = readEngineMetrics('vllm', samples);
  assert.equal(reading.running, 5);
  assert.ok(Math.abs(reading.kvUsage! - 0.4) < 1e-9);
  assert.equal(detectEngine(parsePrometheusText('process_cpu_seconds_total 1\n')), null);
});

test('default metrics URL: the base URL without /v1, plus /metrics', () => {
  assert.equal(defaultMetricsUrl('http://gpu-1:8000/v1'), 'http://gpu-1:8000/metrics');
  assert.equal(defaultMetricsUrl('http://gpu-1:8000/v1/'), 'http://gpu-1:8000/metrics');
  assert.equal(defaultMetricsUrl('https://host/llm/v1?x=1'), 'https://host/llm/metrics');
  assert.equal(defaultMetricsUrl('http://host:8080'), 'http://host:8080/metrics');
});

interface MetricsServer {
  readonly url: string;
  page: string;
  status: number;
  /** Milliseconds to wait before answering (a slow server). */
  delayMs: number;
  requests: number;
  maxConcurrent: number;
  close(): Promise<void>;
}

async function metricsServer(page: string): Promise<MetricsServer> {
  let concurrent = 0;
  const state = { page, status: 200, delayMs: 0, requests: 0, maxConcurrent: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    concurrent++;
    state.maxConcurrent = Math.max(state.maxConcurrent, concurrent);
    const answer = () => {
      concurrent--;
      if (res.destroyed) return;
      res.writeHead(state.status, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(state.page);
    };
    if (state.delayMs > 0) {
      const timer = setTimeout(answer, state.delayMs);
      res.on('close', () => {
        if (!res.writableEnded) {
          clearTimeout(timer);
          concurrent--;
        }
      });
    } else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

function settings(url: string, overrides: Partial<BackendSettings> = {}): BackendSettings {
  return { metricsUrl: url, engine: 'auto', intervalMs: 100, timeoutMs: 80, staleAfterMs: 1_000, prefixCacheBlocks: 64, shareWindowMs: 60_000, ...overrides };
}

function quietLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

test('scraper: reads a vLLM page, derives the prefix hit rate between scrapes, then records a failure without losing the reading', async () => {
  const server = await metricsServer(fixture('vllm'));
  const { logger, lines } = quietLogger();
  const scraper = new FleetScraper(logger);
  const backend = new Backend(server.url, settings(server.url, { timeoutMs: 5_000 }));
  try {
    await scraper.scrapeOnce(backend);
    assert.equal(backend.error, null);
    assert.equal(backend.reading?.engine, 'vllm');
    assert.equal(backend.prefixHitRate, 0.25, 'first scrape: the cumulative ratio');
    assert.ok(backend.isFresh(Date.now()));
    backend.sentSinceScrape = 4;
    server.page = fixture('vllm').replace('prefix_cache_queries_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 40000.0', 'prefix_cache_queries_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 50000.0').replace('prefix_cache_hits_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 10000.0', 'prefix_cache_hits_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 19000.0');
    await scraper.scrapeOnce(backend);
    assert.equal(backend.prefixHitRate, 0.9, '9,000 hits of 10,000 queries since the last scrape');
    assert.equal(backend.sentSinceScrape, 0, 'a scrape counts what was sent before it');

    server.status = 500;
    await scraper.scrapeOnce(backend);
    assert.equal(backend.error, 'metrics endpoint answered HTTP 500');
    assert.ok(!backend.isFresh(Date.now()), 'a failed scrape is not used for routing');
    assert.equal(backend.reading?.running, 12, 'the last reading stays for display');
    await scraper.scrapeOnce(backend);
    assert.equal(lines.filter((line) => line.msg === 'fleet metrics scrape failed; routing to it uses the gateway in-flight count').length, 1, 'logged once per outage');

    server.status = 200;
    server.page = 'garbage line here\n';
    await scraper.scrapeOnce(backend);
    assert.match(backend.error!, /line 1/);

    server.page = 'process_cpu_seconds_total 1\n';
    await scraper.scrapeOnce(backend);
    assert.match(backend.error!, /no metric of a known engine/);
  } finally {
    scraper.stop();
    await server.close();
  }
});

test('scraper: a slow server times out before the next interval, and scrapes of one server never overlap', async () => {
  const server = await metricsServer(fixture('sglang'));
  const { logger } = quietLogger();
  const scraper = new FleetScraper(logger);
  const backend = new Backend(server.url, settings(server.url, { timeoutMs: 300 }));
  try {
    server.delayMs = 2_000;
    const first = scraper.scrapeOnce(backend);
    const second = scraper.scrapeOnce(backend);
    await Promise.all([first, second]);
    assert.equal(server.requests, 1, 'the second scrape was skipped while the first ran');
    assert.equal(backend.error, 'no answer within 300 ms');
    server.delayMs = 0;
    backend.update({ ...backend.settings, timeoutMs: 5_000 });
    await scraper.scrapeOnce(backend);
    assert.equal(backend.reading?.engine, 'sglang');
    assert.equal(server.maxConcurrent, 1);
  } finally {
    scraper.stop();
    await server.close();
  }
});

test('scraper: an unreachable server is a failure with a reason, never a throw', async () => {
  const server = await metricsServer('');
  const url = server.url;
  await server.close();
  const { logger } = quietLogger();
  const backend = new Backend(url, settings(url, { engine: 'tgi' }));
  await new FleetScraper(logger).scrapeOnce(backend);
  assert.match(backend.error!, /^unreachable/);
  assert.equal(backend.reading, null);
});

test('scraper: watch scrapes every interval until stopped', async () => {
  const server = await metricsServer(fixture('llamacpp'));
  const { logger } = quietLogger();
  const scraper = new FleetScraper(logger);
  const backend = new Backend(server.url, settings(server.url, { intervalMs: 50, timeoutMs: 45 }));
  try {
    scraper.watch([backend]);
    const deadline = Date.now() + 5_000;
    while (server.requests < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(server.requests >= 3, `scrapes: ${server.requests}`);
    assert.equal(backend.reading?.engine, 'llamacpp');
    scraper.stop();
    const after = server.requests;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.ok(server.requests <= after + 1, 'no scrapes after stop (one may have been under way)');
  } finally {
    scraper.stop();
    await server.close();
  }
});
