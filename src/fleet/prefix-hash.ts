/**
 * Chained block hashes of a prompt, for prefix-cache affinity. The text is cut into blocks of a
 * fixed number of characters; block i's hash covers blocks 0..i (the running hash is not reset
 * at a boundary), so two prompts share block i's hash exactly when they share their first i+1
 * blocks — the same unit in which inference servers reuse their KV cache. Only whole blocks
 * count: a trailing partial block is never cached by a server either.
 *
 * The hash is a two-lane multiplicative hash over UTF-16 code units with a final mix per emitted
 * block, giving a 53-bit number usable as a Map key without allocation. Written here rather than
 * sha1 per block: it runs over each character once, with no Buffer or string copies, and the
 * result needs only to tell blocks apart within one server's recent history (see docs/fleet.md
 * for the measurement).
 */

const LANE1_PRIME = 0x01000193;
const LANE2_PRIME = 0x9e3779b1;

/** Incremental hasher: feed text pieces in prompt order, then read the block hashes. */
export class PrefixHasher {
  private lane1 = 0x811c9dc5;
  private lane2 = 0x6a09e667;
  private inBlock = 0;
  readonly blocks: number[] = [];

  constructor(
    seed: string,
    private readonly blockChars: number,
    private readonly maxBlocks: number,
  ) {
    this.add(seed);
    this.add('\u0000');
    // The seed is not part of the prompt's blocks.
    this.blocks.length = 0;
    this.inBlock = 0;
  }

  /** Whether more text is wanted (false once `maxBlocks` blocks are complete). */
  get full(): boolean {
    return this.blocks.length >= this.maxBlocks;
  }

  add(text: string): void {
    let lane1 = this.lane1;
    let lane2 = this.lane2;
    let inBlock = this.inBlock;
    const blockChars = this.blockChars;
    let index = 0;
    while (index < text.length && this.blocks.length < this.maxBlocks) {
      // Hash up to the next block boundary in a tight loop, then emit.
      const start = index;
      const stop = Math.min(text.length, index + blockChars - inBlock);
      for (; index < stop; index++) {
        const code = text.charCodeAt(index);
        lane1 = Math.imul(lane1 ^ code, LANE1_PRIME);
        lane2 = Math.imul(((lane2 << 5) | (lane2 >>> 27)) ^ code, LANE2_PRIME);
      }
      inBlock += stop - start;
      if (inBlock === blockChars) {
        inBlock = 0;
        this.blocks.push(finish(lane1, lane2));
      }
    }
    this.lane1 = lane1;
    this.lane2 = lane2;
    this.inBlock = inBlock;
  }
}

/** Mixes both lanes into 53 bits, so that nearby inputs spread over the whole range. */
function finish(lane1: number, lane2: number): number {
  const high = mix(lane2 ^ Math.imul(lane1, 0x2c1b3c6d));
  const low = mix(lane1 ^ (lane2 >>> 7));
  return (high & 0x1fffff) * 0x100000000 + (low >>> 0);
}

function mix(value: number): number {
  value ^= value >>> 15;
  value = Math.imul(value, 0x2c1b3c6d);
  value ^= value >>> 12;
  value = Math.imul(value, 0x297a2d39);
  value ^= value >>> 15;
  return value;
}

/**
 * The block hashes of what a request will send as its prompt: each chat message's role and text
 * content in order (image and audio parts by their URL or data), or a completion's `prompt`.
 * Other body fields (sampling settings) do not change the server's cached prefix.
 */
export function promptBlockHashes(body: unknown, seed: string, blockChars: number, maxBlocks: number): number[] {
  const hasher = new PrefixHasher(seed, blockChars, maxBlocks);
  if (body === null || typeof body !== 'object') return hasher.blocks;
  const request = body as { messages?: unknown; prompt?: unknown };
  if (Array.isArray(request.messages)) {
    for (const message of request.messages) {
      if (hasher.full) break;
      if (message === null || typeof message !== 'object') continue;
      const { role, content } = message as { role?: unknown; content?: unknown };
      if (typeof role === 'string') hasher.add(role);
      hasher.add('\n');
      addContent(hasher, content);
      hasher.add('\n');
    }
  } else if (typeof request.prompt === 'string') {
    hasher.add(request.prompt);
  } else if (Array.isArray(request.prompt) && typeof request.prompt[0] === 'string') {
    hasher.add(request.prompt[0]);
  }
  return hasher.blocks;
}

function addContent(hasher: PrefixHasher, content: unknown): void {
  if (typeof content === 'string') {
    hasher.add(content);
    return;
  }
  if (!Array.isArray(content)) return;
  for (const part of content) {
    if (hasher.full) return;
    if (part === null || typeof part !== 'object') continue;
    const { text, image_url: image } = part as { text?: unknown; image_url?: { url?: unknown } };
    if (typeof text === 'string') hasher.add(text);
    else if (image !== null && typeof image === 'object' && typeof image.url === 'string') hasher.add(image.url);
  }
}
