import type { Clock } from './clock.js';
import { KvCache, type Allocation } from './kv-cache.js';
import type { EngineParams } from './profiles.js';

/**
 * A model of one inference server doing continuous batching, in the manner of vLLM V1:
 *
 * - Admission is FIFO: a request is admitted at the start of a step when the KV cache can hold
 *   its whole prompt *and* its whole output (prompt blocks found in the prefix cache are
 *   reused); otherwise it and everyone behind it wait. Reserving the output up front means a
 *   running request never runs out of blocks, so there is **no preemption** (vLLM allocates as
 *   it goes and preempts by recomputation instead; the reservation is the conservative twin).
 * - Each step carries one token for every decoding sequence and fills the rest of the token
 *   budget (`maxBatchedTokens`) with prefill chunks in admission order (chunked prefill).
 * - A step lasts `overhead + max(memory, compute)` (a roofline): memory = reading the weights
 *   once plus the K/V of every token the batch attends to; compute = 2 × parameters FLOPs for
 *   every token in the step. So decode steps grow with the batch, and prefill costs per uncached
 *   prompt token.
 * - The step that finishes a prompt's prefill yields its first token; each later step one more.
 *
 * Times are the clock's seconds; the clock is real (HTTP) or virtual (planning, tests).
 */

export interface RequestListener {
  onFirstToken?(now: number): void;
  /** After every step that produced a token; `generated` counts all so far. */
  onToken?(now: number, generated: number): void;
  onFinish?(result: FinishedRequest): void;
}

export interface EngineRequest {
  readonly id: string;
  readonly promptTokens: number;
  /** Chain hashes of the prompt's full blocks (prompt-blocks.ts); empty for no prefix sharing. */
  readonly blockHashes: readonly number[];
  readonly outputTokens: number;
  /** LoRA adapter, when the request names one. */
  readonly lora?: string;
  readonly listener?: RequestListener;
}

export interface FinishedRequest {
  readonly id: string;
  readonly lora: string | undefined;
  readonly arrival: number;
  readonly admitted: number;
  readonly firstToken: number;
  readonly finish: number;
  readonly promptTokens: number;
  /** Prompt tokens served from the prefix cache. */
  readonly cachedTokens: number;
  /** Prompt tokens computed by prefill steps. */
  readonly computedTokens: number;
  readonly outputTokens: number;
}

/** Counters since start; the simulated /metrics reads them. */
export interface EngineCounters {
  /** Prompt tokens of admitted requests (cached or computed), as vLLM counts them. */
  promptTokens: number;
  /** Prompt tokens computed by prefill steps. */
  computedPromptTokens: number;
  generationTokens: number;
  prefixQueryTokens: number;
  prefixHitTokens: number;
  finished: number;
  aborted: number;
  /** Seconds the engine spent running steps. */
  busySeconds: number;
  /** KV blocks in use × seconds, summed over steps (time-averaged usage = this / blocks / time). */
  kvBlockSeconds: number;
  steps: number;
}

class Sequence {
  admitted = -1;
  firstToken = -1;
  cachedTokens = 0;
  /** Prompt tokens computed (or cached) so far. */
  prefilled = 0;
  generated = 0;
  /** Tokens this sequence carries in the step being run. */
  chunk = 0;
  allocation: Allocation | undefined;
  state: 'waiting' | 'running' | 'done' = 'waiting';

  constructor(
    readonly request: EngineRequest,
    readonly arrival: number,
    /** Blocks for prompt and output together. */
    readonly totalBlocks: number,
  ) {}
}

