// The trusted probe of a batch move: who answers for each of hundreds of addresses, asked at once. One
// probe machine per address (local.probe) would do, but the shared ARP socket's ring (~256 frames) cannot
// hold what comes back: both targets of a drain ask 2 × 500 questions, every node hears all of them, and
// the owner answers 1,000 — the socket dropped frames in every batch measured, and an answer lost is a
// stranger not heard. So the answers come in on a capture of their own whose kernel filter passes only
// replies to probes (probe-answers.ts: small slots, a ring of 1 MiB; borrowed from LocalAddresses' pool,
// answer-capture-pool.ts, which keeps it open between batches), and a probe during which it dropped
// anything counts for nothing. Frames that claim an address without being asked (a stranger's
// announcement) are heard on the shared socket as well. The questions are marked (codec.question), so no
// cache on the LAN changes and no peer takes them for a claim. An IPv6 address is asked with the DAD
// question (local.watchAddress) and its holder's advertisement comes in on the interface's ND socket,
// whose drops during the probe count the same way.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { AcdConfig } from '../arp/acd';
import type { Ipv4, Mac } from '../arp/frame';
import type { ResourceName } from '../cluster/model';
import type { Host } from '../host/host';
import { interfaceFault } from '../net/interface-fault';
import type { CapturedFrame } from '../net/pcap';
import type { BorrowedCapture } from './answer-capture-pool';
import type { LocalAddresses, ProbeVerdict } from './local-addresses';

export interface BatchProbeRequest {
  resource: ResourceName;
  ip: Ipv4;
  ifname: string;
  /** The owner's MAC: its answers are expected. */
  trustedMac: Mac | null;
}

export interface BatchProbeTiming {
  /** Questions per address. */
  rounds: number;
  /** Between rounds, and after the last one until the verdict. */
  intervalMs: number;
  waitMs: number;
}

/** The single move's trusted probe (move-machine.ts TRUSTED_PROBE): 2 questions 30 ms apart, 60 ms more. */
const BATCH_PROBE_TIMING: BatchProbeTiming = { rounds: 2, intervalMs: 30, waitMs: 60 };

/** ~4,500 answers of ~230 bytes: both rounds of a batch of 1,024, twice over. */
const ANSWER_RING_BYTES = 1024 * 1024;
/** Questions sent per turn of the event loop: the lease's timers run in between. */
const QUESTIONS_PER_TURN = 128;

export type BatchProbeResult =
  /** Per resource, as local.probe reports one: the MACs other than the trusted one, whether that one answered, an interface fault. */
  | { kind: 'heard'; heard: Map<ResourceName, ProbeVerdict> }
  /** No answer capture on this host (Windows, the addon not built): the caller probes one by one. */
  | { kind: 'unavailable' }
  /** The answer capture dropped frames: nothing is known. */
  | { kind: 'dropped'; ifname: string; count: number };

