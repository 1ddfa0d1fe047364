// How an agent proves itself to a secured etcd: TLS (the CA that signed etcd's server certificate,
// optionally a client certificate and key for `--client-cert-auth`) and etcd's own users (a user name
// and a password file, for etcd's RBAC). `ipfo agent --store-ca F --store-cert F --store-key F
// --store-user NAME --store-password-file F` and the same keys in /etc/ipfo/agent.json.
//
// Two halves: storeAccessProblem() is pure (which combinations make sense, checked before anything
// starts: exit 2); loadStoreAccess() reads the files, once, at start, and checks each (exit 2 for a
// wrong file, 4 when the agent may not read it). See docs/security.md.
import { checkTrustedPath } from '../fs/trusted-path';
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { StoreLocation } from './open';

/** The files and the user name, as given (paths; null = not given). */
export interface StoreAccessFiles {
  ca: string | null;
  cert: string | null;
  key: string | null;
  user: string | null;
  passwordFile: string | null;
}

/** What the etcd client gets: the files' contents. */
export interface StoreAccess {
  /** TLS to etcd (https): the CA to verify etcd with, and the client certificate if any. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** etcd authentication (RBAC). */
  auth?: { username: string; password: string };
}

export const NO_STORE_ACCESS: StoreAccessFiles = { ca: null, cert: null, key: null, user: null, passwordFile: null };

/** The option (or configuration key) of each field. */
export const STORE_ACCESS_OPTIONS = {
  ca: 'store-ca',
  cert: 'store-cert',
  key: 'store-key',
  user: 'store-user',
  passwordFile: 'store-password-file',
} as const satisfies Record<keyof StoreAccessFiles, string>;

export function hasStoreAccess(files: StoreAccessFiles): boolean {
  return Object.values(files).some((value) => value !== null);
}

const MAX_USER_LENGTH = 256;
/** Largest password file read (a password is a line; anything much larger is not one). */
const MAX_PASSWORD_FILE_BYTES = 4096;
/** Largest certificate, CA bundle or key file read. */
const MAX_PEM_FILE_BYTES = 1024 * 1024;

/** What is wrong with an etcd user name, or null. */
export function userNameProblem(user: string): string | null {
  if (user === '') return 'must not be empty';
  if (user.length > MAX_USER_LENGTH) return `longer than ${MAX_USER_LENGTH} characters`;
  if (/[\p{Cc}\u2028\u2029]/u.test(user)) return 'contains a control character';
  if (user.trim() !== user) return 'starts or ends with a space';
  // etcdctl takes `--user name:password`: a colon in the name cannot be given to etcd's own tool.
  if (user.includes(':')) return 'contains ":" (etcd user names cannot)';
  return null;
}

/** 127.0.0.0/8, ::1 or localhost: traffic that never leaves the host. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const host = endpoint.slice(0, endpoint.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The first thing wrong with these settings for this store, or null. `name` spells a field the way
 * the caller's input does (`--store-ca`, or `"store-ca"` in the configuration file). Pure.
 */
export function storeAccessProblem(files: StoreAccessFiles, location: StoreLocation | null, name: (option: string) => string): string | null {
  const n = (field: keyof StoreAccessFiles): string => name(STORE_ACCESS_OPTIONS[field]);
  for (const field of ['ca', 'cert', 'key', 'passwordFile'] as const) {
    if (files[field] === '') return `${n(field)} wants a file name`;
  }
  if (files.user !== null) {
    const problem = userNameProblem(files.user);
    if (problem !== null) return `${n('user')} ${problem}`;
  }
  if ((files.cert === null) !== (files.key === null)) return `${n('cert')} and ${n('key')} go together`;
  if (files.cert !== null && files.ca === null) return `${n('cert')} needs ${n('ca')} (the CA that signed etcd's server certificate): a client certificate is sent over TLS only`;
  if ((files.user === null) !== (files.passwordFile === null)) return `${n('user')} and ${n('passwordFile')} go together`;
  if (location === null || !hasStoreAccess(files)) return null;
  if (location.kind !== 'etcd') {
    const given = (Object.keys(STORE_ACCESS_OPTIONS) as Array<keyof StoreAccessFiles>).find((field) => files[field] !== null)!;
    return `${n(given)} is for an etcd store, and ${name('store')} is file:${location.dir}`;
  }
  if (files.user !== null && files.ca === null) {
    const remote = location.endpoints.find((endpoint) => !isLoopbackEndpoint(endpoint));
    if (remote !== undefined) {
      return `${n('user')} would send the etcd password in the clear to ${remote}: add ${n('ca')} (etcd with TLS), or use etcd on this host's loopback`;
    }
  }
  return null;
}

