// What the agent tests on the fake LAN share (agent.test.ts for IPv4, agent-ipv6.test.ts for IPv6,
// windows-agent.test.ts): two agents started and stopped on one embedded store, waiting for a condition,
// and the one-holder-at-a-time check.
import { Agent } from '../../main/agent/agent';
import type { Host } from '../../main/host/host';
import { FileStore } from '../../main/store/file-store';
import type { ClusterStore } from '../../main/store/store';
import type { FakeHost } from './fake-host';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Maybe<T> = T | null | undefined | false;

/** Resolves with `probe`'s first value that is not null, undefined or false; throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Every registration on `target` of an address `owner` still holds, as it happens (one holder at a time
 * says: none). The returned list fills in while the test runs.
 */
export function registrationsWhileHeld(hosts: Readonly<Record<string, FakeHost>>, target: string, owner: string): string[] {
  const violations: string[] = [];
  const addresses = hosts[target]!.addresses;
  const register = addresses.register.bind(addresses);
  (addresses as { register: typeof register }).register = (list, notAfter) => {
    for (const item of list) if (hosts[owner]!.held().includes(item.ip)) violations.push(`${item.ip} registered on ${target} while ${owner} held it`);
    return register(list, notAfter);
  };
  return violations;
}

export interface RunningAgents {
  stores: ClusterStore[];
  agents: Agent[];
  /** Every agent's log lines, as "node: line". */
  logs: string[];
}

/**
 * One agent per host (in the record's order) on the file store in `dir`, each with its own store handle
 * (`storeFor` may wrap it: a node that hears of changes late), owner silence 250 ms.
 */
export async function startAgents(dir: string, hosts: Readonly<Record<string, Host>>, storeFor: (node: string, store: ClusterStore) => ClusterStore = (_node, store) => store): Promise<RunningAgents> {
  const running: RunningAgents = { stores: [], agents: [], logs: [] };
  for (const [node, host] of Object.entries(hosts)) {
    const store = await FileStore.open({ dir });
    running.stores.push(store);
    const agent = new Agent({ node, store: storeFor(node, store), version: 'test', host, ownerSilenceMs: 250, log: (line) => running.logs.push(`${node}: ${line}`) });
    running.agents.push(agent);
    await agent.start();
  }
  return running;
}

/** Stops every agent without handing anything over, runs `thenHosts` (a host to settle), closes the stores. */
export async function stopAgents(running: RunningAgents, thenHosts: () => Promise<void> = () => Promise.resolve()): Promise<void> {
  for (const agent of running.agents) await agent.stop({ handOff: false }).catch(() => undefined);
  await thenHosts();
  for (const store of running.stores) await store.close().catch(() => undefined);
}
