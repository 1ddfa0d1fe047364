// The second address range of the drain benchmark. A lab's /24 holds only 150 virtual addresses;
// draining 1,000 needs a /22. It exists ONLY inside the lab's namespaces (each lab has its own
// bridge, so two labs using the same range never meet): 10.214.<4k mod 256>.0/22, k the lab's
// subnet index, added as a second address on lan0 of every host. Hosts keep their /24 host octet
// in the first /24 of the block; the virtual addresses are the block's other host addresses.
import type { Lab, LabHost } from '../lab/lab';
import { ip } from '../lab/netns';

export const DRAIN_PREFIX = 22;
const BLOCK_SIZE = 1 << (32 - DRAIN_PREFIX);

export interface DrainRange {
  /** '10.214.x.0/22'. */
  cidr: string;
  /** The address of `host` in the range. */
  hostAddress(host: LabHost): string;
  /** `count` virtual addresses: neither the network nor the broadcast address, nor any host's. */
  virtualAddresses(count: number): string[];
}

function hostOctet(host: LabHost): number {
  return Number(host.ip.split('.')[3]);
}

/** The range for a lab (pure: nothing is configured). */
export function drainRange(lab: Lab): DrainRange {
  const thirdOctet = (4 * lab.subnetIndex) % 256;
  const addressAt = (offset: number): string => `10.214.${thirdOctet + Math.floor(offset / 256)}.${offset % 256}`;
  const taken = new Set(lab.hosts.map(hostOctet));
  return {
    cidr: `10.214.${thirdOctet}.0/${DRAIN_PREFIX}`,
    hostAddress: (host) => addressAt(hostOctet(host)),
    virtualAddresses(count) {
      const offsets: number[] = [];
      // 1 .. size-2: the block's network (0) and broadcast (size-1) addresses are not host addresses.
      for (let offset = 1; offset < BLOCK_SIZE - 1 && offsets.length < count; offset += 1) if (!taken.has(offset)) offsets.push(offset);
      if (offsets.length < count) throw new RangeError(`the /${DRAIN_PREFIX} has only ${offsets.length} free addresses, ${count} asked`);
      return offsets.map(addressAt);
    },
  };
}

/** Adds every host's address in the range to its lan0 (the lab's own namespaces only). */
export async function addDrainRange(lab: Lab, range: DrainRange): Promise<void> {
  for (const host of lab.hosts) {
    await ip(['-n', host.ns, 'addr', 'add', `${range.hostAddress(host)}/${DRAIN_PREFIX}`, 'dev', host.ifname]);
  }
}
