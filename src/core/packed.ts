/**
 * `items.map(fn)` as a packed array. Optimized code builds Array#map's result as a holey array
 * (it allocates the length first), and a holey array takes the slow paths where rows go next:
 * structured clone (postMessage to a writer thread) writes it as a sparse array, index by index,
 * and the receiving thread rebuilds it property by property; JSON.stringify walks it by its
 * generic path. Pushed one by one, the array stays packed and both take their fast paths.
 */
export function mapPacked<T, U>(items: readonly T[], fn: (item: T) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < items.length; i++) out.push(fn(items[i]!));
  return out;
}
