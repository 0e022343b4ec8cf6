import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine, EngineCounters } from './engine.js';

/**
 * The simulated server's /metrics, under vLLM's own metric names and labels, so whatever reads a
 * real vLLM server's metrics (the gateway's fleet routing, Prometheus dashboards) reads these.
 * Gauges and counters are read from the engine when scraped; the two latency histograms are
 * observed as requests progress. Buckets are vLLM's.
 */
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export class SimMetrics {
  readonly registry = new Registry();
  private readonly ttft: Histogram<'model_name'>;
  private readonly e2e: Histogram<'model_name'>;

  constructor(
    engine: Engine,
    private readonly modelName: string,
  ) {
    const registers = [this.registry];
    const labels = { model_name: modelName };
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, labelNames: ['model_name'], registers, collect() { this.set(labels, read()); } });
    gauge('vllm:num_requests_running', 'Requests in the running batch.', () => engine.runningCount);
    gauge('vllm:num_requests_waiting', 'Requests waiting to be admitted.', () => engine.waitingCount);
    gauge('vllm:kv_cache_usage_perc', 'KV-cache usage: 1 means 100 percent.', () => engine.kvUsage);
    const counter = (name: string, help: string, key: keyof EngineCounters) => {
      let reported = 0;
      new Counter({
        name,
        help,
        labelNames: ['model_name'],
        registers,
        collect() {
          const value = engine.counters[key];
          if (value > reported) this.inc(labels, value - reported);
          reported = value;
        },
      });
    };
    counter('vllm:prompt_tokens_total', 'Prompt tokens of admitted requests (cached and computed).', 'promptTokens');
    counter('vllm:generation_tokens_total', 'Generated tokens.', 'generationTokens');
    counter('vllm:prefix_cache_queries_total', 'Prompt tokens looked up in the prefix cache.', 'prefixQueryTokens');
    counter('vllm:prefix_cache_hits_total', 'Prompt tokens found in the prefix cache.', 'prefixHitTokens');
    counter('vllm:request_success_total', 'Finished requests.', 'finished');
    new Gauge({
      name: 'vllm:lora_requests_info',
      help: 'Running and waiting LoRA adapters; the value is the time of the scrape.',
      labelNames: ['running_lora_adapters', 'waiting_lora_adapters', 'max_lora'],
      registers,
      collect() {
        this.reset();
        const { running, waiting } = engine.loraAdapters();
        this.set({ running_lora_adapters: running.join(','), waiting_lora_adapters: waiting.join(','), max_lora: String(engine.maxLoras) }, Date.now() / 1000);
      },
    });
    this.ttft = new Histogram({ name: 'vllm:time_to_first_token_seconds', help: 'Time to first token.', labelNames: ['model_name'], buckets: TTFT_BUCKETS, registers });
    this.e2e = new Histogram({ name: 'vllm:e2e_request_latency_seconds', help: 'End-to-end request latency.', labelNames: ['model_name'], buckets: E2E_BUCKETS, registers });
  }

  observeFirstToken(seconds: number): void {
    this.ttft.observe({ model_name: this.modelName }, seconds);
  }

  observeFinish(seconds: number): void {
    this.e2e.observe({ model_name: this.modelName }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
