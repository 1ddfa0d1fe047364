// When does an owner's silence on ARP prove anything? Only over a stretch of time in which this node
// asked again and again AND could have heard the answer. A standby whose capture ring overflowed (the
// kernel dropped frames on its socket: a burst of claims, an ARP sweep, a storm) or whose own link was
// down has heard nothing, whatever the owner said: such a stretch is no evidence, and the window starts
// again once this node can hear. Pure: the caller feeds what it measured, this decides.
import { plural } from '../../preload/contract/plural';

/** What one standby knows of one owner's silence. */
export interface SilenceWindow {
  /** Start of the stretch that counts: the last answer, or the last moment this node could not hear. */
  since: number;
  /** Probes sent since `since`. */
  asked: number;
}

/** What the standby measured about itself since the last verdict. */
export interface HearingSample {
  now: number;
  /** Its link's carrier. */
  carrierUp: boolean;
  /** Frames the kernel dropped on the capture that hears the answers since the last verdict (null: unknown). */
  droppedFrames: number | null;
}

export interface SilenceRules {
  silenceMs: number;
  /** Unanswered probes a verdict needs: silence counts only if we really asked, again and again. */
  probesForSilence: number;
}

export type Verdict =
  | { kind: 'listening' }
  | { kind: 'deaf'; reason: string }
  | { kind: 'silent'; silentMs: number; asked: number };

export function openWindow(now: number): SilenceWindow {
  return { since: now, asked: 0 };
}

/** An answer from the owner: the silence, if any, is over. */
export function answered(window: SilenceWindow, at: number): void {
  window.since = Math.max(window.since, at);
  window.asked = 0;
}

/** One probe sent. */
export function asked(window: SilenceWindow): void {
  window.asked++;
}

/**
 * The verdict after this node has read everything that reached it (call it once the pending frames were
 * handled, not before: a standby that stalled has answers queued that say the owner is fine). Restarts
 * the window when this node could not have heard.
 */
export function judge(window: SilenceWindow, sample: HearingSample, rules: SilenceRules): Verdict {
  if (!sample.carrierUp) return deaf(window, sample.now, 'own carrier down');
  if (sample.droppedFrames !== null && sample.droppedFrames > 0) return deaf(window, sample.now, `kernel dropped ${plural(sample.droppedFrames, 'frame')} on the capture`);
  const silentMs = sample.now - window.since;
  if (silentMs >= rules.silenceMs && window.asked >= rules.probesForSilence) return { kind: 'silent', silentMs, asked: window.asked };
  return { kind: 'listening' };
}

function deaf(window: SilenceWindow, now: number, reason: string): Verdict {
  window.since = now;
  window.asked = 0;
  return { kind: 'deaf', reason };
}
