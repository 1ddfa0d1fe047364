// The console's remembered connections: several clusters (address, credential — the node's token or
// a user's "NAME:SECRET" —, optional CA) and the token of the local agent the console started, in
// one JSON file under the user's config directory. The file holds secrets, so it is created 0600 (in a 0700 directory), written
// atomically (main/fs/atomic-write.ts: private temp file, fsync, rename, fsync of the directory: a
// crash leaves the old file or the new one, never half of one), and read without following a
// symlink planted at its name.
// A file that others can read is made private again and reported (ssh refuses such a key instead;
// refusing here would hide the list from its owner while the secrets stay exposed all the same).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { z } from 'zod';
import { MAX_CA_PEM_LENGTH, MAX_LABEL_LENGTH, MAX_SAVED_CONNECTIONS, type SavedConnection } from '../../preload/contract/ipc';
import { replaceFileAtomically } from '../fs/atomic-write';
import { parseCredential } from '../../preload/contract/users';
import { endpointUrl } from './connection-target';

const MAX_FILE_BYTES = 8 * 1024 * 1024;

const StoredConnectionSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{16}$/),
  label: z.string().min(1).max(MAX_LABEL_LENGTH),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  tls: z.boolean(),
  /** The node's token or a user's credential (the key keeps its name from before users: older files read as they are). */
  token: z.string().max(256).refine((text) => parseCredential(text) !== null && text === text.trim()),
  ca: z.string().max(MAX_CA_PEM_LENGTH).nullable(),
  lastUsed: z.number().int().nonnegative().nullable(),
});
export type StoredConnection = z.infer<typeof StoredConnectionSchema>;

const StoreFileSchema = z.strictObject({
  version: z.literal(1),
  connections: z.array(StoredConnectionSchema).max(MAX_SAVED_CONNECTIONS),
  /** The local agent's token, as the elevated launcher reported it (the token file itself is root's). */
  local: z.strictObject({ port: z.number().int().min(1).max(65535), token: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
});
type StoreFile = z.infer<typeof StoreFileSchema>;

const EMPTY: StoreFile = { version: 1, connections: [], local: null };

export type NewConnection = Omit<StoredConnection, 'id' | 'lastUsed'>;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

export class ConnectionStore {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly warnings: string[] = [];

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Problems met while reading (a file others could read, a corrupt file set aside); cleared on read. */
  takeWarnings(): string[] {
    return this.warnings.splice(0);
  }

  /** Remembered connections without their secrets, most recently used first. */
  async list(): Promise<SavedConnection[]> {
    const data = await this.serial(() => this.read());
    return [...data.connections]
      .sort((a, b) => (b.lastUsed ?? -1) - (a.lastUsed ?? -1) || a.label.localeCompare(b.label))
      .map((entry) => ({
        id: entry.id,
        label: entry.label,
        endpoint: endpointUrl(entry),
        tls: entry.tls,
        hasCa: entry.ca !== null,
        lastUsed: entry.lastUsed,
      }));
  }

  async get(id: string): Promise<StoredConnection | null> {
    const data = await this.serial(() => this.read());
    return data.connections.find((entry) => entry.id === id) ?? null;
  }

  /** Adds a connection, or updates the one to the same host and port (keeping its id). */
  remember(entry: NewConnection): Promise<StoredConnection> {
    return this.update((data) => {
      const existing = data.connections.find((saved) => saved.host === entry.host && saved.port === entry.port);
      const stored: StoredConnection = { ...entry, id: existing?.id ?? randomBytes(8).toString('hex'), lastUsed: this.now() };
      const others = data.connections.filter((saved) => saved !== existing);
      if (others.length >= MAX_SAVED_CONNECTIONS) {
        throw new Error(`at most ${MAX_SAVED_CONNECTIONS} connections can be remembered; forget one first`);
      }
      return { data: { ...data, connections: [...others, stored] }, result: stored };
    });
  }

  /** Records a successful connection (for the order of the list). */
  touch(id: string): Promise<void> {
    return this.update((data) => ({
      data: { ...data, connections: data.connections.map((entry) => (entry.id === id ? { ...entry, lastUsed: this.now() } : entry)) },
      result: undefined,
    }));
  }

  forget(id: string): Promise<boolean> {
    return this.update((data) => {
      const connections = data.connections.filter((entry) => entry.id !== id);
      return { data: { ...data, connections }, result: connections.length !== data.connections.length };
    });
  }

  async localToken(port: number): Promise<string | null> {
    const data = await this.serial(() => this.read());
    return data.local !== null && data.local.port === port ? data.local.token : null;
  }

  setLocalToken(port: number, token: string | null): Promise<void> {
    return this.update((data) => ({ data: { ...data, local: token === null ? null : { port, token } }, result: undefined }));
  }

  /** One read-modify-write at a time (the console is a single process: the single-instance lock). */
  private update<T>(change: (data: StoreFile) => { data: StoreFile; result: T }): Promise<T> {
    return this.serial(async () => {
      const { data, result } = change(await this.read());
      await writePrivateFileAtomically(this.file, `${JSON.stringify(StoreFileSchema.parse(data), null, 2)}\n`);
      return result;
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<StoreFile> {
    let handle;
    try {
      handle = await open(this.file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return structuredClone(EMPTY);
      if (errorCode(error) === 'ELOOP') throw new Error(`${this.file} is a symbolic link; refusing to read tokens through it`, { cause: error });
      throw error;
    }
    let text: string;
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new Error(`${this.file} is not a regular file`);
      if (stats.size > MAX_FILE_BYTES) throw new Error(`${this.file} is larger than ${MAX_FILE_BYTES} bytes`);
      if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
        await handle.chmod(0o600);
        this.warnings.push(`${this.file} was readable by other users (mode ${(stats.mode & 0o777).toString(8)}); made it private (0600). Consider the tokens in it exposed.`);
      }
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
    let parsed: ReturnType<typeof StoreFileSchema.safeParse>;
    try {
      parsed = StoreFileSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = StoreFileSchema.safeParse(undefined);
    }
    if (parsed.success) return parsed.data;
    // Keep the operator's data for inspection rather than overwrite it with an empty list.
    const aside = `${this.file}.corrupt-${this.now()}`;
    await rename(this.file, aside);
    this.warnings.push(`${this.file} was not a valid connection list; moved it to ${aside} and started an empty one`);
    return structuredClone(EMPTY);
  }
}

/** Writes `text` to `file` with mode 0600 (a missing directory 0700), atomically and durably. */
export function writePrivateFileAtomically(file: string, text: string): Promise<void> {
  return replaceFileAtomically(file, text, { mode: 0o600, directoryMode: 0o700 });
}
