/**
 * The simulated server's KV cache: a fixed number of blocks, and a prefix cache over them.
 *
 * A prompt's full blocks are named by chain hashes (block i's hash covers blocks 0..i, see
 * prompt-blocks.ts), so a hit on block i means the whole prefix up to it is the same. Blocks in
 * use are pinned (reference counted); when the last user lets go they stay cached but evictable,
 * in least-recently-released order, and are reused by a later prompt with the same prefix or
 * evicted when space is needed. Blocks that are not full prompt blocks (the prompt's tail and the
 * output) are private to their request and freed when it ends.
 */
export interface Allocation {
  /** Hashes this request holds a reference on, in prompt order. */
  readonly pinned: number[];
  /** Blocks held without a hash (prompt tail, output, or a duplicate of a block cached meanwhile). */
  privateBlocks: number;
  /** Leading prompt blocks found in the cache at admission. */
  readonly hitBlocks: number;
}

export class KvCache {
  /** Hashed blocks (pinned or evictable) → references. */
  private readonly refs = new Map<number, number>();
  /** Hashed blocks nobody references, oldest release first (a Map keeps insertion order). */
  private readonly evictable = new Map<number, true>();
  /** Blocks referenced by a running request: pinned hashed blocks + private blocks. */
  private used = 0;

  constructor(readonly totalBlocks: number) {}

  /** Blocks in use by running requests. */
  get usedBlocks(): number {
    return this.used;
  }

  /** Blocks holding anything (in use or cached): never more than totalBlocks. */
  get storedBlocks(): number {
    return this.used + this.evictable.size;
  }

  /** How many leading hashes are cached (at most `limit`). */
  cachedPrefix(hashes: readonly number[], limit = hashes.length): number {
    let hits = 0;
    while (hits < limit && this.refs.has(hashes[hits]!)) hits++;
    return hits;
  }

  /**
   * Reserves `totalBlocks` blocks for a request, reusing up to `maxHits` leading prompt blocks
   * from the cache; undefined when they do not fit even after evicting every unreferenced block.
   */
  tryAllocate(hashes: readonly number[], maxHits: number, totalBlocks: number): Allocation | undefined {
    const hits = this.cachedPrefix(hashes, maxHits);
    let reviving = 0;
    for (let i = 0; i < hits; i++) if (this.refs.get(hashes[i]!) === 0) reviving++;
    const fresh = totalBlocks - hits;
    if (this.used + reviving + fresh > this.totalBlocks) return undefined;
    const pinned: number[] = [];
    for (let i = 0; i < hits; i++) {
      const hash = hashes[i]!;
      const refs = this.refs.get(hash)!;
      if (refs === 0) this.evictable.delete(hash);
      this.refs.set(hash, refs + 1);
      pinned.push(hash);
    }
    this.used += reviving + fresh;
    this.evictFor(0);
    return { pinned, privateBlocks: fresh, hitBlocks: hits };
  }

  /**
   * After a prompt's prefill: its full blocks from `from` on become cached (hashed) blocks, so
   * later prompts with the same prefix hit them. A block someone else cached meanwhile stays
   * private (a duplicate), as in vLLM.
   */
  publish(allocation: Allocation, hashes: readonly number[]): void {
    for (let i = allocation.hitBlocks; i < hashes.length; i++) {
      const hash = hashes[i]!;
      if (this.refs.has(hash)) continue;
      this.refs.set(hash, 1);
      allocation.pinned.push(hash);
      allocation.privateBlocks--;
    }
  }

  /** Lets go of a request's blocks; its hashed ones stay cached, the tail of a prompt first in line for eviction. */
  release(allocation: Allocation): void {
    for (let i = allocation.pinned.length - 1; i >= 0; i--) {
      const hash = allocation.pinned[i]!;
      const refs = this.refs.get(hash)! - 1;
      this.refs.set(hash, refs);
      if (refs === 0) {
        this.evictable.set(hash, true);
        this.used--;
      }
    }
    this.used -= allocation.privateBlocks;
    allocation.pinned.length = 0;
    allocation.privateBlocks = 0;
  }

  /** Evicts least recently released blocks until `extra` more blocks fit. */
  private evictFor(extra: number): void {
    for (const hash of this.evictable.keys()) {
      if (this.used + this.evictable.size + extra <= this.totalBlocks) return;
      this.evictable.delete(hash);
      this.refs.delete(hash);
    }
  }
}
