// Facts about a local network interface, read from /sys (no shell, no netlink needed).
// Run inside `ip netns exec`, /sys shows that namespace's interfaces.
import { readFileSync } from 'node:fs';
import type { Mac } from '../arp/frame';
import { InterfaceError, validateIfname } from './ifname';

export { InterfaceError, validateIfname };

export interface InterfaceInfo {
  name: string;
  index: number;
  mac: Mac;
  up: boolean;
}

function readSys(name: string, attribute: string): string {
  return readFileSync(`/sys/class/net/${name}/${attribute}`, 'utf8').trim();
}

/** Validates the name and reads index, MAC and state; throws InterfaceError with a one-line reason. */
export function readInterface(name: string): InterfaceInfo {
  validateIfname(name);
  let index: number;
  try {
    index = Number(readSys(name, 'ifindex'));
  } catch {
    throw new InterfaceError('NO_SUCH_INTERFACE', `no such interface "${name}"`);
  }
  // type 1 = ARPHRD_ETHER: ARP with 6-byte hardware addresses only makes sense there.
  if (readSys(name, 'type') !== '1') {
    throw new InterfaceError('NOT_ETHERNET', `interface "${name}" is not an Ethernet interface`);
  }
  const mac = readSys(name, 'address').toLowerCase();
  const operstate = readSys(name, 'operstate');
  return { name, index, mac, up: operstate === 'up' || operstate === 'unknown' };
}

/** What the agent watches of an interface it uses: who it is (index, MAC) and whether frames can pass. */
export interface InterfaceState {
  index: number;
  mac: Mac;
  /** IFF_UP: the administrator (or a tool) has not set it down. */
  adminUp: boolean;
  /** The link has a carrier (always false while admin-down). */
  carrier: boolean;
}

const IFF_UP = 0x1;

/** The interface's state now, or null when no interface has that name (deleted, renamed). Never throws. */
export function readInterfaceState(name: string): InterfaceState | null {
  let index: number;
  let mac: Mac;
  let flags: number;
  try {
    index = Number(readSys(name, 'ifindex'));
    mac = readSys(name, 'address').toLowerCase();
    flags = Number.parseInt(readSys(name, 'flags'), 16);
  } catch {
    return null;
  }
  let carrier = false;
  try {
    carrier = readSys(name, 'carrier') === '1';
  } catch {
    // EINVAL while the interface is down
  }
  return { index, mac, adminUp: (flags & IFF_UP) !== 0, carrier };
}
