// A persistent map from names: the console's resources, 100,000 of them under a stream of 1,000
// changes a second. Copy-on-write of one Map costs a copy of every entry per batch (~60 ms at
// 100,000, several times a second); here the entries are spread over BUCKETS small Maps by a hash
// of the key, and a batch copies only the buckets it writes (~6 entries each at 100,000): the
// earlier version stays exactly as it was, as with a copied Map. Iteration goes bucket by bucket
// (not in insertion order). Pure.
//
// 16,384 buckets, not 4,096: every bucket a batch writes lives on until that bucket is written again
// (tens of seconds at 100,000), so its size is what each young-generation collection copies; the
// top-level list (64 KB) is copied per batch but dies young, which costs a collection little.

const BUCKET_BITS = 14;
const BUCKETS = 1 << BUCKET_BITS;
const EMPTY: ReadonlyMap<string, never> = new Map<string, never>();

/** FNV-1a over the UTF-16 code units, folded to a bucket index. */
function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash ^ (hash >>> BUCKET_BITS) ^ (hash >>> (2 * BUCKET_BITS))) & (BUCKETS - 1);
}

export class BucketMap<V> implements ReadonlyMap<string, V> {
  private constructor(
    private readonly buckets: ReadonlyArray<ReadonlyMap<string, V>>,
    readonly size: number,
  ) {}

  static empty<V>(): BucketMap<V> {
    return new BucketMap<V>(new Array<ReadonlyMap<string, V>>(BUCKETS).fill(EMPTY), 0);
  }

  /** A map of `values` keyed by `keyOf` (a later value replaces an earlier one with its key). */
  static of<V>(values: Iterable<V>, keyOf: (value: V) => string): BucketMap<V> {
    const editor = BucketMap.empty<V>().edit();
    for (const value of values) editor.set(keyOf(value), value);
    return editor.result();
  }

  get(key: string): V | undefined {
    return (this.buckets[bucketOf(key)] as ReadonlyMap<string, V>).get(key);
  }

  has(key: string): boolean {
    return (this.buckets[bucketOf(key)] as ReadonlyMap<string, V>).has(key);
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const bucket of this.buckets) for (const [key, value] of bucket) callback.call(thisArg, value, key, this);
  }

  *entries(): MapIterator<[string, V]> {
    for (const bucket of this.buckets) yield* bucket.entries();
  }

  *keys(): MapIterator<string> {
    for (const bucket of this.buckets) yield* bucket.keys();
  }

  *values(): MapIterator<V> {
    for (const bucket of this.buckets) yield* bucket.values();
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'BucketMap';
  }

  /** A working copy: writes copy a bucket the first time they touch it; `result()` is the new version. */
  edit(): BucketMapEditor<V> {
    return new BucketMapEditor<V>([...this.buckets], this.size);
  }

  /** @internal The editor's way in. */
  static made<V>(buckets: ReadonlyArray<ReadonlyMap<string, V>>, size: number): BucketMap<V> {
    return new BucketMap(buckets, size);
  }
}

export class BucketMapEditor<V> {
  private readonly owned = new Uint8Array(BUCKETS);

  constructor(
    private readonly buckets: Array<ReadonlyMap<string, V>>,
    private count: number,
  ) {}

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return (this.buckets[bucketOf(key)] as ReadonlyMap<string, V>).get(key);
  }

  set(key: string, value: V): void {
    const bucket = this.writable(bucketOf(key));
    const before = bucket.size;
    bucket.set(key, value);
    this.count += bucket.size - before;
  }

  delete(key: string): void {
    const index = bucketOf(key);
    if (!(this.buckets[index] as ReadonlyMap<string, V>).has(key)) return;
    this.writable(index).delete(key);
    this.count -= 1;
  }

  /**
   * The edited version. The editor may go on (a later result is another version): buckets already
   * handed out are copied again before the next write.
   */
  result(): BucketMap<V> {
    this.owned.fill(0);
    return BucketMap.made([...this.buckets], this.count);
  }

  private writable(index: number): Map<string, V> {
    if (this.owned[index] === 1) return this.buckets[index] as Map<string, V>;
    // forEach, not new Map(bucket): the constructor walks an iterator that allocates an entry
    // array per key, garbage that made the stream's collections longer at 100,000 resources.
    const copy = new Map<string, V>();
    (this.buckets[index] as ReadonlyMap<string, V>).forEach((value, key) => copy.set(key, value));
    this.buckets[index] = copy;
    this.owned[index] = 1;
    return copy;
  }
}
