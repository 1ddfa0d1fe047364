// The release datagram's UDP endpoint (agent/handoff-channel.ts), the same on every platform: one
// socket bound on every IPv4 address of the host, on a port the system picks.
import { createSocket } from 'node:dgram';
import type { DatagramEndpoint } from './host';

export async function openDatagram(onMessage: (bytes: Buffer) => void, onError: (error: Error) => void): Promise<DatagramEndpoint> {
  const socket = createSocket('udp4');
  socket.on('message', (bytes) => onMessage(bytes));
  socket.on('error', onError);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '0.0.0.0', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  return { port, send: (bytes, to, address) => socket.send(bytes, to, address), close: () => socket.close() };
}