export class StoreAccessError extends Error {
  constructor(
    readonly option: string,
    readonly file: string,
    message: string,
    /** 'file': the file is wrong (exit 2); 'permission': the agent may not read it (exit 4). */
    readonly reason: 'file' | 'permission',
    options?: { cause?: unknown },
  ) {
    super(`--${option} ${file}: ${message}`, options);
    this.name = 'StoreAccessError';
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * Reads one file: a regular file, not through a symbolic link for secrets (a link planted at the
 * path must not redirect what the agent sends), and with `secret` readable by its owner only (as
 * ssh treats private keys; the API token file has the same rule).
 */
async function readAccessFile(option: string, file: string, limit: number, secret: boolean): Promise<Buffer> {
  let handle;
  try {
    // O_NONBLOCK: a FIFO at the path must not hang the start.
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (secret ? (constants.O_NOFOLLOW ?? 0) : 0));
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') throw new StoreAccessError(option, file, 'no such file', 'file', { cause: error });
    if (code === 'ELOOP') throw new StoreAccessError(option, file, 'is a symbolic link; name the real file', 'file', { cause: error });
    if (code === 'EACCES' || code === 'EPERM') throw new StoreAccessError(option, file, `cannot be read by this user (${code}): run the agent as root, or fix the file's owner`, 'permission', { cause: error });
    throw new StoreAccessError(option, file, `cannot be opened (${code ?? String(error)})`, 'file', { cause: error });
  }
  try {
    let stats: Stats;
    try {
      stats = await handle.stat();
    } catch (error) {
      throw new StoreAccessError(option, file, `cannot be read (${errorCode(error) ?? String(error)})`, 'file', { cause: error });
    }
    if (!stats.isFile()) throw new StoreAccessError(option, file, 'is not a regular file', 'file');
    if (secret && process.platform !== 'win32') {
      if ((stats.mode & 0o077) !== 0) {
        throw new StoreAccessError(option, file, `is accessible by other users (mode ${(stats.mode & 0o777).toString(8)}): run chmod 600 ${file}`, 'file');
      }
      const uid = process.getuid?.();
      if (uid !== undefined && stats.uid !== uid && stats.uid !== 0) {
        throw new StoreAccessError(option, file, `belongs to uid ${stats.uid}, not to the agent's user (uid ${uid}) or root: whoever owns it can change what the agent sends`, 'file');
      }
    }
    if (stats.size > limit) throw new StoreAccessError(option, file, `larger than ${limit} bytes: not the file meant`, 'file');
    // Whoever can change the CA or the certificate (the file, or a directory on the way) decides whom the agent trusts.
    checkTrustedPath(file, { label: `--${option} ${file}` });
    try {
      return await handle.readFile();
    } catch (error) {
      throw new StoreAccessError(option, file, `cannot be read (${errorCode(error) ?? String(error)})`, 'file', { cause: error });
    }
  } finally {
    await handle.close();
  }
}

function certificates(option: string, file: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new StoreAccessError(option, file, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)', 'file');
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new StoreAccessError(option, file, `holds a certificate that does not parse (${(error as Error).message})`, 'file', { cause: error });
    }
  });
}

function checkCurrent(option: string, file: string, certificate: X509Certificate, now: Date): void {
  if (new Date(certificate.validTo).getTime() < now.getTime()) throw new StoreAccessError(option, file, `the certificate expired on ${certificate.validTo}`, 'file');
  if (new Date(certificate.validFrom).getTime() > now.getTime()) throw new StoreAccessError(option, file, `the certificate is not valid before ${certificate.validFrom} (is the clock right?)`, 'file');
}

/**
 * Reads the files named (once: later changes need a restart) and checks each: the CA and the client
 * certificate parse and are current, the key belongs to the certificate, the password file is private
 * and holds one line.
 */
export async function loadStoreAccess(files: StoreAccessFiles, now: Date = new Date()): Promise<StoreAccess> {
  const access: StoreAccess = {};
  if (files.ca !== null) {
    const ca = await readAccessFile(STORE_ACCESS_OPTIONS.ca, files.ca, MAX_PEM_FILE_BYTES, false);
    certificates(STORE_ACCESS_OPTIONS.ca, files.ca, ca);
    access.tls = { ca };
  }
  if (files.cert !== null && files.key !== null && access.tls !== undefined) {
    const cert = await readAccessFile(STORE_ACCESS_OPTIONS.cert, files.cert, MAX_PEM_FILE_BYTES, false);
    const key = await readAccessFile(STORE_ACCESS_OPTIONS.key, files.key, MAX_PEM_FILE_BYTES, true);
    const [leaf] = certificates(STORE_ACCESS_OPTIONS.cert, files.cert, cert);
    checkCurrent(STORE_ACCESS_OPTIONS.cert, files.cert, leaf!, now);
    let privateKey;
    try {
      privateKey = createPrivateKey(key);
    } catch (error) {
      throw new StoreAccessError(STORE_ACCESS_OPTIONS.key, files.key, 'is not a PEM private key (encrypted keys are not supported)', 'file', { cause: error });
    }
    if (!leaf!.checkPrivateKey(privateKey)) throw new StoreAccessError(STORE_ACCESS_OPTIONS.key, files.key, `is not the key of the certificate in ${files.cert}`, 'file');
    access.tls = { ...access.tls, cert, key };
  }
  if (files.user !== null && files.passwordFile !== null) {
    const text = (await readAccessFile(STORE_ACCESS_OPTIONS.passwordFile, files.passwordFile, MAX_PASSWORD_FILE_BYTES, true)).toString('utf8');
    // One line; the newline an editor or `echo` adds is not part of the password.
    const password = text.replace(/\r?\n$/, '');
    if (password === '') throw new StoreAccessError(STORE_ACCESS_OPTIONS.passwordFile, files.passwordFile, 'is empty: it should hold the etcd password of the user', 'file');
    if (/[\r\n]/.test(password)) throw new StoreAccessError(STORE_ACCESS_OPTIONS.passwordFile, files.passwordFile, 'holds more than one line: it should hold the password alone', 'file');
    access.auth = { username: files.user, password };
  }
  return access;
}
