/**
 * Accelerators the parametric energy model knows: memory bandwidth and dense BF16/FP16 tensor
 * throughput (without sparsity) and board power, from the vendors' datasheets (checked
 * 2025-06). The model in energy.ts reads nothing else of a GPU.
 */
export interface GpuSpec {
  /** HBM/GDDR bandwidth in bytes per second. */
  readonly memoryBandwidth: number;
  /** Dense BF16 tensor FLOP/s (no structured sparsity). */
  readonly flops: number;
  /** Board power limit (TDP/TBP) in watts. */
  readonly watts: number;
  /** Memory in bytes, to estimate how many GPUs a model needs. */
  readonly memory: number;
  readonly source: string;
}

const TB = 1e12;
const GB = 1e9;

export const GPUS = {
  'h100-sxm': { memoryBandwidth: 3.35 * TB, flops: 989e12, watts: 700, memory: 80 * GB, source: 'NVIDIA H100 Tensor Core GPU datasheet (SXM5)' },
  'h100-pcie': { memoryBandwidth: 2.0 * TB, flops: 756e12, watts: 350, memory: 80 * GB, source: 'NVIDIA H100 Tensor Core GPU datasheet (PCIe)' },
  'h100-nvl': { memoryBandwidth: 3.9 * TB, flops: 835e12, watts: 400, memory: 94 * GB, source: 'NVIDIA H100 Tensor Core GPU datasheet (NVL)' },
  h200: { memoryBandwidth: 4.8 * TB, flops: 989e12, watts: 700, memory: 141 * GB, source: 'NVIDIA H200 Tensor Core GPU datasheet (SXM)' },
  b200: { memoryBandwidth: 8.0 * TB, flops: 2250e12, watts: 1000, memory: 180 * GB, source: 'NVIDIA DGX B200 / HGX B200 datasheet (per GPU)' },
  'a100-sxm-80gb': { memoryBandwidth: 2.039 * TB, flops: 312e12, watts: 400, memory: 80 * GB, source: 'NVIDIA A100 Tensor Core GPU datasheet (80GB SXM)' },
  'a100-sxm-40gb': { memoryBandwidth: 1.555 * TB, flops: 312e12, watts: 400, memory: 40 * GB, source: 'NVIDIA A100 Tensor Core GPU datasheet (40GB SXM)' },
  'a100-pcie-80gb': { memoryBandwidth: 1.935 * TB, flops: 312e12, watts: 300, memory: 80 * GB, source: 'NVIDIA A100 Tensor Core GPU datasheet (80GB PCIe)' },
  l40s: { memoryBandwidth: 0.864 * TB, flops: 362e12, watts: 350, memory: 48 * GB, source: 'NVIDIA L40S datasheet' },
  l4: { memoryBandwidth: 0.3 * TB, flops: 121e12, watts: 72, memory: 24 * GB, source: 'NVIDIA L4 datasheet' },
  'mi300x': { memoryBandwidth: 5.3 * TB, flops: 1307e12, watts: 750, memory: 192 * GB, source: 'AMD Instinct MI300X data sheet' },
} as const satisfies Record<string, GpuSpec>;

export type GpuName = keyof typeof GPUS;
export const GPU_NAMES = Object.keys(GPUS) as [GpuName, ...GpuName[]];
