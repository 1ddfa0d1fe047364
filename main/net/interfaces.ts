// Facts about a local network interface, read from /sys (no shell, no netlink needed).
// Run inside `ip netns exec`, /sys shows that namespace's interfaces.
import { readFileSync } from 'node:fs';
import type { Mac } from '../arp/frame';

export class InterfaceError extends Error {
  constructor(readonly code: 'BAD_IFNAME' | 'NO_SUCH_INTERFACE' | 'NOT_ETHERNET', message: string) {
    super(message);
    this.name = 'InterfaceError';
  }
}

const IFNAMSIZ = 16; // the kernel's limit including the terminating NUL

/** Throws InterfaceError BAD_IFNAME unless `name` is a name Linux could have given an interface. */
export function validateIfname(name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > IFNAMSIZ - 1) {
    throw new InterfaceError('BAD_IFNAME', `invalid interface name "${name}": must be 1 to ${IFNAMSIZ - 1} bytes`);
  }
  // The kernel refuses '/', ':' (alias syntax), whitespace and NUL; ';' is refused by us so that a name can never
  // look like a command separator in any log or shell an administrator pastes it into.
  if (name === '.' || name === '..' || /[\s/:;\0]/.test(name)) {
    throw new InterfaceError('BAD_IFNAME', `invalid interface name "${name}": no spaces, '/', ':', ';' or NUL allowed`);
  }
}

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
