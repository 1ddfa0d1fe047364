// The capture addon's folding rule (main/native/fold.h) for one frame, written out for the tests that
// stand in for it: the reference model of test/unit/watch-fold.test.ts and the fake LAN's agent ARP
// ports (fake-host.ts). A request or reply whose sender (VLAN + address) was last handed over with the
// same MAC is a repeat, unless the sender is on the unfolded list; anything else is handed over as it is
// and its sender's MAC remembered. Probes (sender 0.0.0.0) are never folded.
import { classifyArp } from '../../main/arp/codec';
import { ZERO_IP, type ArpFrame, type Mac } from '../../main/arp/frame';

const NONE: ReadonlySet<string> = new Set();

/** True when the addon would fold `frame`; otherwise records its sender's MAC in `lastMac`. */
export function foldsAsRepeat(frame: ArpFrame, lastMac: Map<string, Mac>, unfolded: ReadonlySet<string> = NONE): boolean {
  const { senderIp, senderMac } = frame.arp;
  if (senderIp === ZERO_IP) return false;
  const sender = foldSender(frame);
  const kind = classifyArp(frame.arp);
  if ((kind === 'request' || kind === 'reply') && lastMac.get(sender) === senderMac && !unfolded.has(senderIp)) return true;
  lastMac.set(sender, senderMac);
  return false;
}

/** The key foldsAsRepeat files a frame's sender under (a batch groups its repeats by it). */
export function foldSender(frame: ArpFrame): string {
  return `${frame.vlan ?? ''}|${frame.arp.senderIp}`;
}
