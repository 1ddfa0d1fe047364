// Maps any error to the one-line reason and exit code an administrator or a script sees.
import { AddressError } from '../arp/addresses';
import { InterfaceError } from '../net/interfaces';
import { PacketIoError } from '../net/pcap';
import { UsageError } from './usage';
import { EXIT } from './exit-codes';
import { StoreAccessError } from '../store/etcd-access';
import { isStoreError } from '../store/store';
import { ApiBindError } from '../api/exposure';
import { UntrustedPathError } from '../fs/trusted-path';

export function exitCodeFor(error: unknown): number {
  // A store, token or state path another user controls: the path given is wrong (exit 2, no restart).
  if (error instanceof UsageError || error instanceof AddressError || error instanceof InterfaceError || error instanceof UntrustedPathError) return EXIT.badInput;
  if (error instanceof PacketIoError) {
    if (error.code === 'NO_SUCH_INTERFACE') return EXIT.badInput;
    if (error.code === 'PERMISSION' || error.code === 'NO_LIBPCAP') return EXIT.environment;
    return EXIT.runtime;
  }
  // The etcd credentials: a wrong file is bad input; one the agent may not read, or credentials etcd
  // turns down (TLS handshake, user, permissions), are the environment's (exit 4, as a missing capability).
  if (error instanceof StoreAccessError) return error.reason === 'permission' ? EXIT.environment : EXIT.badInput;
  if (isStoreError(error, 'refused')) return EXIT.environment;
  // The API's port or socket is taken (another agent, a squatter) or not ours to bind: the environment's to fix.
  if (error instanceof ApiBindError) return EXIT.environment;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EPERM' || code === 'EACCES' || code === 'NO_ADDON') return EXIT.environment;
  return EXIT.runtime;
}

export function reasonFor(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
