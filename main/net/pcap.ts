// Packet I/O over `cap` (libpcap / Npcap): open an interface with a BPF filter, receive decoded ARP frames,
// send frames, close. This is the only module that touches `cap`, and the only one that touches packet
// capture at all: ArpCapture (receive-only, for the ARP watch) is libpcap through our own addon
// (main/native/capture.c), with a small snaplen and frames in batches, which `cap` cannot do. Both report
// the kernel's capture counters (libpcap's ps_recv / ps_drop), which `cap` does not expose.
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { npcapLoadProblem } from './windows/npcap';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ArpFrame } from '../arp/frame';
import { ArpCodecError, decode, encode, type ArpCodecErrorCode } from '../arp/codec';
import { readInterface, type InterfaceInfo } from './interfaces';
import { ipv4ToNumber } from '../../preload/contract/ipv4';

import { PacketIoError } from './packet-io-error';

export { PacketIoError, type PacketIoErrorCode } from './packet-io-error';

export interface CapturedFrame<F = ArpFrame> {
  frame: F;
  /** Wall-clock time (ms since the epoch, sub-ms precision) at which the frame reached this process. */
  at: number;
  /** Monotonic time (performance.now()) of the same moment, for intervals. */
  mono: number;
}

/** Requests and replies the capture folded (ArpSocketOptions.foldRepeats): each repeats `frame`'s sender IP and MAC. */
export interface CapturedRepeats extends CapturedFrame {
  requests: number;
  replies: number;
}

export interface PacketStats<Code extends string = ArpCodecErrorCode> {
  /** Frames libpcap handed to this process. */
  received: number;
  decoded: number;
  /** Frames that matched the filter but were not valid for the codec (truncated, malformed): counted and dropped. */
  malformed: number;
  /** The same frames by the codec's reason (TRUNCATED, BAD_HLEN, BAD_OP, ...). */
  malformedByCode: Partial<Record<Code, number>>;
  sent: number;
  /**
   * The kernel's counters for the capture socket, as libpcap's pcap_stats() reports them on Linux
   * (ps_recv, ps_drop: PACKET_STATISTICS): frames that passed the BPF filter, and those of them the
   * kernel dropped because the capture ring was full. Brought up to date by refreshKernelStats();
   * null when they cannot be read (native addon not built, capture socket not identified).
   */
  kernelReceived: number | null;
  kernelDropped: number | null;
}

export interface ArpSocketOptions {
  /** BPF filter; default ARP_FILTER. */
  filter?: string;
  /** libpcap's capture ring in bytes; default CAPTURE_BUFFER_BYTES (WATCH_CAPTURE_BUFFER_BYTES for ArpCapture). */
  bufferBytes?: number;
  /** ArpCapture only: the decoder (same contract as codec.decode), e.g. the watch's memo of repeated frames. */
  decode?: (buf: Buffer, offset: number, length: number) => ArpFrame;
  /**
   * ArpCapture only: fold the requests and replies that change nothing but a binding's counters into
   * `repeats` events (main/native/fold.h) — for the watch's binding table, never for a consumer that needs
   * each frame (the standby's probe answers, the audit's sweep).
   */
  foldRepeats?: boolean;
  /** ArpCapture only: after a burst, rest the poll this many ms (0..100) so a storm wakes the process ~1000/pauseMs times a second. */
  pauseMs?: number;
}

/** ARP, tagged or not. `vlan and arp` must come second: `vlan` shifts the offsets for what follows it. */
export const ARP_FILTER = 'arp or (vlan and arp)';

export interface CapHandle extends EventEmitter {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Buffer, length?: number): void;
  close(): void;
  setMinBytes?(bytes: number): void;
}
export interface CapModule {
  Cap: new () => CapHandle;
}

let capModule: CapModule | undefined;

/** Loads `cap` on first use so that a missing libpcap is one clear error, not a crash at start-up. */
export function loadCap(): CapModule {
  if (capModule) return capModule;
  try {
    const requireHere = createRequire(__filename);
    capModule = requireHere('cap') as CapModule;
    return capModule;
  } catch (error) {
    // On Windows a missing or too old Npcap is the usual cause: say so in words an administrator acts on.
    const npcap = process.platform === 'win32' ? npcapLoadProblem(error) : null;
    if (npcap) throw new PacketIoError('NO_LIBPCAP', npcap.message);
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new PacketIoError('NO_LIBPCAP', `libpcap is not available (install libpcap, or Npcap on Windows): ${detail}`);
  }
}

