// Maps and sets that keep at most a given number of entries, the oldest dropped first: the caches and
// "seen lately" sets of the hosts and the web server, which must not grow with the traffic.

/** A Map of at most `max` entries; setting a key again makes it the newest. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    while (this.size > this.max) super.delete(this.keys().next().value as K);
    return this;
  }
}

/** A Set of at most `max` values; adding a value again makes it the newest. */
export class BoundedSet<T> extends Set<T> {
  constructor(private readonly max: number) {
    super();
  }

  override add(value: T): this {
    super.delete(value);
    super.add(value);
    while (this.size > this.max) super.delete(this.values().next().value as T);
    return this;
  }
}
