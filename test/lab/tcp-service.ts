// A service for health checks in the lab: a TCP listener on a node's loopback (each namespace has its
// own), started with the node's Node runtime and ended the hard way (SIGKILL), as a crashed daemon ends.
import type { Lab } from './lab';

export interface TcpService {
  /** kill -9: no goodbye, the port simply refuses from then on. */
  kill(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` inside `node`'s namespace; resolves once it accepts connections. */
export async function startTcpService(lab: Lab, node: string, port: number): Promise<TcpService> {
  const child = lab.spawn(node, [process.execPath, '-e', `require('net').createServer((s) => s.end()).listen(${port}, '127.0.0.1', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (text: string) => text.includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`the TCP service on ${node} exited (${code})`)));
  });
  return {
    async kill(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