/**
 * Opens a `cap` capture. `cap` is patched at install (patches/cap+0.2.1.patch, applied by
 * patch-package in postinstall): a socket error is an 'error' event instead of an abort, a closed
 * handle leaves libuv's handle queue, and a closed handle can be garbage-collected (it crashed the
 * process before). Every handle must be closed, also one whose open failed.
 */
export function openCapHandle(ifname: string, filter: string, bufferBytes: number, buffer: Buffer): CapHandle {
  const { Cap } = loadCap();
  const handle = new Cap();
  try {
    handle.open(ifname, filter, bufferBytes, buffer);
  } catch (error) {
    handle.close(); // frees what the failed open left, while we are in a JavaScript call (see the patch)
    throw classifyOpenError(ifname, error);
  }
  handle.setMinBytes?.(0);
  return handle;
}

function classifyOpenError(ifname: string, error: unknown): PacketIoError {
  const message = error instanceof Error ? error.message : String(error);
  if (/permission|not permitted|EPERM|EACCES/i.test(message)) {
    return new PacketIoError('PERMISSION', `no permission to capture on "${ifname}": run as root or grant CAP_NET_RAW (${message})`);
  }
  if (/no such device/i.test(message)) {
    return new PacketIoError('NO_SUCH_INTERFACE', `no such interface "${ifname}"`);
  }
  return new PacketIoError('OPEN_FAILED', `cannot capture on "${ifname}": ${message}`);
}

// `cap` fixes the snaplen at 65535 and turns on immediate mode, so libpcap uses a TPACKET_V2 ring of
// fixed-size slots: with offloads on (veth, most NICs: GRO) a slot is 128 KiB (one 64 KiB frame per
// 128 KiB block), so the ring holds buffer / 128 KiB frames whatever their real size. 4 MiB held only
// ~32, and a burst of replies (a standby probing many addresses, a drain) lost every frame after the
// 32nd; 32 MiB holds ~256. The ARP watch asks for more (WATCH_BUFFER_BYTES in the watch command).
export const CAPTURE_BUFFER_BYTES = 32 * 1024 * 1024;
const SNAP_BUFFER_BYTES = 2048; // ARP frames are 60-64 bytes; anything longer is not ours to read

// ---- kernel capture counters -------------------------------------------------------------------
// `cap` has no pcap_stats(). Our own N-API addon (main/native/capture_stats.c) reads the same kernel
// counters libpcap's pcap_stats() reads, with getsockopt(PACKET_STATISTICS) on libpcap's socket. That
// socket's fd is found when the capture opens: the packet socket (in /proc/self/net/packet, bound to
// the interface) that appeared among /proc/self/fd during the open.

interface NativeCapture {
  /** [ps_recv, ps_drop, ps_ifdrop] from pcap_stats(). */
  stats(): [number, number, number];
  /** Folded frames not yet due, put into the slots now: their count (0 while a batch is being read). */
  flush(): number;
  /** One frame out on the interface (pcap_inject). */
  send(buffer: Buffer, length: number): void;
  /** IPv4 senders (as u32, sorted, unique) whose frames are never folded. */
  unfold(senders: Uint32Array): void;
  close(): void;
}
interface CaptureAddon {
  packetStatistics(fd: number): [number, number];
  /** onBatch(-1, reason): the capture failed for good (interface down or gone). */
  /** A negative lengths[i] is a fold summary (foldRepeats): its representative frame, then the request and reply counts (u32 LE at the addon's FOLD_COUNTS_AT). */
  open(dev: string, filter: string, bufferBytes: number, data: Buffer, lengths: Int32Array, onBatch: (count: number, reason?: string) => void, foldRepeats: boolean, pauseMs: number): NativeCapture;
  readonly SLOT_BYTES: number;
  /** Where a fold summary's request count sits in its slot, the reply count 4 bytes on (fold.h FOLD_REQUESTS_AT). */
  readonly FOLD_COUNTS_AT: number;
}

