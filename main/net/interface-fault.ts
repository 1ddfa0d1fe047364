// Is an interface this node captures or holds addresses on still the one it opened, and can frames
// pass? Pure: the agent reads the state (net/interfaces.ts readInterfaceState) and acts on the answer.
// Any fault means the node drops the addresses it holds there and closes its capture; it opens a new one
// and takes addresses back (under the usual rules) once the interface is usable again.
import type { Mac } from '../arp/frame';
import type { InterfaceState } from './interfaces';

export type InterfaceFault =
  /** No interface of that name any more: deleted, renamed, or moved to another namespace. */
  | { kind: 'missing' }
  | { kind: 'admin-down' }
  | { kind: 'no-carrier' }
  /** Deleted and created again under the same name: a capture on the old one hears nothing. */
  | { kind: 'replaced'; oldIndex: number; newIndex: number }
  /** Our announcements would name the old MAC, and peers know this node by it. */
  | { kind: 'mac-changed'; oldMac: Mac; newMac: Mac }
  /** The capture itself failed (the kernel reported a socket error). */
  | { kind: 'capture-lost'; detail: string };

/** What the node knows of the interface from when it opened its capture there (null: no capture). */
export interface OpenedInterface {
  index: number;
  mac: Mac;
}

/** The fault, or null when the interface is usable and still the one `opened` describes. */
export function interfaceFault(opened: OpenedInterface | null, now: InterfaceState | null): InterfaceFault | null {
  if (now === null) return { kind: 'missing' };
  if (!now.adminUp) return { kind: 'admin-down' };
  if (!now.carrier) return { kind: 'no-carrier' };
  if (opened !== null && opened.index !== now.index) return { kind: 'replaced', oldIndex: opened.index, newIndex: now.index };
  if (opened !== null && opened.mac !== now.mac) return { kind: 'mac-changed', oldMac: opened.mac, newMac: now.mac };
  return null;
}

export function describeInterfaceFault(ifname: string, fault: InterfaceFault): string {
  switch (fault.kind) {
    case 'missing': return `interface ${ifname} is gone (deleted, renamed or moved)`;
    case 'admin-down': return `interface ${ifname} was set down`;
    case 'no-carrier': return `interface ${ifname} lost its carrier`;
    case 'replaced': return `interface ${ifname} was re-created (index ${fault.oldIndex} -> ${fault.newIndex})`;
    case 'mac-changed': return `interface ${ifname} changed its MAC (${fault.oldMac} -> ${fault.newMac})`;
    case 'capture-lost': return fault.detail;
  }
}
