// Runs one conflict-detection machine (arp/acd.ts) for real: it carries out the effects the machine
// returns — frames through the socket (ARP for an IPv4 address, neighbour discovery for an IPv6 one),
// the address through the registrar, one timer — and feeds the machine the frames and timeouts that
// arrive. All decisions stay in the pure machine.
import { EventEmitter } from 'node:events';
import { createAcd, type Acd, type AcdConfig, type AcdEffect, type AcdEvent } from '../arp/acd';
import type { AcdFrame } from '../arp/acd-frames';
import type { CapturedFrame } from '../net/pcap';
import { SingleTimer, systemClock, type Clock } from './timers';

/** What the claim needs from an address registrar (net/registrar.ts on Linux). */
export interface AddressRegistrar {
  /** Adds the address (idempotent); throws with a one-line reason on failure. */
  add(ifname: string, ip: string, prefix: number): void;
  /** Removes the address if it is there and ours (idempotent). */
  remove(ifname: string, ip: string, prefix: number): void;
}

/**
 * The socket a claim sends and hears its frames on: an ArpSocket (host.ts ArpPort) for an IPv4 address,
 * an NdSocket for an IPv6 one. A frame of the other family is never sent (the machine builds its own
 * family's) and, heard, is ignored by the machine.
 */
export interface ClaimPort {
  readonly iface: { readonly name: string; readonly mac: string };
  send(frame: AcdFrame): void;
  on(event: 'frame', listener: (captured: CapturedFrame<AcdFrame>) => void): unknown;
  off(event: 'frame', listener: (captured: CapturedFrame<AcdFrame>) => void): unknown;
}

export interface AddressClaimOptions {
  /** Canonical IPv4 or IPv6 (RFC 5952) text. */
  ip: string;
  prefix: number;
  socket: ClaimPort;
  registrar: AddressRegistrar;
  config?: Partial<AcdConfig>;
  clock?: Clock;
  /**
   * Listen to the socket's frames itself (default). A caller that runs many claims on one socket
   * passes false and routes each frame to the claim it concerns with feedFrame().
   */
  subscribe?: boolean;
  /**
   * Asked before every frame the claim sends. A cluster node answers false once it may no longer be the
   * owner (its lease unconfirmed): a process resumed after a freeze must not announce or defend an
   * address another node has taken meanwhile, even for the moment before its fencing runs.
   */
  permitSend?: () => boolean;
}

export interface AddressClaimEvents {
  event: [AcdEvent];
  /** A failure of an effect (send, deregister) that the machine does not model; the claim goes on. */
  warning: [string];
}

export class AddressClaim extends EventEmitter<AddressClaimEvents> {
  readonly ip: string;
  readonly prefix: number;
  private readonly machine: Acd<AcdFrame>;
  private readonly timer: SingleTimer;
  private readonly clock: Clock;
  private readonly socket: ClaimPort;
  private readonly registrar: AddressRegistrar;
  private readonly onFrame = (captured: CapturedFrame<AcdFrame>): void => this.feedFrame(captured.frame);
  private running = false;
  private readonly subscribe: boolean;
  private readonly permitSend: () => boolean;

  constructor(options: AddressClaimOptions) {
    super();
    this.subscribe = options.subscribe ?? true;
    this.permitSend = options.permitSend ?? (() => true);
    this.ip = options.ip;
    this.prefix = options.prefix;
    this.socket = options.socket;
    this.registrar = options.registrar;
    this.clock = options.clock ?? systemClock;
    this.machine = createAcd<AcdFrame>(options.config ?? {}, { ip: options.ip, mac: options.socket.iface.mac });
    this.timer = new SingleTimer(this.clock, () => this.apply(() => this.machine.onTimeout(this.clock.now())));
  }

  get state(): string {
    return this.machine.state;
  }

  get mac(): string {
    return this.socket.iface.mac;
  }

  get ifname(): string {
    return this.socket.iface.name;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.subscribe) this.socket.on('frame', this.onFrame);
    this.apply(() => this.machine.start(this.clock.now()));
  }

  /** Operator release: deregisters (if registered) and ends the claim. */
  stop(): void {
    if (!this.running) return;
    this.apply(() => this.machine.stop(this.clock.now()));
  }

  /** The interface went away or down: the address is dropped without defending it. */
  linkDown(): void {
    if (!this.running) return;
    this.apply(() => this.machine.onLinkDown(this.clock.now()));
  }

  /** Frames may also be fed by a dispatcher that shares one socket among many claims. */
  feedFrame(frame: AcdFrame): void {
    if (!this.running) return;
    this.apply(() => this.machine.onFrame(this.clock.now(), frame));
  }

  /** Another node saw `mac` claim this address in frames this host could not see. */
  peerReport(mac: string): void {
    if (!this.running) return;
    this.apply(() => this.machine.onPeerReport(this.clock.now(), mac));
  }

  /**
   * Announces the bound address once more (a cache refresh): true when the frames went out; false before
   * the address is bound, after the claim ended, or while this node may no longer send for it (permitSend).
   */
  reannounce(): boolean {
    if (!this.running || !this.permitSend()) return false;
    let sent = false;
    this.apply(() => {
      const effects = this.machine.state === 'announcing' || this.machine.state === 'defending' ? this.machine.onReannounce(this.clock.now()) : [];
      sent = effects.some((effect) => effect.type === 'event' && effect.event.type === 'reannounced');
      return effects;
    });
    return sent;
  }

  private apply(step: () => AcdEffect<AcdFrame>[]): void {
    // Effects can produce more input (register -> onRegistered); run them in order, breadth first.
    const queue: AcdEffect<AcdFrame>[] = step();
    for (let effect = queue.shift(); effect; effect = queue.shift()) {
      switch (effect.type) {
        case 'send':
          if (!this.permitSend()) {
            this.emit('warning', `not sending ${this.ip.includes(':') ? 'neighbour discovery' : 'ARP'} for ${this.ip}: ownership not confirmed`);
            break;
          }
          try {
            this.socket.send(effect.frame);
          } catch (error) {
            this.emit('warning', (error as Error).message);
          }
          break;
        case 'set-timer':
          this.timer.setAt(effect.at);
          break;
        case 'cancel-timer':
          this.timer.cancel();
          break;
        case 'register':
          try {
            this.registrar.add(this.socket.iface.name, this.ip, this.prefix);
          } catch (error) {
            queue.push(...this.machine.onRegisterFailed(this.clock.now(), (error as Error).message));
            break;
          }
          queue.push(...this.machine.onRegistered(this.clock.now()));
          break;
        case 'deregister':
          try {
            this.registrar.remove(this.socket.iface.name, this.ip, this.prefix);
          } catch (error) {
            this.emit('warning', `could not remove ${this.ip}/${this.prefix}: ${(error as Error).message}`);
          }
          break;
        case 'event':
          if (effect.event.type === 'down' || effect.event.type === 'used-by' || effect.event.type === 'free') this.finish();
          this.emit('event', effect.event);
          break;
      }
    }
  }

  private finish(): void {
    this.running = false;
    this.timer.cancel();
    if (this.subscribe) this.socket.off('frame', this.onFrame);
  }
}
