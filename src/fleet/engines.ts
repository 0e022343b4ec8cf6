import type { Sample } from './prometheus-text.js';

/** Inference servers whose metrics Stellwerk reads; `ollama` has no metrics endpoint. */
export const ENGINES = ['vllm', 'sglang', 'tgi', 'llamacpp', 'ollama'] as const;
export type Engine = (typeof ENGINES)[number];

/** What one scrape says about a server; null where its engine does not report the value. */
export interface EngineReading {
  readonly engine: Engine;
  readonly waiting: number | null;
  readonly running: number | null;
  /** KV-cache in use, 0..1. */
  readonly kvUsage: number | null;
  /** The server's own prefix-cache hit rate gauge, 0..1 (older vLLM, SGLang). */
  readonly prefixHitRate: number | null;
  /** Prefix-cache counters (newer vLLM), from which a rate between two scrapes is derived. */
  readonly prefixHits: number | null;
  readonly prefixQueries: number | null;
  readonly runningLoras: readonly string[];
  readonly waitingLoras: readonly string[];
  readonly maxLoras: number | null;
  readonly promptTokens: number | null;
  readonly generationTokens: number | null;
}

type Field = 'waiting' | 'running' | 'kvUsage' | 'prefixHitRate' | 'prefixHits' | 'prefixQueries' | 'promptTokens' | 'generationTokens';

/**
 * Per engine, the metric names of each field, newest name first (a renamed metric lists both).
 * Several series of one name (data-parallel ranks, several models) are added up; ratios are
 * averaged.
 */
interface MetricMap {
  readonly names: Partial<Record<Field, readonly string[]>>;
  /** The vLLM-style info gauge whose labels name the LoRA adapters running and waiting. */
  readonly loraInfo?: string;
}

export const METRIC_MAPS: Readonly<Record<Exclude<Engine, 'ollama'>, MetricMap>> = {
  vllm: {
    names: {
      waiting: ['vllm:num_requests_waiting'],
      running: ['vllm:num_requests_running'],
      kvUsage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
      prefixHits: ['vllm:prefix_cache_hits_total', 'vllm:gpu_prefix_cache_hits_total'],
      prefixQueries: ['vllm:prefix_cache_queries_total', 'vllm:gpu_prefix_cache_queries_total'],
      prefixHitRate: ['vllm:gpu_prefix_cache_hit_rate'],
      promptTokens: ['vllm:prompt_tokens_total'],
      generationTokens: ['vllm:generation_tokens_total'],
    },
    loraInfo: 'vllm:lora_requests_info',
  },
  sglang: {
    names: {
      waiting: ['sglang:num_queue_reqs'],
      running: ['sglang:num_running_reqs'],
      kvUsage: ['sglang:token_usage'],
      prefixHitRate: ['sglang:cache_hit_rate'],
      promptTokens: ['sglang:prompt_tokens_total'],
      generationTokens: ['sglang:generation_tokens_total'],
    },
  },
  tgi: {
    names: {
      waiting: ['tgi_queue_size'],
      running: ['tgi_batch_current_size'],
      promptTokens: ['tgi_request_input_length_sum'],
      generationTokens: ['tgi_request_generated_tokens_sum'],
    },
  },
  llamacpp: {
    names: {
      waiting: ['llamacpp:requests_deferred'],
      running: ['llamacpp:requests_processing'],
      kvUsage: ['llamacpp:kv_cache_usage_ratio'],
      promptTokens: ['llamacpp:prompt_tokens_total'],
      generationTokens: ['llamacpp:tokens_predicted_total'],
    },
  },
};

const AVERAGED: ReadonlySet<Field> = new Set(['kvUsage', 'prefixHitRate']);

const PREFIXES: readonly [string, Exclude<Engine, 'ollama'>][] = [
  ['vllm:', 'vllm'],
  ['sglang:', 'sglang'],
  ['tgi_', 'tgi'],
  ['llamacpp:', 'llamacpp'],
];

/** The engine whose metric names appear in a scrape; null when none does. */
export function detectEngine(samples: readonly Sample[]): Exclude<Engine, 'ollama'> | null {
  for (const sample of samples) {
    for (const [prefix, engine] of PREFIXES) if (sample.name.startsWith(prefix)) return engine;
  }
  return null;
}

/** Reads one scrape with the metric names of `engine`. */
export function readEngineMetrics(engine: Exclude<Engine, 'ollama'>, samples: readonly Sample[]): EngineReading {
  const byName = new Map<string, Sample[]>();
  for (const sample of samples) {
    const list = byName.get(sample.name);
    if (list === undefined) byName.set(sample.name, [sample]);
    else list.push(sample);
  }
  const map = METRIC_MAPS[engine];
  const read = (field: Field): number | null => {
    for (const name of map.names[field] ?? []) {
      const series = byName.get(name);
      if (series === undefined) continue;
      let total = 0;
      let count = 0;
      for (const sample of series) {
        if (Number.isFinite(sample.value)) {
          total += sample.value;
          count++;
        }
      }
      if (count === 0) continue;
      return AVERAGED.has(field) ? total / count : total;
    }
    return null;
  };
  const loras = map.loraInfo === undefined ? undefined : latestLoraInfo(byName.get(map.loraInfo));
  return {
    engine,
    waiting: read('waiting'),
    running: read('running'),
    kvUsage: clampRatio(read('kvUsage')),
    prefixHitRate: clampRatio(read('prefixHitRate')),
    prefixHits: read('prefixHits'),
    prefixQueries: read('prefixQueries'),
    runningLoras: loras?.running ?? [],
    waitingLoras: loras?.waiting ?? [],
    maxLoras: loras?.max ?? null,
    promptTokens: read('promptTokens'),
    generationTokens: read('generationTokens'),
  };
}

/** vLLM keeps one series per change of its adapter set, valued with the time of the change: the newest wins. */
function latestLoraInfo(series: readonly Sample[] | undefined): { running: string[]; waiting: string[]; max: number | null } | undefined {
  if (series === undefined || series.length === 0) return undefined;
  let latest = series[0]!;
  for (const sample of series) if (sample.value > latest.value) latest = sample;
  const max = Number(latest.labels.max_lora);
  return {
    running: splitNames(latest.labels.running_lora_adapters),
    waiting: splitNames(latest.labels.waiting_lora_adapters),
    max: latest.labels.max_lora !== undefined && Number.isFinite(max) ? max : null,
  };
}

function splitNames(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
}

function clampRatio(value: number | null): number | null {
  return value === null ? null : Math.min(1, Math.max(0, value));
}