export type SubmitResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export class Engine {
  readonly kv: KvCache;
  readonly counters: EngineCounters = { promptTokens: 0, computedPromptTokens: 0, generationTokens: 0, prefixQueryTokens: 0, prefixHitTokens: 0, finished: 0, aborted: 0, busySeconds: 0, kvBlockSeconds: 0, steps: 0 };
  private waiting: Sequence[] = [];
  private waitingHead = 0;
  private waitingLive = 0;
  private running: Sequence[] = [];
  private readonly byId = new Map<string, Sequence>();
  private stepping = false;

  constructor(
    readonly params: EngineParams,
    private readonly clock: Clock,
    /** Most distinct LoRA adapters in one batch (vLLM `max_loras`). */
    readonly maxLoras = 4,
  ) {
    this.kv = new KvCache(params.kvCapacityTokens / params.blockSize);
  }

  get waitingCount(): number {
    return this.waitingLive;
  }

  get runningCount(): number {
    return this.running.length;
  }

  /** Share of KV blocks in use by running requests, 0..1 (vLLM's kv_cache_usage_perc). */
  get kvUsage(): number {
    return this.kv.usedBlocks / this.kv.totalBlocks;
  }

  /** Distinct adapters of running and of waiting requests. */
  loraAdapters(): { running: string[]; waiting: string[] } {
    const running = new Set<string>();
    const waiting = new Set<string>();
    for (const seq of this.running) if (seq.request.lora !== undefined) running.add(seq.request.lora);
    for (let i = this.waitingHead; i < this.waiting.length; i++) {
      const seq = this.waiting[i]!;
      if (seq.state === 'waiting' && seq.request.lora !== undefined) waiting.add(seq.request.lora);
    }
    return { running: [...running], waiting: [...waiting] };
  }

  /** Queues a request; refuses one that could never run here (too long for the model or the cache). */
  submit(request: EngineRequest): SubmitResult {
    const { promptTokens, outputTokens } = request;
    if (!(promptTokens >= 1 && outputTokens >= 1)) return { ok: false, reason: 'a request needs at least one prompt and one output token' };
    if (this.byId.has(request.id)) return { ok: false, reason: `request id "${request.id}" is already in use` };
    const tokens = promptTokens + outputTokens;
    if (tokens > this.params.maxModelLen) {
      return { ok: false, reason: `prompt (${promptTokens}) + output (${outputTokens}) tokens exceed the model's context of ${this.params.maxModelLen}` };
    }
    const totalBlocks = Math.ceil(tokens / this.params.blockSize);
    if (totalBlocks > this.kv.totalBlocks) {
      return { ok: false, reason: `prompt + output (${tokens} tokens) exceed the KV cache of ${this.params.kvCapacityTokens} tokens` };
    }
    const seq = new Sequence(request, this.clock.now(), totalBlocks);
    this.byId.set(request.id, seq);
    this.waiting.push(seq);
    this.waitingLive++;
    this.kick();
    return { ok: true };
  }

  /** Drops a request (its client left); frees its blocks. False when it is unknown or done. */
  abort(id: string): boolean {
    const seq = this.byId.get(id);
    if (seq === undefined) return false;
    this.byId.delete(id);
    if (seq.state === 'waiting') this.waitingLive--;
    if (seq.state === 'running') {
      this.running.splice(this.running.indexOf(seq), 1);
      this.kv.release(seq.allocation!);
    }
    seq.state = 'done';
    this.counters.aborted++;
    return true;
  }

  private kick(): void {
    if (this.stepping || (this.waitingLive === 0 && this.running.length === 0)) return;
    this.stepping = true;
    this.clock.schedule(0, () => this.startStep());
  }

  /** Admits whoever fits, in order, then runs one step over the batch. */
  private startStep(): void {
    this.admit();
    if (this.running.length === 0) {
      this.stepping = false;
      return;
    }
    const p = this.params;
    let budget = p.maxBatchedTokens;
    let decoding = 0;
    let attended = 0;
    let prefill = 0;
    for (const seq of this.running) {
      if (seq.prefilled < seq.request.promptTokens || budget === 0) continue;
      seq.chunk = 1;
      budget--;
      decoding++;
      attended += seq.request.promptTokens + seq.generated;
    }
    for (const seq of this.running) {
      const left = seq.request.promptTokens - seq.prefilled;
      if (left === 0 || budget === 0) continue;
      seq.chunk = Math.min(left, budget);
      budget -= seq.chunk;
      prefill += seq.chunk;
      attended += seq.prefilled + seq.chunk;
    }
    const memory = p.weightsReadS + p.kvReadPerTokenS * attended;
    const compute = p.computePerTokenS * (prefill + decoding);
    const duration = p.stepOverheadS + Math.max(memory, compute);
    this.counters.busySeconds += duration;
    this.counters.kvBlockSeconds += this.kv.usedBlocks * duration;
    this.counters.steps++;
    this.clock.schedule(duration, () => this.finishStep());
  }

  private admit(): void {
    const maxSeqs = this.params.maxNumSeqs;
    while (this.waitingHead < this.waiting.length && this.running.length < maxSeqs) {
      const seq = this.waiting[this.waitingHead]!;
      if (seq.state !== 'waiting') {
        this.waitingHead++;
        continue;
      }
      if (!this.loraFits(seq.request.lora)) break;
      const { promptTokens, blockHashes } = seq.request;
      const bs = this.params.blockSize;
      // At least one prompt token is always computed: it yields the first output token.
      const maxHits = Math.min(blockHashes.length, Math.floor((promptTokens - 1) / bs));
      const allocation = this.kv.tryAllocate(blockHashes, maxHits, seq.totalBlocks);
      if (allocation === undefined) break;
      this.waitingHead++;
      this.waitingLive--;
      seq.allocation = allocation;
      seq.state = 'running';
      seq.admitted = this.clock.now();
      seq.cachedTokens = allocation.hitBlocks * bs;
      seq.prefilled = seq.cachedTokens;
      this.counters.promptTokens += promptTokens;
      this.counters.prefixQueryTokens += promptTokens;
      this.counters.prefixHitTokens += seq.cachedTokens;
      this.running.push(seq);
    }
    // Drop the admitted head now and then so the queue's array does not grow without bound.
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private loraFits(lora: string | undefined): boolean {
    if (lora === undefined) return true;
    const adapters = new Set<string>();
    for (const seq of this.running) {
      if (seq.request.lora === lora) return true;
      if (seq.request.lora !== undefined) adapters.add(seq.request.lora);
    }
    return adapters.size < this.maxLoras;
  }

  private finishStep(): void {
    const now = this.clock.now();
    let kept = 0;
    for (const seq of this.running) {
      const chunk = seq.chunk;
      seq.chunk = 0;
      const request = seq.request;
      if (chunk > 0) {
        if (seq.prefilled < request.promptTokens) {
          seq.prefilled += chunk;
          this.counters.computedPromptTokens += chunk;
          if (seq.prefilled === request.promptTokens) {
            this.kv.publish(seq.allocation!, request.blockHashes);
            seq.firstToken = now;
            seq.generated = 1;
            this.counters.generationTokens++;
            request.listener?.onFirstToken?.(now);
            request.listener?.onToken?.(now, 1);
          }
        } else {
          seq.generated++;
          this.counters.generationTokens++;
          request.listener?.onToken?.(now, seq.generated);
        }
      }
      if (seq.generated >= request.outputTokens) {
        this.complete(seq, now);
      } else {
        this.running[kept++] = seq;
      }
    }
    this.running.length = kept;
    this.stepping = false;
    this.kick();
  }

  private complete(seq: Sequence, now: number): void {
    seq.state = 'done';
    this.kv.release(seq.allocation!);
    this.byId.delete(seq.request.id);
    this.counters.finished++;
    seq.request.listener?.onFinish?.({
      id: seq.request.id,
      lora: seq.request.lora,
      arrival: seq.arrival,
      admitted: seq.admitted,
      firstToken: seq.firstToken,
      finish: now,
      promptTokens: seq.request.promptTokens,
      cachedTokens: seq.cachedTokens,
      computedTokens: seq.request.promptTokens - seq.cachedTokens,
      outputTokens: seq.generated,
    });
  }
}
