// What the claim labs (claim.test.ts for IPv4, claim6.test.ts for IPv6) share: an echo service on a
// node, one short client stream to an address, and a claim stopped the way an operator stops it.
import assert from 'node:assert/strict';
import { toolArgv, type Lab, type LabHost } from './lab';
import { JsonLines } from './json-lines';

export const ECHO_PORT = 7000;

/** udp-echo on `host`, answering on every address (`::` also answers IPv4, dual-stack). */
export async function startEcho(lab: Lab, host: LabHost, bind: '0.0.0.0' | '::' = '0.0.0.0'): Promise<void> {
  const echo = new JsonLines(lab.spawn(host, toolArgv('udp-echo', ['--name', host.name, '--port', String(ECHO_PORT), '--bind', bind])));
  await echo.waitFor((r) => r.text === 'ready', 5000, `udp-echo ready on ${host.name}`);
}

/** The udp-stream target for `vip`: "a.b.c.d:port" or "[v6]:port". */
export function echoTarget(vip: string): string {
  return vip.includes(':') ? `[${vip}]:${ECHO_PORT}` : `${vip}:${ECHO_PORT}`;
}

/** 20 datagrams 5 ms apart to `vip`; the stream's summary (perHost, received...). */
export async function streamOnce(lab: Lab, client: LabHost, vip: string): Promise<Record<string, unknown>> {
  const result = await lab.run(client, toolArgv('udp-stream', ['--to', echoTarget(vip), '--count', '20', '--interval-ms', '5', '--wait-ms', '300']), { timeoutMs: 10_000 });
  const summary = result.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.type === 'summary');
  assert.ok(summary, `udp-stream printed no summary: ${result.stdout} ${result.stderr}`);
  return summary;
}

/** SIGTERM: the claim deregisters, reports `down` and exits 0. */
export async function stopClaim(claim: JsonLines): Promise<void> {
  claim.child.kill('SIGTERM');
  const { code } = await claim.exited;
  assert.equal(code, 0, `claim exit code after SIGTERM; stderr: ${claim.stderr}`);
  await claim.waitForEvent('down', 1000);
}
