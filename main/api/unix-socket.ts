// The agent API's local socket: a Unix socket in a directory only its owner may enter (0700), the
// socket itself 0600. Unlike a TCP port on loopback, no other local user can bind it before the agent
// (the directory is the agent's, checked here) or connect to it: a local client reaching it knows it
// reached the agent, and the agent knows the client runs as root (the agent's user).
//
// A socket left by an agent that died is removed; one that answers belongs to a running agent and is
// an error (the same as a TCP port in use). Linux and macOS; on Windows the agent has no socket yet.
import { lstat, mkdir, unlink, chmod } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Server } from 'node:http';
import { ExposureError } from './exposure';

/** The handshake's channel for the socket (handshake.ts). */
export const UNIX_CHANNEL = 'unix';

/** Where a root agent listens and a local CLI looks first. */
export const DEFAULT_API_SOCKET = '/run/ipfo/api.sock';

/** "ws+unix:/run/ipfo/api.sock:/api": what the ws client dials for a socket path. */
export function socketUrl(path: string, apiPath: string): string {
  return `ws+unix:${path}:${apiPath}`;
}

/** Makes the socket's directory (0700) or checks the one there: a directory of ours that nobody else may write into. */
async function prepareDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stats = await lstat(directory);
  if (!stats.isDirectory()) throw new ExposureError(`${directory} (the API socket's directory) is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new ExposureError(`${directory} (the API socket's directory) belongs to uid ${stats.uid}, not to the agent (uid ${uid}): remove it`);
  }
  if ((stats.mode & 0o077) !== 0) {
    throw new ExposureError(`${directory} (the API socket's directory) is open to other users (mode ${(stats.mode & 0o777).toString(8)}): run chmod 700 ${directory}`);
  }
}

/** Whether something accepts connections at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Removes a socket an agent left behind; refuses when one answers there, or when the path is not a socket. */
async function clearStaleSocket(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stats.isSocket()) throw new ExposureError(`${path} exists and is not a socket: remove it, or give another --api-socket`);
  if (await answers(path)) throw new ExposureError(`${path} is in use (another agent running?)`);
  await unlink(path);
}

/** Listens on `path` (directory 0700, socket 0600); rejects with an ExposureError that says why not. */
export async function listenOnSocketPath(server: Server, path: string): Promise<void> {
  await prepareDirectory(dirname(path));
  await clearStaleSocket(path);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(error.code === 'EADDRINUSE' ? new ExposureError(`${path} is in use (another agent running?)`) : error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ path, exclusive: true });
  });
  // The directory already keeps others out; the mode says so to whoever looks.
  await chmod(path, 0o600);
}
