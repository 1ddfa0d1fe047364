// The Resources table's rows at 100,000, under a stream of 1,000 changes a second. Replacing a few
// rows in a copy of one 100,000-slot array allocates ~0.8 MB per batch, ten batches a second; an
// array that large lives in V8's large-object space, which only a full mark-compact frees (a trace
// showed one of ~30 ms at 100,000 rows in a long frame). Here the rows are held in
// chunks of CHUNK_SIZE, and an edit copies only the chunks it writes plus the short list of chunks:
// small, short-lived objects the young generation frees cheaply. The earlier version stays exactly
// as it was (the table may still be rendering it). Pure.

/** What the table reads from its rows: a plain array is one too (loading rows, group rows). */
export interface RowSequence<T> extends Iterable<T> {
  readonly length: number;
  at(index: number): T | undefined;
  findIndex(test: (row: T) => boolean): number;
}

/**
 * 128 rows: a batch of 100 changes spread over 100,000 rows writes ~94 of the 782 chunks, so an
 * edit copies ~12,000 slots and a 6 KB list instead of 100,000 slots.
 */
export const CHUNK_SIZE = 128;

/** The row at `index` of `length` rows held in `chunks`, or undefined outside 0 .. length - 1 (no negative indexes, unlike Array.at). */
function rowAt<T>(chunks: ReadonlyArray<readonly T[]>, length: number, index: number): T | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= length) return undefined;
  return (chunks[Math.floor(index / CHUNK_SIZE)] as readonly T[])[index % CHUNK_SIZE];
}

export class ChunkedRows<T> implements RowSequence<T> {
  private constructor(
    private readonly chunks: ReadonlyArray<readonly T[]>,
    readonly length: number,
  ) {}

  static of<T>(rows: readonly T[]): ChunkedRows<T> {
    const chunks: T[][] = [];
    for (let start = 0; start < rows.length; start += CHUNK_SIZE) chunks.push(rows.slice(start, start + CHUNK_SIZE));
    return new ChunkedRows(chunks, rows.length);
  }

  at(index: number): T | undefined {
    return rowAt(this.chunks, this.length, index);
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** The first index whose row passes `test`, or -1. */
  findIndex(test: (row: T) => boolean): number {
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c] as readonly T[];
      for (let i = 0; i < chunk.length; i++) if (test(chunk[i] as T)) return c * CHUNK_SIZE + i;
    }
    return -1;
  }

  toArray(): T[] {
    return this.chunks.flat<ReadonlyArray<readonly T[]>>();
  }

  /** An editor over a copy: writes copy a chunk the first time they touch it; this list never changes. */
  edit(): ChunkedRowsEditor<T> {
    return new ChunkedRowsEditor(this.chunks, this.length);
  }

  /** @internal the editor's result. */
  static fromChunks<T>(chunks: ReadonlyArray<readonly T[]>, length: number): ChunkedRows<T> {
    return new ChunkedRows(chunks, length);
  }
}

export class ChunkedRowsEditor<T> {
  private chunks: Array<readonly T[]>;
  /** The chunks this editor copied, which it may write in place until result() hands them out. */
  private readonly owned = new Set<number>();

  constructor(chunks: ReadonlyArray<readonly T[]>, readonly length: number) {
    this.chunks = chunks.slice();
  }

  at(index: number): T | undefined {
    return rowAt(this.chunks, this.length, index);
  }

  /** Replaces the row at `index`; a RangeError outside 0 .. length - 1 (an edit never resizes). */
  set(index: number, row: T): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) throw new RangeError(`row ${index} is outside 0..${this.length - 1}`);
    const at = Math.floor(index / CHUNK_SIZE);
    let chunk = this.chunks[at] as T[];
    if (!this.owned.has(at)) {
      chunk = chunk.slice();
      this.chunks[at] = chunk;
      this.owned.add(at);
    }
    chunk[index % CHUNK_SIZE] = row;
  }

  /** The edited rows; later writes through this editor copy again and do not reach them. */
  result(): ChunkedRows<T> {
    const rows = ChunkedRows.fromChunks(this.chunks, this.length);
    this.chunks = this.chunks.slice();
    this.owned.clear();
    return rows;
  }
}
