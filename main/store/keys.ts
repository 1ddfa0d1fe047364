// Key layout of the cluster in etcd (pure; no I/O):
//   ipfo/<cluster>/nodes/<node>         NodeRecord, persistent (a node stays known while down)
//   ipfo/<cluster>/members/<node>       MemberRecord, bound to the node's lease (alive marker)
//   ipfo/<cluster>/resources/<name>     ResourceSpec
//   ipfo/<cluster>/owners/<resource>    JSON string of the owner's node name, bound to its lease
//   ipfo/<cluster>/status/<resource>    ResourceStatus
//   ipfo/<cluster>/intents/<id>         Intent
//   ipfo/<cluster>/health/<node>        NodeHealth, bound to the node's lease (its checks' verdicts)
//   ipfo/<cluster>/users/<name>         UserRecord (a named user: role and login verifier, never the secret)
//   ipfo/<cluster>/audit/<seq, 16 digits> AuditEntry (zero-padded so key order = append order)
//   ipfo/<cluster>/meta/audit-seq       the last audit seq (compare-and-swap counter)
// The file store uses the same collection names.
import { COLLECTIONS, StoreError, type Collection } from './store';

export const KEY_ROOT = 'ipfo';
export const DEFAULT_CLUSTER = 'default';
export const AUDIT_SEQ_DIGITS = 16;

const MAX_NAME_LENGTH = 253;

function isKeySafe(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || name === '.' || name === '..') return false;
  for (const char of name) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '/' || code < 0x20 || code === 0x7f || /\s/u.test(char)) return false;
  }
  return true;
}

/** Names become key segments: no slash, no whitespace or control characters, not empty. */
export function checkName(kind: string, name: string): string {
  if (!isKeySafe(name)) {
    throw new StoreError('invalid', `${kind} name ${JSON.stringify(name)} cannot be stored (empty, '/', whitespace or control characters)`);
  }
  return name;
}

export function padSeq(seq: number): string {
  return String(seq).padStart(AUDIT_SEQ_DIGITS, '0');
}

/** The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i -= 1) {
    const byte = bytes[i] ?? 0xff;
    if (byte < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  // Every byte is 0xff (or the prefix is empty): the range runs to the end of the key space.
  return Buffer.from([0]);
}

export class KeyLayout {
  readonly root: string;

  constructor(readonly cluster: string = DEFAULT_CLUSTER) {
    checkName('cluster', cluster);
    this.root = `${KEY_ROOT}/${cluster}/`;
  }

  dir(collection: Collection): string {
    return `${this.root}${collection}/`;
  }

  key(collection: Collection, name: string): string {
    return this.dir(collection) + checkName(collection, name);
  }

  auditKey(seq: number): string {
    return this.dir('audit') + padSeq(seq);
  }

  get auditSeqKey(): string {
    return `${this.root}meta/audit-seq`;
  }

  /** Collection and name of a key under the root; null for keys that are not cluster entries (meta). */
  parse(key: string): { collection: Collection; name: string } | null {
    if (!key.startsWith(this.root)) return null;
    const rest = key.slice(this.root.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return null;
    const collection = rest.slice(0, slash);
    const name = rest.slice(slash + 1);
    if (name === '' || !(COLLECTIONS as readonly string[]).includes(collection)) return null;
    return { collection: collection as Collection, name };
  }
}
