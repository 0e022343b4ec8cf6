/**
 * A bounded set that forgets its least recently touched member first (an LRU without values).
 * A Map keeps insertion order, so touching is delete-and-insert and the oldest is the first key:
 * O(1) per operation and no extra bookkeeping.
 */
export class RecentSet<K> {
  private readonly members = new Map<K, true>();

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('RecentSet capacity must be at least 1');
  }

  get size(): number {
    return this.members.size;
  }

  has(key: K): boolean {
    return this.members.has(key);
  }

  /** Adds `key` or marks it as just used; evicts the least recently used member when full. */
  touch(key: K): void {
    if (this.members.delete(key)) {
      this.members.set(key, true);
      return;
    }
    if (this.members.size >= this.capacity) this.members.delete(this.members.keys().next().value as K);
    this.members.set(key, true);
  }

  clear(): void {
    this.members.clear();
  }
}
