// The answers to a standby's liveness probes, on a capture of their own. The agent's shared ARP socket
// (`cap`: fixed 64 KiB slots, ~256 frames in its ring) sees every ARP frame of the LAN; during 1,000
// claims, a drain or an ARP sweep its ring overflows whenever this process falls behind, and the
// kernel drops the owner's answers with the rest. This capture's kernel filter lets through only ARP
// replies whose target IP is 0.0.0.0 — answers to RFC 5227 probes, which the LAN sends at a bounded
// rate (at most two per owner per probe interval: 100 a second per owner with the default profile,
// 1,000 at the shortest interval, 2 ms; cluster/failover-profile.ts) — into a ring of small slots (our
// addon, 128-byte snaplen): it cannot fill up unless this process stops reading for seconds (one
// owner's answers fill it in 45 s at the default profile, in 4.5 s at 2 ms), and when it does, its
// drop counter says so (silence-window.ts then discounts the silence).
import type { Ipv4, Mac } from '../arp/frame';
import type { CapturedFrame, FrameSource } from '../net/pcap';
import { interfaceFault } from '../net/interface-fault';
import type { Host } from '../host/host';
/** ~4,500 slots of ~230 bytes: seconds of answers at the rate probes are sent (see above). */
const ANSWER_RING_BYTES = 1024 * 1024;

export type AnswerListener = (ifname: string, senderIp: Ipv4, senderMac: Mac) => void;

interface Tap {
  capture: FrameSource;
  /** The kernel's drop counter when last read. */
  dropsRead: number;
}

export class ProbeAnswers {
  private readonly taps = new Map<string, Tap>();
  /** Interfaces where the capture could not be opened (addon missing, error): not retried every pass. */
  private readonly unavailable = new Set<string>();
  /** The interfaces asked for last. */
  private wanted: ReadonlySet<string> = new Set();

  constructor(private readonly host: Host, private readonly onAnswer: AnswerListener, private readonly warn: (text: string) => void) {}

  /** Captures answers on exactly these interfaces from now on (opening is retried after a failure only when an interface is asked for anew). */
  /** An interface asked for in the last listenOn() has no capture yet (down or away when it was asked). */
  missing(): boolean {
    for (const ifname of this.wanted) if (!this.taps.has(ifname) && !this.unavailable.has(ifname)) return true;
    return false;
  }

  listenOn(ifnames: ReadonlySet<string>): void {
    this.wanted = ifnames;
    for (const [ifname, tap] of this.taps) {
      if (ifnames.has(ifname)) continue;
      tap.capture.close();
      this.taps.delete(ifname);
    }
    for (const ifname of this.unavailable) if (!ifnames.has(ifname)) this.unavailable.delete(ifname);
    for (const ifname of ifnames) if (!this.taps.has(ifname) && !this.unavailable.has(ifname)) this.open(ifname);
  }

  private open(ifname: string): void {
    // Down or away: nothing to hear now; the next update (after the interface is back) opens it.
    if (interfaceFault(null, this.host.interfaceState(ifname)) !== null) return;
    try {
      const capture = this.host.openProbeAnswers(ifname, ANSWER_RING_BYTES);
      if (capture === null) {
        this.unavailable.add(ifname);
        this.warn(`standby on ${ifname}: no probe-answer capture on this host (Linux: the capture addon is not built, npm run build:native): answers come through the shared ARP socket only`);
        return;
      }
      const ownMac = capture.iface.mac;
      capture.on('frame', ({ frame }: CapturedFrame) => {
        // libpcap also hands over what this host sends: its kernel's answers to others' probes.
        if (frame.src !== ownMac) this.onAnswer(ifname, frame.arp.senderIp, frame.arp.senderMac);
      });
      capture.once('close', () => {
        if (this.taps.get(ifname)?.capture === capture) this.taps.delete(ifname);
      });
      this.taps.set(ifname, { capture, dropsRead: 0 });
    } catch (error) {
      this.unavailable.add(ifname);
      this.warn(`standby on ${ifname}: cannot open the probe-answer capture (${(error as Error).message}): answers come through the shared ARP socket only`);
    }
  }

  /** The interface failed: close its capture (a new one is opened when it is asked for anew). */
  forget(ifname: string): void {
    this.taps.get(ifname)?.capture.close();
    this.taps.delete(ifname);
    this.unavailable.delete(ifname);
  }

  /** True when answers on `ifname` come through this capture. */
  has(ifname: string): boolean {
    return this.taps.has(ifname);
  }

  /** Frames the kernel dropped on this capture of `ifname` since the last call (null: no capture there, or counters unreadable). */
  droppedSinceLastRead(ifname: string): number | null {
    const tap = this.taps.get(ifname);
    if (!tap) return null;
    const total = tap.capture.refreshKernelStats().kernelDropped;
    if (total === null) return null;
    const dropped = total - tap.dropsRead;
    tap.dropsRead = total;
    return dropped;
  }

  close(): void {
    for (const tap of this.taps.values()) tap.capture.close();
    this.taps.clear();
    this.unavailable.clear();
  }
}
