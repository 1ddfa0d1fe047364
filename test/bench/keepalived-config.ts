// keepalived.conf for the comparison benchmark: one VRRP instance, one virtual
// address, unicast adverts to the one peer (so nothing is multicast), no
// scripts, no checkers. Two named profiles: keepalived's own defaults (VRRP v2,
// advert_int 1 s) and the tuned one the issue names (VRRP v3, advert_int 0.1 s);
// keepalivedProfile() makes one for any advert interval (bench:detect's sweep).
//
// Timing facts that shape the figures (RFC 3768 / RFC 5798, as keepalived
// implements them), for a backup of priority p:
//   skew            = (256 - p) / 256 * advert_int          (v3; v2 uses 1 s instead of advert_int)
//   master down     = 3 * advert_int + skew
// A master stopped gracefully sends priority 0, and the backup takes over after
// `skew`; a master that vanishes is noticed after `master down`.

export type KeepalivedProfileName = 'default' | 'tuned';

export interface KeepalivedProfile {
  /** A KeepalivedProfileName, or "advert <s> s" for one made by keepalivedProfile(). */
  name: string;
  vrrpVersion: 2 | 3;
  /** Seconds between adverts. */
  advertIntS: number;
}

export const KEEPALIVED_PROFILES: Readonly<Record<KeepalivedProfileName, KeepalivedProfile>> = {
  default: { name: 'default', vrrpVersion: 2, advertIntS: 1 },
  tuned: { name: 'tuned', vrrpVersion: 3, advertIntS: 0.1 },
};

/**
 * A profile for any advert interval: VRRP v2 (keepalived's default) for whole seconds, v3 below a
 * second, since v2 cannot express a sub-second advert.
 */
export function keepalivedProfile(advertIntS: number): KeepalivedProfile {
  if (!Number.isFinite(advertIntS) || advertIntS <= 0) throw new RangeError(`bad advert interval ${advertIntS} s`);
  // keepalived reads advert_int in centiseconds under v3: anything finer would be rounded silently.
  if (Math.abs(advertIntS * 100 - Math.round(advertIntS * 100)) > 1e-9) throw new RangeError(`advert interval ${advertIntS} s is not a whole number of centiseconds`);
  return { name: `advert ${advertIntS} s`, vrrpVersion: Number.isInteger(advertIntS) ? 2 : 3, advertIntS };
}

export interface KeepalivedInstanceConfig {
  routerId: string;
  ifname: string;
  virtualRouterId: number;
  priority: number;
  /** Initial state; keepalived starts a non-owner (priority < 255) as backup either way and lets priority decide. */
  state: 'MASTER' | 'BACKUP';
  selfIp: string;
  peerIp: string;
  /** 'a.b.c.d/prefix'. */
  virtualAddress: string;
  profile: KeepalivedProfile;
}

const IPV4_PREFIX = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const WORD = /^[A-Za-z0-9_.-]+$/;

/** Refuses anything that could smuggle another directive into the file. */
function checkConfig(config: KeepalivedInstanceConfig): void {
  if (!WORD.test(config.routerId)) throw new Error(`bad router id "${config.routerId}"`);
  if (!WORD.test(config.ifname)) throw new Error(`bad interface name "${config.ifname}"`);
  if (!IPV4.test(config.selfIp) || !IPV4.test(config.peerIp)) throw new Error(`bad unicast addresses ${config.selfIp} / ${config.peerIp}`);
  if (!IPV4_PREFIX.test(config.virtualAddress)) throw new Error(`bad virtual address "${config.virtualAddress}" (want a.b.c.d/prefix)`);
  if (!Number.isInteger(config.virtualRouterId) || config.virtualRouterId < 1 || config.virtualRouterId > 255) throw new Error(`bad virtual_router_id ${config.virtualRouterId}`);
  if (!Number.isInteger(config.priority) || config.priority < 1 || config.priority > 254) throw new Error(`bad priority ${config.priority}`);
  const advert = config.profile.advertIntS;
  if (config.profile.vrrpVersion === 2 && !Number.isInteger(advert)) throw new Error('VRRP v2 adverts are whole seconds');
  if (!(advert > 0)) throw new Error(`bad advert_int ${advert}`);
}

export function renderKeepalivedConfig(config: KeepalivedInstanceConfig): string {
  checkConfig(config);
  return [
    'global_defs {',
    `  router_id ${config.routerId}`,
    `  vrrp_version ${config.profile.vrrpVersion}`,
    '}',
    '',
    'vrrp_instance VI_1 {',
    `  state ${config.state}`,
    `  interface ${config.ifname}`,
    `  virtual_router_id ${config.virtualRouterId}`,
    `  priority ${config.priority}`,
    `  advert_int ${config.profile.advertIntS}`,
    `  unicast_src_ip ${config.selfIp}`,
    '  unicast_peer {',
    `    ${config.peerIp}`,
    '  }',
    '  virtual_ipaddress {',
    `    ${config.virtualAddress} dev ${config.ifname}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Seconds a backup of `priority` waits after a priority-0 advert (the graceful handover). */
export function skewTimeS(profile: KeepalivedProfile, priority: number): number {
  return ((256 - priority) / 256) * (profile.vrrpVersion === 3 ? profile.advertIntS : 1);
}

/** Seconds a backup of `priority` waits after the last advert before it takes over. */
export function masterDownIntervalS(profile: KeepalivedProfile, priority: number): number {
  return 3 * profile.advertIntS + skewTimeS(profile, priority);
}
