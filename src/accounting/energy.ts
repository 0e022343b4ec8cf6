import { GPUS, type GpuName, type GpuSpec } from './hardware.js';

/**
 * The parametric energy model (docs/energy.md explains each constant and its source).
 *
 * Decoding is memory-bound: every step reads the weights once for the whole batch, so one step
 * takes (weight bytes) / (bandwidth × efficiency), or the compute time if that is longer, and
 * each of the batch's sequences gets one token from it. Prefill is compute-bound: 2 FLOPs per
 * active parameter per input token. Energy = time × the GPUs' power draw while working.
 */

/** Sequences decoded together when the deployment does not say (ML.ENERGY's comparison point). */
export const DEFAULT_BATCH = 64;
/** Bytes per parameter: BF16/FP16 weights. */
export const BYTES_PER_PARAM = 2;
/**
 * Effective share of the memory bandwidth a decode step achieves, KV-cache reads, attention
 * and scheduling gaps included. Calibrated: it makes Llama-3.1-8B on one H100 at batch 64 come
 * out at ML.ENERGY v3's measured 0.12 J per output token (see docs/energy.md).
 */
export const DECODE_BANDWIDTH_EFFICIENCY = 0.35;
/** Model FLOPs utilisation of prefill (typical 40–60% for large prefill batches; 0.4 chosen, uncertain). */
export const PREFILL_FLOPS_EFFICIENCY = 0.4;
/** Share of board power drawn while decoding (memory-bound) and while in prefill (compute-bound); uncertain. */
export const DECODE_POWER_SHARE = 0.75;
export const PREFILL_POWER_SHARE = 0.9;
/** Memory beyond the weights (KV cache, activations) when choosing how many GPUs a model needs. */
const MEMORY_HEADROOM = 1.25;

export interface ModelSize {
  /** Billions of parameters used per token. */
  readonly active: number;
  /** Billions of parameters held in memory. */
  readonly total: number;
}

export interface EnergyPerToken {
  /** Joules at the GPUs (IT energy, before PUE) per input and per output token. */
  readonly inputJ: number;
  readonly outputJ: number;
}

/** How many of `gpu` a model of this size needs at least. */
export function gpusNeeded(size: ModelSize, gpu: GpuSpec): number {
  return Math.max(1, Math.ceil((size.total * 1e9 * BYTES_PER_PARAM * MEMORY_HEADROOM) / gpu.memory));
}

/** Joules per input and output token for a model on `count` GPUs decoding `batch` sequences together. */
export function parametricEnergy(size: ModelSize, gpuName: GpuName, count: number, batch = DEFAULT_BATCH): EnergyPerToken {
  const gpu: GpuSpec = GPUS[gpuName];
  const weightBytes = size.total * 1e9 * BYTES_PER_PARAM;
  const memorySeconds = weightBytes / (count * gpu.memoryBandwidth * DECODE_BANDWIDTH_EFFICIENCY);
  const computeSeconds = (2 * size.active * 1e9 * batch) / (count * gpu.flops * PREFILL_FLOPS_EFFICIENCY);
  const stepSeconds = Math.max(memorySeconds, computeSeconds);
  const outputJ = (stepSeconds * count * gpu.watts * DECODE_POWER_SHARE) / batch;
  const inputJ = ((2 * size.active * 1e9) / (count * gpu.flops * PREFILL_FLOPS_EFFICIENCY)) * count * gpu.watts * PREFILL_POWER_SHARE;
  return { inputJ, outputJ };
}

/**
 * Sizes of models the model can estimate without being told. Open models: their published
 * parameter counts (model cards). Closed models: no published figures; the values are
 * assumptions in the spirit of EcoLogits' estimates for proprietary models and only good for
 * an order of magnitude. Keys match like the price table's (longest prefix of the model id).
 */
export const MODEL_SIZES: Readonly<Record<string, ModelSize & { readonly assumed?: true }>> = {
  'llama-3.1-8b': { active: 8.03, total: 8.03 },
  'llama-3.1-70b': { active: 70.6, total: 70.6 },
  'llama-3.3-70b': { active: 70.6, total: 70.6 },
  'llama-3.1-405b': { active: 405, total: 405 },
  'llama3-1-8b': { active: 8.03, total: 8.03 },
  'llama3-1-70b': { active: 70.6, total: 70.6 },
  'llama3-3-70b': { active: 70.6, total: 70.6 },
  'llama3.1:8b': { active: 8.03, total: 8.03 },
  'mistral-7b': { active: 7.25, total: 7.25 },
  'mixtral-8x7b': { active: 12.9, total: 46.7 },
  'mixtral-8x22b': { active: 39, total: 141 },
  'qwen2.5-7b': { active: 7.6, total: 7.6 },
  'qwen2.5-72b': { active: 72.7, total: 72.7 },
  'gemma-2-9b': { active: 9.2, total: 9.2 },
  'gemma-2-27b': { active: 27.2, total: 27.2 },
  'ministral-8b': { active: 8, total: 8 },
  'open-mistral-nemo': { active: 12.2, total: 12.2 },
  'mistral-small': { active: 24, total: 24 },
  'mistral-large': { active: 123, total: 123 },
  'gpt-oss-20b': { active: 3.6, total: 21 },
  'gpt-oss-120b': { active: 5.1, total: 117 },
  // Closed models: assumptions (no published parameter counts).
  'gpt-4o': { active: 220, total: 440, assumed: true },
  'gpt-4o-mini': { active: 8, total: 40, assumed: true },
  'gpt-4.1': { active: 220, total: 440, assumed: true },
  'gpt-4.1-mini': { active: 20, total: 80, assumed: true },
  'gpt-4.1-nano': { active: 4, total: 20, assumed: true },
  'gpt-5': { active: 200, total: 1000, assumed: true },
  'gpt-5-mini': { active: 20, total: 100, assumed: true },
  'claude-sonnet-4': { active: 150, total: 300, assumed: true },
  'claude-3-5-sonnet': { active: 150, total: 300, assumed: true },
  'claude-3-7-sonnet': { active: 150, total: 300, assumed: true },
  'claude-3-5-haiku': { active: 20, total: 40, assumed: true },
  'claude-haiku-4-5': { active: 20, total: 40, assumed: true },
  'claude-opus-4': { active: 300, total: 2000, assumed: true },
  'gemini-2.5-pro': { active: 150, total: 600, assumed: true },
  'gemini-2.5-flash': { active: 30, total: 150, assumed: true },
  'gemini-2.5-flash-lite': { active: 10, total: 50, assumed: true },
  'gemini-2.0-flash': { active: 30, total: 150, assumed: true },
};

/** The size of a model id from MODEL_SIZES, or null. Matches case-insensitively, ignoring an org prefix (`meta-llama/`). */
export function lookupModelSize(upstreamModel: string): (ModelSize & { readonly assumed?: true }) | null {
  let model = upstreamModel.toLowerCase();
  const slash = model.lastIndexOf('/');
  if (slash !== -1) model = model.slice(slash + 1);
  model = model.replace(/^(?:us|eu|apac|global)\./, '').replace(/^(?:meta|anthropic|mistral|amazon)\./, '').replace(/^meta-/, '');
  if (Object.hasOwn(MODEL_SIZES, model)) return MODEL_SIZES[model]!;
  let best: string | null = null;
  for (const key in MODEL_SIZES) {
    if (model.length > key.length && model.startsWith(key) && /[-:@._]/.test(model[key.length]!) && (best === null || key.length > best.length)) best = key;
  }
  return best === null ? null : MODEL_SIZES[best]!;
}
