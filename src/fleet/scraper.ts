import type { Logger } from '../telemetry/logger.js';
import type { Backend } from './backend.js';
import { detectEngine, readEngineMetrics } from './engines.js';
import { parsePrometheusText } from './prometheus-text.js';

/** Larger metric pages are refused: a server's page is tens of kilobytes. */
const MAX_METRICS_BYTES = 8 * 1024 * 1024;

/**
 * Reads each self-hosted server's Prometheus metrics every interval, off the request path.
 * Each scrape has a timeout shorter than the interval, and a server whose previous scrape is
 * still running is skipped, so scrapes never pile up. A failure only marks the server's reading
 * unusable (routing falls back to the gateway's own counts) and is logged once per outage.
 * Timers are unref'd and stop with the gateway.
 */
export class FleetScraper {
  private readonly timers = new Map<Backend, NodeJS.Timeout>();

  constructor(private readonly logger: Logger) {}

  /** Watches exactly these backends (a reload may add, drop or re-time them). */
  watch(backends: readonly Backend[]): void {
    this.stop();
    for (const backend of backends) {
      if (backend.settings.metricsUrl === null) continue;
      void this.scrapeOnce(backend);
      const timer = setInterval(() => void this.scrapeOnce(backend), backend.settings.intervalMs);
      timer.unref();
      this.timers.set(backend, timer);
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
  }

  /** One scrape of one backend; resolves when its reading or failure is recorded. Never rejects. */
  async scrapeOnce(backend: Backend): Promise<void> {
    const url = backend.settings.metricsUrl;
    if (url === null || backend.scraping) return;
    backend.scraping = true;
    try {
      const text = await fetchMetrics(url, backend.settings.timeoutMs);
      const samples = parsePrometheusText(text);
      const configured = backend.settings.engine;
      const engine = configured === 'auto' ? detectEngine(samples) : configured === 'ollama' ? null : configured;
      if (engine === null) throw new Error('no metric of a known engine (vllm, sglang, tgi, llamacpp) in the page');
      const wasFailing = backend.error !== null;
      backend.recordReading(readEngineMetrics(engine, samples), Date.now());
      if (wasFailing) this.logger.info({ backend: backend.id }, 'fleet metrics readable again');
    } catch (error) {
      const reason = describe(error, backend.settings.timeoutMs);
      if (backend.error === null) {
        this.logger.warn({ backend: backend.id, reason }, 'fleet metrics scrape failed; routing to it uses the gateway in-flight count');
      }
      backend.recordFailure(reason);
    } finally {
      backend.scraping = false;
    }
  }
}

async function fetchMetrics(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain;version=0.0.4, */*;q=0.1' } });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`metrics endpoint answered HTTP ${response.status}`);
  }
  if (response.body === null) return '';
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    if (bytes > MAX_METRICS_BYTES) throw new Error(`metrics page larger than ${MAX_METRICS_BYTES} bytes`);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/** A short reason without the URL (which may hold credentials). */
function describe(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (err.message === 'fetch failed') return `unreachable${err.cause?.code === undefined ? '' : ` (${err.cause.code})`}`;
  return err.message;
}
