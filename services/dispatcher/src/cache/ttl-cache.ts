/** Milliseconds since the epoch; injectable so tests move time without sleeping. */
export type Clock = () => number;

interface Entry<V> {
  value: V;
  expiresAt: number;
}

interface Loading<V> {
  promise: Promise<V>;
}

/**
 * A map whose entries expire, with one load in flight per key. Dropping a
 * key while its load is in flight discards that load's result: the value
 * was read before the change that dropped it, so caching it would undo the
 * invalidation.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Loading<V>>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached value, or the result of `load` (cached for `ttlOf(value)` ms). */
  get(key: K, load: () => Promise<V>, ttlOf: (value: V) => number): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.expiresAt > this.clock()) return Promise.resolve(hit.value);
      this.entries.delete(key);
    }
    const inflight = this.loading.get(key);
    if (inflight) return inflight.promise;

    const record: Loading<V> = { promise: undefined as unknown as Promise<V> };
    record.promise = load().then(
      (value) => {
        if (this.loading.get(key) === record) {
          this.loading.delete(key);
          const ttl = ttlOf(value);
          if (ttl > 0) this.entries.set(key, { value, expiresAt: this.clock() + ttl });
        }
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === record) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, record);
    return record.promise;
  }

  delete(key: K): void {
    this.entries.delete(key);
    this.loading.delete(key);
  }

  /** Drops every key for which `match` is true (cached or loading). */
  deleteWhere(match: (key: K) => boolean): void {
    for (const key of [...this.entries.keys()]) if (match(key)) this.entries.delete(key);
    for (const key of [...this.loading.keys()]) if (match(key)) this.loading.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.loading.clear();
  }
}
