// The web console of a lab node, from the machine running the lab: 127.0.0.1:<port> in this (the
// host's) namespace, forwarded into the node's namespace, where its agent serves the console on its
// own loopback. Two halves meet at a Unix socket (a file both namespaces see): tools/unix-forward.ts
// runs in the node's namespace and connects to the agent; this process listens on the host's loopback.
//
// The port is the agent's own: the login binds each proof to the port the client dialled
// (preload/contract/handshake.ts), so a browser must dial the agent's port, here as there.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from './lab';
import { JsonLines } from './json-lines';
import { splice } from './tools/tool-io';

const FORWARD_TOOL = join(__dirname, 'tools', 'unix-forward.js');

export interface ConsoleForward {
  /** "http://127.0.0.1:7790/#token=..." */
  url(token: string): string;
  close(): Promise<void>;
}

export async function startConsoleForward(lab: Lab, node: string, port: number): Promise<ConsoleForward> {
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-forward-'));
  const socketPath = join(dir, 'console.sock');
  const inside = new JsonLines(lab.spawn(node, [process.execPath, FORWARD_TOOL, socketPath, '127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  const open = new Set<Socket>();
  let server: Server | null = null;
  const close = async (): Promise<void> => {
    for (const socket of open) socket.destroy();
    if (server !== null) await new Promise<void>((resolve) => server?.close(() => resolve()));
    inside.child.kill('SIGTERM');
    await inside.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await inside.waitFor((record) => record.text === 'ready', 10_000, 'the forward in the namespace');
    server = createServer((client) => splice(client, connect(socketPath), open));
    server.listen(port, '127.0.0.1');
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => {
        throw (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new Error(`127.0.0.1:${port} is in use on this machine (an agent of its own?): the console cannot be forwarded there`) : (error as Error);
      }),
    ]);
  } catch (error) {
    await close();
    throw error;
  }
  return { url: (token) => `http://127.0.0.1:${port}/#token=${encodeURIComponent(token)}`, close };
}
