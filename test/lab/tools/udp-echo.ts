// UDP echo for the lab: answers every datagram with a reply that names this
// host and echoes the sender's sequence number, so a client can tell which
// node a virtual address led it to.
//
//   node build/test/lab/tools/udp-echo.js [port] --name n1 [--port 7000] [--bind 0.0.0.0]
//
// Prints "ready" on stdout once bound; exits 0 on SIGTERM/SIGINT.
// Replies leave from the host's primary address (the kernel picks the source
// for an unconnected socket bound to 0.0.0.0); clients match on the payload,
// not on the source address.
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { DEFAULT_ECHO_PORT, decodeRequest, encodeReply } from './echo-protocol';

function main(): void {
  const { values, positionals } = parseArgs({
    options: {
      name: { type: 'string' },
      port: { type: 'string' },
      bind: { type: 'string', default: '0.0.0.0' },
    },
    allowPositionals: true,
  });
  const port = Number(values.port ?? positionals[0] ?? DEFAULT_ECHO_PORT);
  if (!Number.isInteger(port) || port <= 0 || port >= 65536) throw new Error(`bad port: ${String(values.port ?? positionals[0])}`);
  const name = values.name;
  if (name === undefined || name === '') throw new Error('--name <host name> is required (it goes into every reply)');

  // --bind :: answers IPv6 (and IPv4, dual-stack) clients.
  const socket = createSocket(values.bind.includes(':') ? 'udp6' : 'udp4');
  let answered = 0;
  socket.on('message', (payload, sender) => {
    const request = decodeRequest(payload);
    const reply = encodeReply({ host: name, seq: request?.seq ?? null, t: request?.t ?? null });
    answered += 1;
    // Errors (e.g. the link was cut) only lose this reply: the client counts it as lost.
    socket.send(reply, sender.port, sender.address, () => undefined);
  });
  socket.on('error', (error) => {
    process.stderr.write(`udp-echo ${name}: ${error.message}\n`);
    process.exit(1);
  });
  socket.bind(port, values.bind, () => {
    process.stdout.write('ready\n');
  });

  const stop = (): void => {
    process.stderr.write(`udp-echo ${name}: answered ${answered}\n`);
    socket.close(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
