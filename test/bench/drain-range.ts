// A second address range for benchmarks that need more virtual addresses than the lab's /24 (150): the
// drain's 1,000 need a /22, the import's 10,000 a /18. It exists ONLY inside the lab's namespaces (each
// lab has its own bridge, so two labs using the same range never meet): 10.<second>.<third>.0/<prefix>,
// the third octet chosen from the lab's subnet index k, added as a second address on lan0 of every host.
// Hosts keep their /24 host octet in the first /24 of the block; the virtual addresses are the block's
// other host addresses.
import type { Lab, LabHost } from '../lab/lab';
import { ip } from '../lab/netns';

export const DRAIN_PREFIX = 22;
/** The import benchmark's block: 16,382 host addresses. */
export const IMPORT_PREFIX = 18;

export interface DrainRange {
  /** '10.214.x.0/22'. */
  cidr: string;
  prefix: number;
  /** The address of `host` in the range. */
  hostAddress(host: LabHost): string;
  /** `count` virtual addresses: neither the network nor the broadcast address, nor any host's. */
  virtualAddresses(count: number): string[];
}

function hostOctet(host: LabHost): number {
  return Number(host.ip.split('.')[3]);
}

/** A block of 2^(32-prefix) addresses in 10.<secondOctet>.0.0/16 for a lab (pure: nothing is configured). */
export function labRange(lab: Lab, secondOctet: number, prefix: number): DrainRange {
  const blockSize = 1 << (32 - prefix);
  const blocksPerSixteen = 65_536 / blockSize;
  const thirdOctet = ((lab.subnetIndex % blocksPerSixteen) * blockSize) / 256;
  const addressAt = (offset: number): string => `10.${secondOctet}.${thirdOctet + Math.floor(offset / 256)}.${offset % 256}`;
  const taken = new Set(lab.hosts.map(hostOctet));
  return {
    cidr: `10.${secondOctet}.${thirdOctet}.0/${prefix}`,
    prefix,
    hostAddress: (host) => addressAt(hostOctet(host)),
    virtualAddresses(count) {
      const offsets: number[] = [];
      // 1 .. size-2: the block's network (0) and broadcast (size-1) addresses are not host addresses.
      for (let offset = 1; offset < blockSize - 1 && offsets.length < count; offset += 1) if (!taken.has(offset)) offsets.push(offset);
      if (offsets.length < count) throw new RangeError(`the /${prefix} has only ${offsets.length} free addresses, ${count} asked`);
      return offsets.map(addressAt);
    },
  };
}

/** The drain benchmark's range: 10.214.<4k mod 256>.0/22. */
export function drainRange(lab: Lab): DrainRange {
  return labRange(lab, 214, DRAIN_PREFIX);
}

/** The import benchmark's range: 10.215.<64k mod 256>.0/18. */
export function importRange(lab: Lab): DrainRange {
  return labRange(lab, 215, IMPORT_PREFIX);
}

/** Adds every host's address in the range to its lan0 (the lab's own namespaces only). */
export async function addDrainRange(lab: Lab, range: DrainRange): Promise<void> {
  for (const host of lab.hosts) {
    await ip(['-n', host.ns, 'addr', 'add', `${range.hostAddress(host)}/${range.prefix}`, 'dev', host.ifname]);
  }
}

/** Removes every address of the range from every host (theirs too: addDrainRange puts those back). */
export async function clearDrainRange(lab: Lab, range: DrainRange): Promise<void> {
  for (const host of lab.hosts) await ip(['-n', host.ns, 'addr', 'flush', 'dev', host.ifname, 'to', range.cidr]);
}
