// Helpers shared by the frame codec tests (ARP: codec.test.ts, IPv6 ND: nd-codec.test.ts) and the
// address tests (addresses.test.ts, nd-addresses.test.ts).
import assert from 'node:assert/strict';

/** Hex with spaces, for vectors laid out field by field. */
export function fromHex(...parts: string[]): Buffer {
  const text = parts.join('').replace(/\s+/g, '');
  assert.match(text, /^([0-9a-f]{2})*$/, 'test vector is whole bytes of lowercase hex');
  return Buffer.from(text, 'hex');
}

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** Runs `run`, expecting it to throw an `errorClass` with `code`; returns the error. */
export function assertErrorCode<E extends Error & { readonly code: string }>(errorClass: ErrorClass<E>, run: () => unknown, code: E['code']): E {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof errorClass, `expected ${errorClass.name} ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** What both codecs' error classes have. */
export interface CodedError extends Error {
  readonly code: string;
  readonly byteOffset: number | null;
}

/**
 * Runs `run`, expecting an error of `errorClass` with `code` (and `byteOffset` when given); an error
 * with an offset must say it in its message.
 */
export function assertCodedError<E extends CodedError>(errorClass: ErrorClass<E>, run: () => unknown, code: E['code'], byteOffset?: number | null): E {
  const caught = assertErrorCode(errorClass, run, code);
  if (byteOffset !== undefined) assert.equal(caught.byteOffset, byteOffset, caught.message);
  if (typeof caught.byteOffset === 'number') {
    assert.ok(caught.message.includes(`byte ${caught.byteOffset}`), `message says where: ${caught.message}`);
  }
  return caught;
}

/** Wraps bytes so every indexed read is recorded. */
function recordingReads(bytes: Uint8Array): { view: Uint8Array; reads: number[] } {
  const reads: number[] = [];
  const view = new Proxy(bytes, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads.push(Number(key));
      const value: unknown = Reflect.get(target, key, receiver === view ? target : receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { view, reads };
}

/** Draws a whole number below its argument. */
export type RandomInt = (below: number) => number;

/** Up to `maxLength - 1` random bytes. */
export function randomBytes(int: RandomInt, maxLength: number): Buffer {
  const bytes = Buffer.alloc(int(maxLength));
  for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
  return bytes;
}

/** Overwrites `flips` random bytes of `bytes` (in place) with random values. */
export function flipBytes(bytes: Buffer, flips: number, int: RandomInt): Buffer {
  for (let left = flips; left > 0 && bytes.length > 0; left--) bytes[int(bytes.length)] = int(256);
  return bytes;
}

/** One fuzz input: bytes and the decode window. */
export interface FuzzInput {
  bytes: Buffer;
  offset: number;
  length: number | undefined;
}

/**
 * Runs `check` (decode and whatever must hold of its result) on `rounds` inputs: every failure must
 * be an `errorClass`, never another exception. Returns how often each outcome came: "ok" or an error code.
 */
export function fuzzDecoder<E extends CodedError>(
  errorClass: ErrorClass<E>,
  rounds: number,
  input: (round: number) => FuzzInput,
  check: (input: FuzzInput) => void,
): Map<string, number> {
  const outcomes = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    const fuzz = input(round);
    let outcome = 'ok';
    try {
      check(fuzz);
    } catch (error) {
      if (!(error instanceof errorClass)) {
        assert.fail(`round ${round}: ${String(error)} for ${fuzz.bytes.toString('hex')} offset ${fuzz.offset} length ${String(fuzz.length)}`);
      }
      outcome = error.code;
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  return outcomes;
}

/** Fails unless the fuzz reached every outcome in `expected`. */
export function assertReached(outcomes: Map<string, number>, expected: string[]): void {
  for (const outcome of expected) {
    assert.ok((outcomes.get(outcome) ?? 0) > 0, `fuzz reached ${outcome}: ${JSON.stringify([...outcomes])}`);
  }
}

/**
 * Decodes `vector`, placed at byte 9 of a larger buffer, under every length from 0 to its own: each
 * read stays inside the window, and each failure is an `errorClass` TRUNCATED.
 */
export function assertReadsInsideWindow<E extends CodedError>(
  errorClass: ErrorClass<E>,
  decode: (buf: Uint8Array, offset: number, length: number) => unknown,
  vector: Buffer,
): void {
  const at = 9;
  const backing = Buffer.alloc(vector.length + 20, 0xee);
  vector.copy(backing, at);
  for (let length = 0; length <= vector.length; length++) {
    const { view, reads } = recordingReads(backing);
    try {
      decode(view, at, length);
    } catch (error) {
      assert.ok(error instanceof errorClass && error.code === 'TRUNCATED', String(error));
    }
    for (const index of reads) assert.ok(index >= at && index < at + length, `read byte ${index} with length ${length}`);
    if (length === vector.length) assert.ok(reads.length > 0, 'the recorder sees reads');
  }
}

/** A deep copy of `frame` with the field at `path` ("vlan", "arp.targetIp") set to `value`, valid or not. */
export function withField<T>(frame: T, path: string, value: unknown): T {
  const copy = structuredClone(frame) as unknown as Record<string, Record<string, unknown>>;
  const [outer, inner] = path.split('.') as [string, string | undefined];
  if (inner === undefined) (copy as Record<string, unknown>)[outer] = value;
  else copy[outer]![inner] = value;
  return copy as unknown as T;
}
