// The namespace half of the demo's console forward (test/lab/console-forward.ts): listens on a Unix
// socket — a file, so the host's namespace reaches it — and connects each client to host:port in the
// network namespace this runs in (a lab node's loopback, where its agent serves the console).
//
//   node build/test/lab/tools/unix-forward.js <socket path> <host> <port>
//
// Prints "ready" once listening; exits 0 on SIGTERM/SIGINT.
import { connect, createServer, type Socket } from 'node:net';
import { onStopRequest, splice } from './tool-io';

function main(): void {
  const [path, host, portText] = process.argv.slice(2);
  const port = Number(portText);
  if (path === undefined || host === undefined || !Number.isInteger(port) || port <= 0 || port >= 65536) {
    throw new Error('usage: unix-forward.js <socket path> <host> <port>');
  }
  const open = new Set<Socket>();
  const server = createServer((client) => splice(client, connect(port, host), open));
  server.listen(path, () => process.stdout.write('ready\n'));
  onStopRequest(() => {
    for (const socket of open) socket.destroy();
    server.close(() => process.exit(0));
  });
}

main();
