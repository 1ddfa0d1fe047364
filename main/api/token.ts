// The token file (`--token-file F`): the agent creates it on first start and reads it after that;
// clients (CLI, console) read it to authenticate. One line, 64 hex digits.
//
// Creation is atomic and exclusive (createFileAtomically, main/fs/atomic-write.ts): the token is
// written to a private temp file, flushed, then hard-linked to the final name. link() fails if the
// name exists, so two agents starting together agree on one token, and a crash at any point leaves
// either no token file or a complete one (never an empty file that would lock everyone out); the
// directory is fsynced after, so a power cut after start cannot lose the token clients got.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { createFileAtomically } from '../fs/atomic-write';
import { checkTrustedPath } from '../fs/trusted-path';
import { generateToken, isTokenFormat } from './auth';
import { CREDENTIAL_FORMS, parseCredential } from '../../preload/contract/users';

export class TokenFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`token file ${file}: ${message}`, options);
    this.name = 'TokenFileError';
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** Most bytes a token file may have (a token and a newline; anything much larger is not ours). */
const MAX_TOKEN_FILE_BYTES = 256;

/**
 * Reads and checks a token file. With `requirePrivate` (the agent's own file) the file must not be
 * readable or writable by group or others, as ssh treats private keys: a token anyone on the host
 * can read is no secret, and failing loudly beats serving with it.
 */
export async function readTokenFile(file: string, options: { requirePrivate?: boolean } = {}): Promise<string> {
  const token = await readSecretFile(file, options);
  if (!isTokenFormat(token)) throw new TokenFileError(file, 'does not hold a token (64 hex digits)');
  return token;
}

/**
 * A user's credential file (`--credential-file`): "NAME:SECRET" (or a node token). Private like an
 * ssh key: a credential others on the host can read is theirs too, so it is refused, not used.
 */
export async function readCredentialFile(file: string): Promise<string> {
  const text = await readSecretFile(file, { requirePrivate: true, owner: 'reader' });
  if (parseCredential(text) === null) throw new TokenFileError(file, `does not hold a credential (${CREDENTIAL_FORMS})`);
  return text;
}

/** One line of secret text from a file that is not a link and not too large; `requirePrivate`: see readTokenFile. */
async function readSecretFile(file: string, options: { requirePrivate?: boolean; owner?: 'agent' | 'reader' }): Promise<string> {
  let handle;
  try {
    // O_NOFOLLOW: a symlink planted at the token's path must not redirect what the agent reads.
    handle = await open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new TokenFileError(file, 'does not exist', { cause: error });
    if (errorCode(error) === 'ELOOP') throw new TokenFileError(file, 'is a symbolic link; use the real file', { cause: error });
    throw new TokenFileError(file, `cannot be opened (${errorCode(error) ?? String(error)})`, { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new TokenFileError(file, 'is not a regular file');
    if (options.requirePrivate && process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
      throw new TokenFileError(file, `is accessible by other users (mode ${(stats.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
    }
    const uid = process.getuid?.();
    if (options.requirePrivate && uid !== undefined && stats.uid !== uid && stats.uid !== 0) {
      // Whoever owns it knows the secret (and can change it): a planted file is not ours.
      throw new TokenFileError(
        file,
        options.owner === 'reader'
          ? `belongs to uid ${stats.uid}, not to you (uid ${uid}) or root: whoever owns it knows the credential`
          : `belongs to uid ${stats.uid}, not to the agent's user (uid ${uid}) or root: whoever owns it knows the token; remove it (the agent makes a new one)`,
      );
    }
    if (stats.size > MAX_TOKEN_FILE_BYTES) throw new TokenFileError(file, 'is too large to be a token or credential file');
    return (await handle.readFile('utf8')).trim();
  } finally {
    await handle.close();
  }
}

/** The agent's token: read from `file`, or created there (mode 0600; a missing directory 0700) when the file does not exist. */
export async function loadOrCreateToken(file: string): Promise<string> {
  // Its directory and those above must be root's or the agent's own, not writable by others: else
  // another user could put a token of theirs there, or swap the file (main/fs/trusted-path.ts).
  checkTrustedPath(file, { label: `--token-file ${file}` });
  if (process.platform === 'win32') await (await import('../service/windows-acl.js')).checkWindowsTrustedPath(file, { label: `--token-file ${file}` });
  try {
    return await readTokenFile(file, { requirePrivate: true });
  } catch (error) {
    if (!(error instanceof TokenFileError) || errorCode(error.cause) !== 'ENOENT') throw error;
  }
  const token = generateToken();
  let created: boolean;
  try {
    created = await createFileAtomically(file, `${token}\n`, { mode: 0o600, directoryMode: 0o700 });
  } catch (error) {
    // A failed link to the final name is the token file's own problem; a directory or temp file
    // that cannot be made keeps its system error (EACCES: the environment's exit code).
    if ((error as NodeJS.ErrnoException).syscall === 'link') throw new TokenFileError(file, `cannot be created (${errorCode(error) ?? String(error)})`, { cause: error });
    throw error;
  }
  // Not created: another process created it first. Use its token, so every party agrees on one.
  return created ? token : readTokenFile(file, { requirePrivate: true });
}
