/**
 * A Map of at most `max` entries: adding a new key when full drops the one added first (a Map
 * iterates in insertion order). For what an instance keeps to save a round trip and can always
 * read again, so that many accounts or keys cannot grow it without bound.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.max && !this.has(key)) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}
