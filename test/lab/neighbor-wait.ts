// Polls a host's neighbour cache until it points where a test expects.
import type { Lab, LabHost } from './lab';

/** Resolves with the wall-clock ms at which `host`'s entry for `ip` first showed `mac`; rejects after timeoutMs. */
export async function waitForNeighborMac(lab: Lab, host: LabHost | string, ip: string, mac: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const entry = await lab.neighbor(host, ip);
    if (entry?.mac === mac) return Date.now();
    last = entry;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`neighbour entry for ${ip} never pointed at ${mac} within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}
