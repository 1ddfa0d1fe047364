// A store whose audit appends are also told to `tap` once the store took them: the one place every
// audit entry an agent writes passes (its parts append through records, the ARP watch, the convergence
// monitor, the commands), so whatever counts them (the metrics) counts exactly what the log holds.
import type { AuditRecord, ClusterStore } from './store';

export function tapAudit(store: ClusterStore, tap: (record: AuditRecord) => void): ClusterStore {
  const bound = new Map<PropertyKey, unknown>();
  const appendAudit = async (record: AuditRecord) => {
    const entry = await store.appendAudit(record);
    tap(record);
    return entry;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'appendAudit') return appendAudit;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let method = bound.get(property);
      if (method === undefined) bound.set(property, (method = (value as (...args: unknown[]) => unknown).bind(target)));
      return method;
    },
  });
}
