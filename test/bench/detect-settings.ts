// bench:detect's sweep, read from the environment (pure: text in, settings out). Ours are
// "profile" or "profile@silenceMs" (the agent's --failover-profile and --owner-silence-ms);
// keepalived's are advert intervals in seconds.
import { FAILOVER_PROFILES, isFailoverProfile, OWNER_SILENCE_MAX_MS, OWNER_SILENCE_MIN_MS, type FailoverProfile } from '../../main/cluster/failover-profile';

export interface OurSetting {
  /** As written in BENCH_OURS: "fast", "default@250". */
  label: string;
  profile: FailoverProfile;
  /** --owner-silence-ms, or null for the profile's own. */
  ownerSilenceMs: number | null;
}

export const DEFAULT_OURS = 'fast,fast@25,default@50,default,default@250';
export const DEFAULT_ADVERTS = '1,0.1,0.05,0.02,0.01';

function items(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function parseOurSettings(text: string): OurSetting[] {
  return items(text).map((item) => {
    const [profile, silence, extra] = item.split('@');
    if (!isFailoverProfile(profile) || extra !== undefined) throw new Error(`BENCH_OURS: "${item}" is not profile[@silenceMs] (profiles: ${FAILOVER_PROFILES.join(', ')})`);
    if (silence === undefined) return { label: item, profile, ownerSilenceMs: null };
    const ms = Number(silence);
    if (!Number.isInteger(ms) || ms < OWNER_SILENCE_MIN_MS || ms > OWNER_SILENCE_MAX_MS) throw new Error(`BENCH_OURS: silence in "${item}" must be an integer ${OWNER_SILENCE_MIN_MS}..${OWNER_SILENCE_MAX_MS} ms`);
    return { label: item, profile, ownerSilenceMs: ms };
  });
}

/** Advert intervals in seconds, as written (keepalivedProfile() checks what keepalived can take). */
export function parseAdverts(text: string): number[] {
  return items(text).map((item) => {
    const seconds = Number(item);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`BENCH_ADVERTS: "${item}" is not a positive number of seconds`);
    return seconds;
  });
}
