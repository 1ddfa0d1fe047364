// The MAC of every Ethernet interface of this host, for the node record: peers recognise this node's
// ARP by it (a trusted-handoff probe expects the owner's MAC, the watch tells handoffs from conflicts).
import { readdirSync, readFileSync } from 'node:fs';
import type { Mac } from '../arp/frame';

export function localMacs(): Record<string, Mac> {
  const macs: Record<string, Mac> = {};
  let names: string[];
  try {
    names = readdirSync('/sys/class/net');
  } catch {
    return macs;
  }
  for (const name of names) {
    try {
      if (readFileSync(`/sys/class/net/${name}/type`, 'utf8').trim() !== '1') continue; // ARPHRD_ETHER only
      macs[name] = readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim().toLowerCase();
    } catch {
      // The interface went away while we listed: skip it.
    }
  }
  return macs;
}
