// Packet I/O over `cap` (libpcap / Npcap): open an interface with a BPF filter, receive decoded ARP frames,
// send frames, close. This is the only module that touches `cap`.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { ArpFrame } from '../arp/frame';
import { ArpCodecError, decode, encode } from '../arp/codec';
import { readInterface, type InterfaceInfo } from './interfaces';

export type PacketIoErrorCode = 'NO_SUCH_INTERFACE' | 'PERMISSION' | 'NO_LIBPCAP' | 'OPEN_FAILED' | 'CLOSED' | 'SEND_FAILED';

export class PacketIoError extends Error {
  constructor(readonly code: PacketIoErrorCode, message: string) {
    super(message);
    this.name = 'PacketIoError';
  }
}

export interface CapturedFrame {
  frame: ArpFrame;
  /** Wall-clock time (ms since the epoch, sub-ms precision) at which the frame reached this process. */
  at: number;
  /** Monotonic time (performance.now()) of the same moment, for intervals. */
  mono: number;
}

export interface PacketStats {
  received: number;
  decoded: number;
  /** Frames that matched the filter but were not valid ARP (truncated, malformed): counted and dropped. */
  malformed: number;
  sent: number;
}

/** ARP, tagged or not. `vlan and arp` must come second: `vlan` shifts the offsets for what follows it. */
export const ARP_FILTER = 'arp or (vlan and arp)';

interface CapHandle extends EventEmitter {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Buffer, length?: number): void;
  close(): void;
  setMinBytes?(bytes: number): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

let capModule: CapModule | undefined;

// `cap` leaves a handle whose open() failed half-initialised, and its destructor then trips a libuv
// assertion (uv_poll_stop on a poll handle never started). Keeping such handles reachable means their
// destructor never runs; there is at most one per failed open.
const failedHandles: CapHandle[] = [];

/** Loads `cap` on first use so that a missing libpcap is one clear error, not a crash at start-up. */
function loadCap(): CapModule {
  if (capModule) return capModule;
  try {
    const requireHere = createRequire(__filename);
    capModule = requireHere('cap') as CapModule;
    return capModule;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new PacketIoError('NO_LIBPCAP', `libpcap is not available (install libpcap, or Npcap on Windows): ${detail}`);
  }
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

// `cap` fixes the snaplen at 65535, so libpcap's ring holds buffer / 64 KiB frames: 4 MiB held only ~32,
// and a burst of replies (a standby probing many addresses, a drain) lost every frame after the 32nd.
// 32 MiB holds ~500 frames; the ARP watch will want a snaplen of its own before it needs more.
const CAPTURE_BUFFER_BYTES = 32 * 1024 * 1024;
const SNAP_BUFFER_BYTES = 2048; // ARP frames are 60-64 bytes; anything longer is not ours to read

export interface ArpSocketEvents {
  frame: [CapturedFrame];
  malformed: [ArpCodecError, Buffer];
  close: [];
}

/**
 * An open capture on one interface. Frames arrive through `on('frame')` or the async iterator.
 * libpcap also delivers the frames this host sends, so consumers must recognise their own MAC.
 */
export class ArpSocket extends EventEmitter<ArpSocketEvents> {
  readonly stats: PacketStats = { received: 0, decoded: 0, malformed: 0, sent: 0 };
  private closed = false;
  private readonly sendBuffer = Buffer.alloc(64);

  private constructor(
    readonly iface: InterfaceInfo,
    private readonly handle: CapHandle,
    private readonly captureBuffer: Buffer,
  ) {
    super();
    handle.on('packet', (nbytes: number) => this.onPacket(nbytes));
  }

  static open(ifname: string, filter: string = ARP_FILTER): ArpSocket {
    let iface: InterfaceInfo;
    try {
      iface = readInterface(ifname);
    } catch (error) {
      throw new PacketIoError('NO_SUCH_INTERFACE', error instanceof Error ? error.message : String(error));
    }
    const { Cap } = loadCap();
    const handle = new Cap();
    const captureBuffer = Buffer.alloc(SNAP_BUFFER_BYTES);
    try {
      handle.open(ifname, filter, CAPTURE_BUFFER_BYTES, captureBuffer);
    } catch (error) {
      failedHandles.push(handle);
      throw classifyOpenError(ifname, error);
    }
    handle.setMinBytes?.(0);
    return new ArpSocket(iface, handle, captureBuffer);
  }

  private onPacket(nbytes: number): void {
    this.stats.received++;
    const mono = performance.now();
    const at = performance.timeOrigin + mono;
    let frame: ArpFrame;
    try {
      frame = decode(this.captureBuffer, 0, nbytes);
    } catch (error) {
      if (!(error instanceof ArpCodecError)) throw error;
      this.stats.malformed++;
      // The capture buffer is reused for the next packet: hand out a copy.
      if (this.listenerCount('malformed') > 0) this.emit('malformed', error, Buffer.from(this.captureBuffer.subarray(0, nbytes)));
      return;
    }
    this.stats.decoded++;
    this.emit('frame', { frame, at, mono });
  }

  send(frame: ArpFrame): void {
    if (this.closed) throw new PacketIoError('CLOSED', `capture on "${this.iface.name}" is closed`);
    const bytes = encode(frame, this.sendBuffer, 0);
    try {
      this.handle.send(bytes, bytes.length);
    } catch (error) {
      throw new PacketIoError('SEND_FAILED', `cannot send on "${this.iface.name}": ${error instanceof Error ? error.message : String(error)}`);
    }
    this.stats.sent++;
  }

  /** Sends raw bytes as they are (the lab uses it to put malformed frames on the wire). */
  sendRaw(bytes: Buffer): void {
    if (this.closed) throw new PacketIoError('CLOSED', `capture on "${this.iface.name}" is closed`);
    this.handle.send(bytes, bytes.length);
    this.stats.sent++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
    this.emit('close');
    this.removeAllListeners();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Decoded frames as an async stream; ends when the socket closes. */
  async *frames(): AsyncGenerator<CapturedFrame> {
    const queue: CapturedFrame[] = [];
    let wake: (() => void) | null = null;
    const onFrame = (captured: CapturedFrame): void => {
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
