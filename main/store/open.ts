// Opens the store an agent is told to use: `etcd://host:port[,host:port...]` or `file:<dir>`.
// Without etcd configured the file store is the default (one host).
import type { EtcdStoreOptions } from './etcd-store';
import { StoreError, type ClusterStore } from './store';

export type StoreLocation = { kind: 'etcd'; endpoints: string[] } | { kind: 'file'; dir: string };

const ENDPOINT_PATTERN = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export function parseStoreLocation(text: string): StoreLocation {
  if (text.startsWith('etcd://')) {
    const endpoints = text.slice('etcd://'.length).replace(/\/+$/, '').split(',');
    for (const endpoint of endpoints) {
      const match = ENDPOINT_PATTERN.exec(endpoint);
      const port = Number(match?.[2]);
      if (match === null || port < 1 || port > 65535) {
        throw new StoreError('invalid', `store ${JSON.stringify(text)}: ${JSON.stringify(endpoint)} is not host:port`);
      }
    }
    return { kind: 'etcd', endpoints };
  }
  if (text.startsWith('file:')) {
    const dir = text.slice('file:'.length);
    if (dir === '') throw new StoreError('invalid', 'store file: needs a directory, e.g. file:/var/lib/ipfo/store');
    return { kind: 'file', dir };
  }
  throw new StoreError('invalid', `store ${JSON.stringify(text)}: expected etcd://host:port[,host:port] or file:<directory>`);
}

export interface OpenStoreOptions extends Omit<EtcdStoreOptions, 'endpoints'> {
  auditRetention?: number;
}

export async function openStore(location: string | StoreLocation, options: OpenStoreOptions = {}): Promise<ClusterStore> {
  const parsed = typeof location === 'string' ? parseStoreLocation(location) : location;
  // Loaded on demand: the etcd client (gRPC, protobuf) takes longer to load than the rest of ipfo together.
  if (parsed.kind === 'etcd') return (await import('./etcd-store.js')).EtcdStore.open({ ...options, endpoints: parsed.endpoints });
  return (await import('./file-store.js')).FileStore.open({ dir: parsed.dir, ...(options.auditRetention === undefined ? {} : { auditRetention: options.auditRetention }) });
}