export async function probeMany(host: Host, local: LocalAddresses, requests: readonly BatchProbeRequest[], timing: BatchProbeTiming = BATCH_PROBE_TIMING): Promise<BatchProbeResult> {
  const ifnames = [...new Set(requests.map((r) => r.ifname))];
  // Borrowed from the pool (kept open between batches): the drops that count are those since the probe began.
  const captures = new Map<string, { borrowed: BorrowedCapture; dropsBefore: number | null; onFrame: (captured: CapturedFrame) => void }>();
  const heardMacs = new Map<string, Set<Mac>>();
  const key = (ifname: string, ip: Ipv4): string => `${ifname}\u0000${ip}`;
  const own = new Set<Mac>(Object.values(host.macs()));
  const hear = (ifname: string, ip: Ipv4, mac: Mac): void => {
    if (own.has(mac)) return;
    heardMacs.get(key(ifname, ip))?.add(mac);
  };
  const watches: Array<{ ask: () => void; stop: () => void }> = [];
  const ndIfnames = [...new Set(requests.filter((r) => r.ip.includes(':')).map((r) => r.ifname))];
  const ndDrops = (): Map<string, number | null> => new Map(ndIfnames.map((ifname) => [ifname, local.kernelDropped(ifname, 'ipv6')]));
  try {
    for (const ifname of ifnames) {
      let borrowed: BorrowedCapture | null;
      try {
        borrowed = local.probeAnswers.borrow(ifname, ANSWER_RING_BYTES);
      } catch {
        borrowed = null;
      }
      if (borrowed === null) return { kind: 'unavailable' };
      const onFrame = ({ frame }: CapturedFrame): void => hear(ifname, frame.arp.senderIp, frame.arp.senderMac);
      captures.set(ifname, { borrowed, dropsBefore: borrowed.capture.refreshKernelStats().kernelDropped, onFrame });
      borrowed.capture.on('frame', onFrame);
    }
    for (const request of requests) {
      heardMacs.set(key(request.ifname, request.ip), new Set());
      watches.push(local.watchAddress(request.ifname, request.ip, (mac) => hear(request.ifname, request.ip, mac)));
    }
    const ndDropsBefore = ndDrops();
    for (let round = 0; round < timing.rounds; round++) {
      if (round > 0) await sleep(timing.intervalMs);
      for (let i = 0; i < watches.length; i++) {
        if (i > 0 && i % QUESTIONS_PER_TURN === 0) await nextTurn();
        watches[i]!.ask();
      }
    }
    await sleep(timing.waitMs);
    for (const [ifname, { borrowed, dropsBefore }] of captures) {
      const dropped = borrowed.capture.refreshKernelStats().kernelDropped;
      if (dropped !== null && dropped > (dropsBefore ?? 0)) return { kind: 'dropped', ifname, count: dropped - (dropsBefore ?? 0) };
    }
    for (const [ifname, after] of ndDrops()) {
      const before = ndDropsBefore.get(ifname);
      if (after !== null && before !== null && before !== undefined && after > before) return { kind: 'dropped', ifname, count: after - before };
    }
    const faulted = new Set(ifnames.filter((ifname) => interfaceFault(null, host.interfaceState(ifname)) !== null));
    const heard = new Map<ResourceName, ProbeVerdict>();
    for (const request of requests) {
      const all = [...(heardMacs.get(key(request.ifname, request.ip)) ?? [])];
      const macs = all.filter((mac) => mac !== request.trustedMac);
      heard.set(request.resource, { macs, trustedAnswered: macs.length < all.length, interrupted: faulted.has(request.ifname) });
    }
    return { kind: 'heard', heard };
  } finally {
    for (const watch of watches) watch.stop();
    for (const { borrowed, onFrame } of captures.values()) {
      borrowed.capture.off('frame', onFrame);
      borrowed.release();
    }
  }
}

/**
 * probeMany, or where the host has no answer capture, one probe machine per address (local.probe with
 * `acd`, the same timing): the answer for every request, or the capture's drop.
 */
export async function probeAll(host: Host, local: LocalAddresses, requests: readonly BatchProbeRequest[], acd: Partial<AcdConfig>): Promise<Exclude<BatchProbeResult, { kind: 'unavailable' }>> {
  if (requests.length === 0) return { kind: 'heard', heard: new Map() };
  const timing: BatchProbeTiming = { rounds: acd.probeCount ?? BATCH_PROBE_TIMING.rounds, intervalMs: acd.probeIntervalMs ?? BATCH_PROBE_TIMING.intervalMs, waitMs: acd.probeWaitMs ?? BATCH_PROBE_TIMING.waitMs };
  const result = await probeMany(host, local, requests, timing);
  if (result.kind !== 'unavailable') return result;
  const verdicts = await Promise.all(requests.map((r) => local.probe({ resource: r.resource, ip: r.ip, ifname: r.ifname, trustedMac: r.trustedMac, acd })));
  return { kind: 'heard', heard: new Map(requests.map((r, i) => [r.resource, verdicts[i]!])) };
}
