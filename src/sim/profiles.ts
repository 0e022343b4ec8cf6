/**
 * Hardware + model profiles of the simulated inference server. Every number is either a
 * published figure (GPU datasheet, model card) or a stated assumption (efficiencies, overheads);
 * the engine's parameters are derived from them here, so docs/simulator.md can show each step.
 */

/** A GPU type from its vendor's datasheet (dense figures, no sparsity). */
export interface GpuSpec {
  readonly name: string;
  /** Memory per GPU in GB (10^9 bytes). */
  readonly memoryGB: number;
  /** Memory bandwidth per GPU in TB/s. */
  readonly bandwidthTBs: number;
  /** Dense BF16 tensor throughput per GPU in TFLOPS. */
  readonly bf16Tflops: number;
}

/** A transformer from its model card / config.json. */
export interface ModelSpec {
  readonly id: string;
  /** Parameters in billions. */
  readonly paramsB: number;
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Longest context the server accepts (prompt + output). */
  readonly maxModelLen: number;
}

/** The stated assumptions: how close to the datasheet a real server gets. */
export interface Efficiency {
  /** Share of peak memory bandwidth a decode step achieves. */
  readonly bandwidth: number;
  /** Model FLOPs utilisation of prefill (large GEMMs). */
  readonly mfu: number;
  /** Fixed cost of every step (scheduling, sampling, kernel launches, TP all-reduces) in seconds. */
  readonly stepOverheadS: number;
  /** vLLM's `gpu_memory_utilization` (default 0.9). */
  readonly memoryUtilisation: number;
  /** Memory per GPU kept for activations and CUDA graphs, in GB. */
  readonly activationReserveGB: number;
}

/** What the engine runs on: all times in seconds, sizes in tokens. */
export interface EngineParams {
  readonly blockSize: number;
  /** KV-cache capacity in tokens (a multiple of blockSize). */
  readonly kvCapacityTokens: number;
  /** Most sequences in one batch (vLLM `max_num_seqs`). */
  readonly maxNumSeqs: number;
  /** Most tokens (prefill chunks + one per decoding sequence) in one step (vLLM `max_num_batched_tokens`). */
  readonly maxBatchedTokens: number;
  readonly maxModelLen: number;
  readonly stepOverheadS: number;
  /** Reading the weights once: the floor of every step. */
  readonly weightsReadS: number;
  /** Reading one token's K and V (all layers) once. */
  readonly kvReadPerTokenS: number;
  /** Compute of one token through the model (2 × parameters FLOPs at the stated MFU). */
  readonly computePerTokenS: number;
}

export interface SimProfile {
  readonly name: string;
  readonly description: string;
  readonly gpu: GpuSpec;
  readonly gpuCount: number;
  readonly model: ModelSpec;
  readonly efficiency: Efficiency;
  readonly engine: EngineParams;
}

/** NVIDIA datasheets: H100 SXM5 80GB, A100 SXM4 80GB, L4 24GB. */
export const GPUS = {
  h100: { name: 'NVIDIA H100 SXM5 80GB', memoryGB: 80, bandwidthTBs: 3.35, bf16Tflops: 989 },
  a100: { name: 'NVIDIA A100 SXM4 80GB', memoryGB: 80, bandwidthTBs: 2.039, bf16Tflops: 312 },
  l4: { name: 'NVIDIA L4 24GB', memoryGB: 24, bandwidthTBs: 0.3, bf16Tflops: 121 },
} as const satisfies Record<string, GpuSpec>;

/** Meta's model cards and config.json (Llama 3.1: 128k context; grouped-query attention with 8 KV heads). */
export const MODELS = {
  'llama3-8b': { id: 'meta-llama/Llama-3.1-8B-Instruct', paramsB: 8.03, layers: 32, kvHeads: 8, headDim: 128, maxModelLen: 32_768 },
  'llama3-70b': { id: 'meta-llama/Llama-3.1-70B-Instruct', paramsB: 70.6, layers: 80, kvHeads: 8, headDim: 128, maxModelLen: 32_768 },
} as const satisfies Record<string, ModelSpec>;

const BASE_EFFICIENCY: Efficiency = {
  bandwidth: 0.7,
  mfu: 0.5,
  stepOverheadS: 0.001,
  memoryUtilisation: 0.9,
  activationReserveGB: 2,
};

