// Why etcd refused an agent at start, in one line an operator can act on: the TLS handshake (a
// client certificate etcd wants or does not trust; a server certificate we cannot verify), etcd's
// authentication (no user, wrong user or password) or its RBAC (no permission on the cluster's keys).
// A refusal is StoreError 'refused' (`ipfo agent` exits 4, and does not retry: the same credentials
// get the same answer); anything else keeps its usual StoreError.
import {
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  GRPCInvalidArgumentError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
} from 'etcd3';
import { StoreError } from './store';

export interface RefusalContext {
  /** `https://10.0.0.1:2379`, ... as the client dials them. */
  urls: string[];
  /** The key prefix the agent reads and writes (ipfo/<cluster>/). */
  prefix: string;
  tls: boolean;
  clientCert: boolean;
  /** The etcd user given (--store-user), or null. */
  user: string | null;
}

/**
 * The reason inside grpc-js's "14 UNAVAILABLE: No connection established. Last error: <reason>
 * (<time>). Resolution note: " message, without OpenSSL's error-queue prefix and source location.
 */
export function connectionReason(message: string): string {
  const last = /Last error: ([\s\S]*?)(?: \(\d{4}-\d\d-\d\dT[^)]*\))?\.? Resolution note:/.exec(message)?.[1] ?? message;
  const line = (last.split('\n')[0] ?? '').trim();
  // 80FCE7...:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/...:1601:SSL alert number 42
  const openssl = /(?:^|:)error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/.exec(line);
  if (openssl !== null) return openssl[1]!.trim();
  return line.replace(/^Error(?: \[[A-Z_]+\])?: /, '').replace(/\.$/, '');
}

const CLIENT_CERT_REJECTED = /alert bad certificate|certificate required|alert unknown ca|alert certificate unknown|alert certificate expired|alert handshake failure|alert access denied/i;
const SERVER_CERT_UNVERIFIED = /unable to verify|self[- ]signed|unable to get (?:local )?issuer|certificate has expired|certificate is not yet valid|does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID|CERT_HAS_EXPIRED|DEPTH_ZERO_SELF_SIGNED|unsuitable certificate purpose/i;

function where(context: RefusalContext): string {
  return `etcd at ${context.urls.join(', ')}`;
}

function userOf(context: RefusalContext): string {
  if (context.user !== null) return `user ${JSON.stringify(context.user)}`;
  return context.clientCert ? 'the user named by the client certificate\'s CN' : 'no user';
}

/** StoreError 'refused' with the line to print when `error` is a refusal of our credentials; else null. */
export function refusalOf(error: unknown, context: RefusalContext): StoreError | null {
  const refused = (message: string): StoreError => new StoreError('refused', message, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof EtcdAuthenticationFailedError || error instanceof GRPCUnauthenticatedError || error instanceof EtcdInvalidAuthTokenError) {
    return context.user === null
      ? refused(`${where(context)} refused the agent: authentication failed: give --store-user and --store-password-file (an etcd user with readwrite on ${context.prefix})`)
      : refused(`${where(context)} refused user ${JSON.stringify(context.user)}: authentication failed (wrong user name or password): check --store-user and the password in --store-password-file`);
  }
  if (error instanceof GRPCInvalidArgumentError && /user name is empty/.test(message)) {
    return refused(`${where(context)} has authentication enabled and the agent gave no user: give --store-user and --store-password-file (an etcd user with readwrite on ${context.prefix})`);
  }
  if (error instanceof EtcdPermissionDeniedError) {
    return refused(
      `${where(context)}: permission denied to ${userOf(context)} on ${context.prefix}: grant its role readwrite on that prefix ` +
        `(etcdctl role grant-permission <role> --prefix=true readwrite ${context.prefix})`,
    );
  }
  if (error instanceof GRPCUnavailableError && context.tls) {
    const reason = connectionReason(message);
    if (CLIENT_CERT_REJECTED.test(reason)) {
      return context.clientCert
        ? refused(`${where(context)} rejected the TLS handshake (${reason}): it does not accept the client certificate in --store-cert (not signed by the CA of etcd's --trusted-ca-file, expired, or not for client authentication)`)
        : refused(`${where(context)} rejected the TLS handshake (${reason}): it wants a client certificate: give --store-cert and --store-key (signed by the CA of etcd's --trusted-ca-file)`);
    }
    if (SERVER_CERT_UNVERIFIED.test(reason)) {
      return refused(`cannot verify the TLS certificate of ${where(context)} (${reason}): --store-ca must name the CA that signed it, and its subjectAltName must hold the address given in --store`);
    }
  }
  return null;
}

/** A hint for an etcd that could not be reached, when the cause may be a TLS mismatch (else ''). */
export function unreachableHint(error: unknown, context: RefusalContext): string {
  if (!(error instanceof GRPCUnavailableError)) return '';
  const reason = connectionReason(error.message);
  if (!context.tls && /^Failed to connect$/i.test(reason)) return ' (if etcd serves TLS there, give --store-ca)';
  if (context.tls && /disconnected before secure TLS connection|wrong version number|packet length too long/i.test(reason)) return ' (does etcd serve TLS there? its --listen-client-urls must be https://)';
  return '';
}
