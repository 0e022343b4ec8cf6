/**
 * Chain hashes of a prompt's full blocks, as vLLM's prefix cache names them: block i's hash
 * mixes block i-1's hash with block i's token ids, so equal hashes mean equal prefixes. The
 * tail (fewer than blockSize tokens) has no hash; it is never shared.
 *
 * The hash is a 52-bit number built from two 32-bit FNV-1a-style lanes with different seeds
 * (Math.imul mixing), so a Map can key on it without strings; at the few million blocks of a
 * run a collision is about as likely as 1 in 10^4, and its only effect would be one wrong hit.
 */
export function blockHashes(tokens: ArrayLike<number>, blockSize: number): number[] {
  const blocks = Math.floor(tokens.length / blockSize);
  const hashes = new Array<number>(blocks);
  let high = 0x811c9dc5;
  let low = 0x01000193;
  for (let block = 0; block < blocks; block++) {
    // Each block starts from the previous block's lanes: the chain.
    for (let i = block * blockSize; i < (block + 1) * blockSize; i++) {
      const token = tokens[i]!;
      high = Math.imul(high ^ token, 0x01000193);
      low = Math.imul(low ^ (token + 0x9e3779b9), 0x85ebca6b);
      low ^= low >>> 13;
    }
    high = Math.imul(high ^ (high >>> 16), 0x7feb352d);
    hashes[block] = (high >>> 0) * 0x100000 + ((low >>> 0) & 0xfffff);
  }
  return hashes;
}
