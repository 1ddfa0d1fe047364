// Conflicts come frame by frame (a rogue may send hundreds a second); the cluster store and every
// console need them as episodes: the first frame at once (an operator must see it within a second),
// then at most one update per interval carrying the count so far, and a new episode once the
// station has been quiet for a while. Pure: times are passed in.
import type { Ipv4, Mac } from '../arp/frame';

export interface ConflictSighting {
  /** The resource whose address is claimed, or the plain address itself. */
  resource: string;
  ip: Ipv4;
  vlan: number | null;
  ourMac: Mac | null;
  theirMac: Mac;
  theirVendor: string | null;
  defended: boolean;
}

export interface ConflictEpisode extends Omit<ConflictSighting, 'defended'> {
  firstSeen: number;
  lastSeen: number;
  count: number;
  defended: boolean;
}

interface OpenEpisode {
  episode: ConflictEpisode;
  publishedAt: number;
  /** Frames seen since the last publication. */
  unpublished: boolean;
}

export interface ConflictEpisodesOptions {
  /** At most one update per episode this often. Default 1000 ms. */
  updateIntervalMs?: number;
  /** An episode ends after this long without a frame. Default 30 s. */
  quietMs?: number;
}

export class ConflictEpisodes {
  private readonly open = new Map<string, OpenEpisode>();
  private readonly updateIntervalMs: number;
  private readonly quietMs: number;

  constructor(options: ConflictEpisodesOptions = {}) {
    this.updateIntervalMs = options.updateIntervalMs ?? 1000;
    this.quietMs = options.quietMs ?? 30_000;
  }

  /**
   * `frames` conflicting frames (one, or a capture's folded repeats) at `now` (wall ms). Returns the episode
   * to publish now, or null (folded).
   */
  observe(sighting: ConflictSighting, now: number, frames = 1): ConflictEpisode | null {
    const key = `${sighting.ip}|${sighting.vlan ?? ''}|${sighting.theirMac}`;
    const current = this.open.get(key);
    if (current === undefined || now - current.episode.lastSeen > this.quietMs) {
      const episode: ConflictEpisode = { ...sighting, firstSeen: now, lastSeen: now, count: frames };
      this.open.set(key, { episode, publishedAt: now, unpublished: false });
      return { ...episode };
    }
    const { episode } = current;
    episode.lastSeen = now;
    episode.count += frames;
    const newlyDefended = sighting.defended && !episode.defended;
    episode.defended ||= sighting.defended;
    episode.ourMac ??= sighting.ourMac;
    if (newlyDefended || now - current.publishedAt >= this.updateIntervalMs) {
      current.publishedAt = now;
      current.unpublished = false;
      return { ...episode };
    }
    current.unpublished = true;
    return null;
  }

  /** Updates held back by the interval that are due at `now`; forgets episodes that went quiet. */
  due(now: number): ConflictEpisode[] {
    const result: ConflictEpisode[] = [];
    for (const [key, current] of this.open) {
      if (current.unpublished && now - current.publishedAt >= this.updateIntervalMs) {
        current.publishedAt = now;
        current.unpublished = false;
        result.push({ ...current.episode });
      }
      if (!current.unpublished && now - current.episode.lastSeen > this.quietMs) this.open.delete(key);
    }
    return result;
  }
}