// build/main/net/ -> repository root -> main/native/build/<config>/.
const repositoryRoot = resolve(__dirname, '..', '..', '..');
const CAPTURE_ADDON_PATHS = ['Release', 'Debug'].map((config) => join(repositoryRoot, 'main', 'native', 'build', config, 'ipfo_capture.node'));
let captureAddon: CaptureAddon | null | undefined;

function loadCaptureAddon(): CaptureAddon | null {
  if (captureAddon !== undefined) return captureAddon;
  captureAddon = null;
  const file = CAPTURE_ADDON_PATHS.find((candidate) => existsSync(candidate));
  if (file !== undefined) {
    try {
      const holder: { exports: unknown } = { exports: {} };
      process.dlopen(holder, file);
      captureAddon = holder.exports as CaptureAddon;
    } catch {
      captureAddon = null;
    }
  }
  return captureAddon;
}

/** fd -> socket inode for every socket this process has open. */
function openSockets(): Map<number, string> {
  const sockets = new Map<number, string>();
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return sockets;
  }
  for (const name of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${name}`));
      if (match) sockets.set(Number(name), match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return sockets;
}

/** Inodes of this namespace's packet sockets bound to `ifindex` (/proc/net/packet: sk RefCnt Type Proto Iface R Rmem User Inode). */
export function packetSocketInodes(table: string, ifindex: number): Set<string> {
  const inodes = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 9 && Number(fields[4]) === ifindex) inodes.add(fields[8]!);
  }
  return inodes;
}

/** The fd of the packet socket on `ifindex` that is open now and was not in `before`, or null if not exactly one. */
function newPacketSocketFd(before: ReadonlyMap<number, string>, ifindex: number): number | null {
  let table: string;
  try {
    table = readFileSync('/proc/self/net/packet', 'utf8');
  } catch {
    return null;
  }
  const ours = packetSocketInodes(table, ifindex);
  const found: number[] = [];
  for (const [fd, inode] of openSockets()) if (before.get(fd) !== inode && ours.has(inode)) found.push(fd);
  return found.length === 1 ? found[0]! : null;
}

/** A protocol's codec as a capture socket uses it (arp/codec.ts, nd/codec.ts). */
export interface FrameCodec<F, E extends Error & { readonly code: string }> {
  decode(buf: Uint8Array, offset: number, length: number): F;
  encode(frame: F, buf: Buffer, offset: number): Buffer;
  /** True for the codec's own errors (a malformed frame, counted); anything else is a bug and is thrown. */
  isCodecError(error: unknown): error is E;
}

export const ARP_CODEC: FrameCodec<ArpFrame, ArpCodecError> = {
  decode,
  encode,
  isCodecError: (error): error is ArpCodecError => error instanceof ArpCodecError,
};

export interface FrameSocketEvents<F, E extends Error> {
  frame: [CapturedFrame<F>];
  /** Only ArpCapture with foldRepeats: the folded frames of one sender, in the sender's order among its `frame`s. */
  repeats: [CapturedRepeats];
  malformed: [E, Buffer];
  /**
   * The capture failed for good: the interface was set down, deleted or moved to another namespace
   * (code CAPTURE_LOST). The socket is closed by then; open a new one when the interface is back.
   */
  lost: [PacketIoError];
  close: [];
}

export type ArpSocketEvents = FrameSocketEvents<ArpFrame, ArpCodecError>;

/** What FrameSocket.openOn found: the interface, its `cap` handle and libpcap's socket. */
interface OpenedCapture {
  iface: InterfaceInfo;
  handle: CapHandle;
  captureBuffer: Buffer;
  captureFd: number | null;
}

/** Addresses whose numbers unfoldSenders keeps (a cluster's worth); past that the memo starts over. */
const SENDER_NUMBERS_KEPT = 65_536;

function sameNumbers(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Puts encoded bytes on the wire through a pcap handle (`cap`'s or our addon's); a failure is SEND_FAILED naming the interface. */
function injectFrame(handle: { send(buffer: Buffer, length: number): void }, ifname: string, bytes: Buffer, stats: PacketStats): void {
  try {
    handle.send(bytes, bytes.length);
  } catch (error) {
    throw new PacketIoError('SEND_FAILED', `cannot send on "${ifname}": ${error instanceof Error ? error.message : String(error)}`);
  }
  stats.sent++;
}

/**
 * An open `cap` capture on one interface that reads and sends one protocol's frames (ArpSocket: ARP;
 * nd-socket.ts: IPv6 neighbour discovery). Frames arrive through `on('frame')` or the async iterator.
 * libpcap also delivers the frames this host sends, so consumers must recognise their own MAC.
 */
export class FrameSocket<F, E extends Error & { readonly code: string }> extends EventEmitter<FrameSocketEvents<F, E>> {
  readonly stats: PacketStats<E['code']> = {
    received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: null, kernelDropped: null,
  };
  private closed = false;
  /** Big enough for any ARP or ND frame we build (an NA with its option and a VLAN tag is 94 bytes). */
  private readonly sendBuffer = Buffer.alloc(256);
  readonly iface: InterfaceInfo;
  private readonly handle: CapHandle;
  private readonly captureBuffer: Buffer;
  /** libpcap's packet socket, for the kernel counters; null when it could not be identified. */
  protected readonly captureFd: number | null;

  protected constructor(
    opened: OpenedCapture,
    private readonly codec: FrameCodec<F, E>,
  ) {
    super();
    ({ iface: this.iface, handle: this.handle, captureBuffer: this.captureBuffer, captureFd: this.captureFd } = opened);
    this.handle.on('packet', (nbytes: number) => this.onPacket(nbytes));
    // `cap` as patched at install (patches/cap+0.2.1.patch): a socket error is this event, not an abort.
    this.handle.on('error', (error: unknown) => this.lose(error instanceof Error ? error.message : String(error)));
    if (this.captureFd !== null) {
      this.stats.kernelReceived = 0;
      this.stats.kernelDropped = 0;
      this.refreshKernelStats(); // counts from the open to now (before the filter was set, too) are not ours to report
      this.stats.kernelReceived = 0;
      this.stats.kernelDropped = 0;
    }
  }

  /** Opens `ifname` with `filter`, and finds libpcap's packet socket for the kernel counters. */
  protected static openOn(ifname: string, filter: string, bufferBytes: number): OpenedCapture {
    let iface: InterfaceInfo;
    try {
      iface = readInterface(ifname);
    } catch (error) {
      throw new PacketIoError('NO_SUCH_INTERFACE', error instanceof Error ? error.message : String(error));
    }
    const captureBuffer = Buffer.alloc(SNAP_BUFFER_BYTES);
    const addon = loadCaptureAddon();
    const socketsBefore = addon === null ? null : openSockets();
    const handle = openCapHandle(ifname, filter, bufferBytes, captureBuffer);
    const captureFd = socketsBefore === null ? null : newPacketSocketFd(socketsBefore, iface.index);
    return { iface, handle, captureBuffer, captureFd };
  }

  /** Opens `device` for an interface the caller identified itself (Windows: no /sys, no kernel counters). */
  protected static openDeviceOn(iface: InterfaceInfo, device: string, filter: string, bufferBytes: number): OpenedCapture {
    const captureBuffer = Buffer.alloc(SNAP_BUFFER_BYTES);
    return { iface, handle: openCapHandle(device, filter, bufferBytes, captureBuffer), captureBuffer, captureFd: null };
  }

  /**
   * Brings stats.kernelReceived / kernelDropped up to date (libpcap's ps_recv / ps_drop: frames
   * that passed the filter since the open, and those the kernel dropped for want of ring space).
   * One getsockopt; call it when reporting (every second or so), not per frame.
   */
  refreshKernelStats(): PacketStats<E['code']> {
    if (this.captureFd === null || this.closed || this.stats.kernelReceived === null || this.stats.kernelDropped === null) return this.stats;
    try {
      const [packets, drops] = loadCaptureAddon()!.packetStatistics(this.captureFd);
      this.stats.kernelReceived += packets;
      this.stats.kernelDropped += drops;
    } catch {
      this.stats.kernelReceived = null;
      this.stats.kernelDropped = null;
    }
    return this.stats;
  }

  private onPacket(nbytes: number): void {
    this.stats.received++;
    const mono = performance.now();
    const at = performance.timeOrigin + mono;
    let frame: F;
    try {
      frame = this.codec.decode(this.captureBuffer, 0, nbytes);
    } catch (error) {
      if (!this.codec.isCodecError(error)) throw error;
      const code: E['code'] = error.code;
      this.stats.malformed++;
      this.stats.malformedByCode[code] = (this.stats.malformedByCode[code] ?? 0) + 1;
      // The capture buffer is reused for the next packet: hand out a copy.
      if (this.listenerCount('malformed') > 0) this.emit('malformed', error, Buffer.from(this.captureBuffer.subarray(0, nbytes)));
      return;
    }
    this.stats.decoded++;
    this.emit('frame', { frame, at, mono });
  }

  send(frame: F): void {
    if (this.closed) throw new PacketIoError('CLOSED', `capture on "${this.iface.name}" is closed`);
    injectFrame(this.handle, this.iface.name, this.codec.encode(frame, this.sendBuffer, 0), this.stats);
  }

  /** Sends raw bytes as they are (the lab uses it to put malformed frames on the wire). */
  sendRaw(bytes: Buffer): void {
    if (this.closed) throw new PacketIoError('CLOSED', `capture on "${this.iface.name}" is closed`);
    this.handle.send(bytes, bytes.length);
    this.stats.sent++;
  }

  close(): void {
    if (this.closed) return;
    this.refreshKernelStats();
    this.closed = true;
    this.handle.close();
    this.emit('close');
    this.removeAllListeners();
  }

  private lose(reason: string): void {
    if (this.closed) return;
    const error = new PacketIoError('CAPTURE_LOST', `capture on "${this.iface.name}" lost: ${reason}`);
    this.closed = true;
    this.handle.close();
    this.emit('lost', error);
    this.emit('close');
    this.removeAllListeners();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Decoded frames as an async stream; ends when the socket closes. */
  async *frames(): AsyncGenerator<CapturedFrame<F>> {
    const queue: CapturedFrame<F>[] = [];
    let wake: (() => void) | null = null;
    const onFrame = (captured: CapturedFrame<F>): void => {
      queue.push(captured);
      wake?.();
    };
    const onClose = (): void => wake?.();
    this.on('frame', onFrame);
    this.once('close', onClose);
    try {
      while (true) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      this.off('frame', onFrame);
      this.off('close', onClose);
    }
  }
}

/** An ARP capture that also sends: every claim, probe, witness and audit. */
export class ArpSocket extends FrameSocket<ArpFrame, ArpCodecError> {
  static open(ifname: string, filter: string = ARP_FILTER, options: Omit<ArpSocketOptions, 'filter'> = {}): ArpSocket {
    return new ArpSocket(FrameSocket.openOn(ifname, filter, options.bufferBytes ?? CAPTURE_BUFFER_BYTES), ARP_CODEC);
  }

  /**
   * Opens `device` for an interface the caller has identified itself (Windows: Npcap's
   * \Device\NPF_{GUID} for the adapter `iface` names; no /sys to read, no kernel counters).
   */
  static openDevice(iface: InterfaceInfo, device: string, filter: string = ARP_FILTER, options: Omit<ArpSocketOptions, 'filter'> = {}): ArpSocket {
    return new ArpSocket(FrameSocket.openDeviceOn(iface, device, filter, options.bufferBytes ?? CAPTURE_BUFFER_BYTES), ARP_CODEC);
  }
}

// ---- the watch's capture -------------------------------------------------------------------------

/** Frames per batch handed from the addon to JavaScript. */
const BATCH_SLOTS = 1024;
/** The watch's ring: with a 128-byte snaplen a slot takes ~230 bytes (18 per 4 KiB block), so 16 MiB hold ~70,000 frames (0.7 s at 100,000/s). */
export const WATCH_CAPTURE_BUFFER_BYTES = 16 * 1024 * 1024;

/** What the watch needs from a capture: decoded frames, counters, close. ArpSocket and ArpCapture both are one. */
export interface FrameSource extends EventEmitter<ArpSocketEvents> {
  readonly iface: InterfaceInfo;
  readonly stats: PacketStats;
  refreshKernelStats(): PacketStats;
  close(): void;
}

/** True when the capture addon (main/native, npm run build:native) is built and loads. */
export function captureAddonAvailable(): boolean {
  return loadCaptureAddon() !== null;
}

/**
 * A receive-only ARP capture for the watch, through our addon (main/native/capture.c): libpcap with a
 * 128-byte snaplen (a ring of small slots instead of `cap`'s 64 KiB ones) in immediate mode, frames
 * handed to JavaScript in batches of up to 1,024 (with foldRepeats, the repeats of a sender as one
 * `repeats` event; pauseMs rests the poll after a burst). Same events and counters as ArpSocket; the kernel
 * counters are libpcap's own pcap_stats().
 */
export class ArpCapture extends EventEmitter<ArpSocketEvents> implements FrameSource {
  readonly stats: PacketStats = {
    received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: 0, kernelDropped: 0,
  };
  private closed = false;
  private native: NativeCapture | null = null;
  private readonly data: Buffer;
  private readonly lengths = new Int32Array(BATCH_SLOTS);
  private readonly slotBytes: number;
  private readonly foldCountsAt: number;
  private decodeFrame: (buf: Buffer, offset: number, length: number) => ArpFrame = decode;
  /** Reading a batch: its slots must not be refilled by a flush from a listener. */
  private inBatch = false;
  /** Big enough for any ARP frame we build (60 bytes, 64 tagged). */
  private readonly sendBuffer = Buffer.alloc(128);
  /** unfoldSenders: each address's number, and the list the addon holds now. */
  private readonly senderNumbers = new Map<string, number>();
  private unfolded = new Uint32Array(0);

  private constructor(readonly iface: InterfaceInfo, addon: CaptureAddon) {
    super();
    this.slotBytes = addon.SLOT_BYTES;
    this.foldCountsAt = addon.FOLD_COUNTS_AT;
    this.data = Buffer.alloc(BATCH_SLOTS * this.slotBytes);
  }

  static open(ifname: string, options: ArpSocketOptions = {}): ArpCapture {
    let iface: InterfaceInfo;
    try {
      iface = readInterface(ifname);
    } catch (error) {
      throw new PacketIoError('NO_SUCH_INTERFACE', error instanceof Error ? error.message : String(error));
    }
    const addon = loadCaptureAddon();
    if (addon === null) throw new PacketIoError('NO_LIBPCAP', 'the capture addon is not built (npm run build:native)');
    const capture = new ArpCapture(iface, addon);
    if (options.decode) capture.decodeFrame = options.decode;
    const pauseMs = options.pauseMs ?? 0;
    if (!Number.isInteger(pauseMs) || pauseMs < 0 || pauseMs > 100) throw new RangeError(`pauseMs must be an integer in 0..100, got ${pauseMs}`);
    try {
      capture.native = addon.open(ifname, options.filter ?? ARP_FILTER, options.bufferBytes ?? WATCH_CAPTURE_BUFFER_BYTES, capture.data, capture.lengths, (count, reason) => capture.onBatch(count, reason), options.foldRepeats === true, pauseMs);
    } catch (error) {
      throw classifyOpenError(ifname, error);
    }
    return capture;
  }

  private onBatch(count: number, reason?: string): void {
    if (count < 0) return this.lose(reason ?? 'capture failed');
    this.inBatch = true;
    try {
      this.readBatch(count);
    } finally {
      this.inBatch = false;
    }
  }

  private readBatch(count: number): void {
    const mono = performance.now();
    const at = performance.timeOrigin + mono;
    const stats = this.stats;
    for (let i = 0; i < count && !this.closed; i++) {
      const offset = i * this.slotBytes;
      const slotLength = this.lengths[i]!;
      const folded = slotLength < 0;
      const length = folded ? -slotLength : slotLength;
      const requests = folded ? this.data.readUInt32LE(offset + this.foldCountsAt) : 0;
      const replies = folded ? this.data.readUInt32LE(offset + this.foldCountsAt + 4) : 0;
      const frames = folded ? requests + replies : 1;
      stats.received += frames;
      let frame: ArpFrame;
      try {
        frame = this.decodeFrame(this.data, offset, length);
      } catch (error) {
        // The addon folds only frames decode accepts (fold.c read_arp); counted as malformed all the same.
        if (!(error instanceof ArpCodecError)) throw error;
        stats.malformed += frames;
        stats.malformedByCode[error.code] = (stats.malformedByCode[error.code] ?? 0) + frames;
        if (this.listenerCount('malformed') > 0) this.emit('malformed', error, Buffer.from(this.data.subarray(offset, offset + length)));
        continue;
      }
      stats.decoded += frames;
      if (folded) this.emit('repeats', { frame, at, mono, requests, replies });
      else this.emit('frame', { frame, at, mono });
    }
  }

  /** Sends one frame on the interface through this capture's own handle: an ArpCapture is then an agent's whole ARP port. */
  send(frame: ArpFrame): void {
    if (this.closed || this.native === null) throw new PacketIoError('CLOSED', `capture on "${this.iface.name}" is closed`);
    injectFrame(this.native, this.iface.name, ARP_CODEC.encode(frame, this.sendBuffer, 0), this.stats);
  }

  /**
   * With foldRepeats: the frames of these senders always come one by one (the agent's claims count a rival
   * that repeats itself, and its watchers hear every answer), the rest of the LAN may be folded. Replaces
   * the previous list; a no-op on a capture that folds nothing.
   */
  unfoldSenders(senders: Iterable<string>): void {
    if (this.closed || this.native === null) return;
    // An agent hands over its whole list (thousands of held addresses) each turn its claims change:
    // parsing each address every time took ~8 % of an agent's CPU during a 10,000-address import.
    const numbers: number[] = [];
    for (const ip of senders) {
      let number = this.senderNumbers.get(ip);
      if (number === undefined) {
        if (this.senderNumbers.size >= SENDER_NUMBERS_KEPT) this.senderNumbers.clear();
        number = ipv4ToNumber(ip);
        this.senderNumbers.set(ip, number);
      }
      // IPv6 text and anything else that is no dotted quad (-1) cannot be an ARP sender: left out.
      if (number >= 0) numbers.push(number);
    }
    const sorted = Uint32Array.from(numbers).sort();
    let unique = 0;
    for (let i = 0; i < sorted.length; i++) if (unique === 0 || sorted[unique - 1] !== sorted[i]) sorted[unique++] = sorted[i]!;
    const list = sorted.subarray(0, unique);
    if (sameNumbers(list, this.unfolded)) return;
    this.unfolded = list;
    this.native.unfold(list);
  }

  /**
   * The kernel's counters, and ours brought level with them: the folded frames the addon still holds
   * (handed over at most 25 ms late) are handed over now, so a report counts every frame read so far.
   */
  refreshKernelStats(): PacketStats {
    if (this.native === null || this.closed) return this.stats;
    if (!this.inBatch) this.onBatch(this.native.flush());
    if (this.native === null || this.closed) return this.stats;
    try {
      const [received, dropped] = this.native.stats();
      this.stats.kernelReceived = received;
      this.stats.kernelDropped = dropped;
    } catch {
      // keep the last figures
    }
    return this.stats;
  }

  close(): void {
    if (this.closed) return;
    this.refreshKernelStats();
    this.closed = true;
    this.native?.close();
    this.native = null;
    this.emit('close');
    this.removeAllListeners();
  }

  private lose(reason: string): void {
    if (this.closed) return;
    const error = new PacketIoError('CAPTURE_LOST', `capture on "${this.iface.name}" lost: ${reason}`);
    this.closed = true;
    this.native?.close();
    this.native = null;
    this.emit('lost', error);
    this.emit('close');
    this.removeAllListeners();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** The watch's capture: ArpCapture when the addon is built, else an ArpSocket (`cap`) with a bigger ring (which folds nothing). */
export function openFrameSource(ifname: string, fallbackBufferBytes: number, options: Pick<ArpSocketOptions, 'decode' | 'foldRepeats' | 'pauseMs'> = {}): FrameSource {
  if (captureAddonAvailable()) return ArpCapture.open(ifname, options);
  return ArpSocket.open(ifname, ARP_FILTER, { bufferBytes: fallbackBufferBytes });
}