const BF16_BYTES = 2;
const BLOCK_SIZE = 16;

/** Bytes of K and V for one token over all layers (BF16). */
export function kvBytesPerToken(model: ModelSpec): number {
  return 2 * model.layers * model.kvHeads * model.headDim * BF16_BYTES;
}

/** Derives the engine's parameters from datasheet, model card and assumptions. */
export function deriveEngine(gpu: GpuSpec, gpuCount: number, model: ModelSpec, efficiency: Efficiency, limits: { maxNumSeqs: number; maxBatchedTokens: number; maxModelLen?: number }): EngineParams {
  const weightBytes = model.paramsB * 1e9 * BF16_BYTES;
  const bandwidth = gpu.bandwidthTBs * 1e12 * gpuCount * efficiency.bandwidth;
  const flops = gpu.bf16Tflops * 1e12 * gpuCount * efficiency.mfu;
  const kvBytes = (gpu.memoryGB * efficiency.memoryUtilisation - efficiency.activationReserveGB) * 1e9 * gpuCount - weightBytes;
  if (kvBytes <= 0) throw new Error(`${model.id} does not fit on ${gpuCount} × ${gpu.name}`);
  const kvTokens = Math.floor(kvBytes / kvBytesPerToken(model) / BLOCK_SIZE) * BLOCK_SIZE;
  return {
    blockSize: BLOCK_SIZE,
    kvCapacityTokens: kvTokens,
    maxNumSeqs: limits.maxNumSeqs,
    maxBatchedTokens: limits.maxBatchedTokens,
    maxModelLen: Math.min(limits.maxModelLen ?? model.maxModelLen, model.maxModelLen),
    stepOverheadS: efficiency.stepOverheadS,
    weightsReadS: weightBytes / bandwidth,
    kvReadPerTokenS: kvBytesPerToken(model) / bandwidth,
    computePerTokenS: (2 * model.paramsB * 1e9) / flops,
  };
}

function profile(name: string, description: string, gpu: GpuSpec, gpuCount: number, model: ModelSpec, efficiency: Efficiency, limits: { maxNumSeqs: number; maxBatchedTokens: number; maxModelLen?: number }): SimProfile {
  return { name, description, gpu, gpuCount, model, efficiency, engine: deriveEngine(gpu, gpuCount, model, efficiency, limits) };
}

/** vLLM's defaults for online serving: 256 sequences, 8,192 batched tokens (chunked prefill on). */
const VLLM_LIMITS = { maxNumSeqs: 256, maxBatchedTokens: 8_192 };

export const PROFILES: Readonly<Record<string, SimProfile>> = Object.fromEntries(
  [
    profile('h100-llama3-8b', 'Llama 3.1 8B (BF16) on one H100 SXM 80GB', GPUS.h100, 1, MODELS['llama3-8b'], BASE_EFFICIENCY, VLLM_LIMITS),
    profile('a100-llama3-8b', 'Llama 3.1 8B (BF16) on one A100 SXM 80GB', GPUS.a100, 1, MODELS['llama3-8b'], BASE_EFFICIENCY, VLLM_LIMITS),
    // Tensor parallelism adds two all-reduces per layer to every step; about 15 µs each over
    // NVLink for decode-sized messages (assumed), 80 layers: about 2.4 ms more per step.
    profile('h100-llama3-70b-tp4', 'Llama 3.1 70B (BF16) on four H100 SXM 80GB, tensor parallel 4', GPUS.h100, 4, MODELS['llama3-70b'], { ...BASE_EFFICIENCY, stepOverheadS: 0.0034 }, VLLM_LIMITS),
    // 24 GB leaves little room next to 16 GB of weights: the context is capped at 16k tokens.
    profile('l4-llama3-8b', 'Llama 3.1 8B (BF16) on one L4 24GB', GPUS.l4, 1, MODELS['llama3-8b'], BASE_EFFICIENCY, { maxNumSeqs: 256, maxBatchedTokens: 2_048, maxModelLen: 16_384 }),
  ].map((entry) => [entry.name, entry]),
);

export function findProfile(name: string): SimProfile {
  const found = Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
  if (found === undefined) throw new Error(`unknown profile "${name}"; one of: ${Object.keys(PROFILES).join(', ')}`);
  return found;
}
