// Pure parsing of the `ipfo` command line into a typed command. Bad input becomes a UsageError
// (exit 2) before anything touches the network or the system.
import { parseArgs, type ParseArgsConfig } from 'node:util';
export { UsageError, parseHostPort, DEFAULT_STORE, DEFAULT_API, DEFAULT_TOKEN_FILE } from './usage';
import { isIpv4, parseCidr, isMac, canonicalIpv4, networkOf } from '../arp/addresses';
import { validateIfname } from '../net/interfaces';
import { parseClaimCidr, parseProbeAddress } from './claim-address';
import { canonicalIpv6, isIpv4MappedIpv6, isLoopbackIpv6, isMulticastIpv6, isUnspecifiedIpv6 } from '../nd/addresses';
import type { DefendPolicy, AnnounceForm } from '../arp/acd-config';
import { validateNodeName } from '../cluster/validate';
import { parseStoreLocation } from '../store/open';
import { hasStoreAccess, storeAccessProblem, type StoreAccessFiles } from '../store/etcd-access';
import { DEFAULT_LEASE_TTL_SEC, DEFAULT_STATS_INTERVAL_SEC } from '../agent/lease-deadline';
import { DEFAULT_FAILOVER_PROFILE, FAILOVER_PROFILES, OWNER_SILENCE_MAX_MS, OWNER_SILENCE_MIN_MS, PROBE_INTERVAL_MIN_MS, type FailoverProfile } from '../cluster/failover-profile';
import { checkMetricsBind } from '../metrics/server';
import { UsageError, parseHostPort, DEFAULT_STORE, DEFAULT_API, DEFAULT_API_SOCKET_DIR, DEFAULT_TOKEN_FILE } from './usage';
import { isClusterCommandName, parseClusterCommand, CLUSTER_USAGE, type ClusterCommand } from './cluster-args';
import { agentConfigArgv, parseAgentConfig } from '../service/agent-config';
import type { ServicePlatform } from '../service/launch';


export interface ProbeCommand {
  kind: 'probe';
  ip: string;
  dev: string;
  waitMs: number;
  probeCount: number;
  json: boolean;
}

export interface ClaimCommand {
  kind: 'claim';
  ip: string;
  prefix: number;
  dev: string;
  probe: boolean;
  probeCount: number;
  waitMs: number;
  trustedMac: string | null;
  announceCount: number;
  announceForm: AnnounceForm;
  defend: DefendPolicy;
  json: boolean;
}

export interface WatchCommand {
  kind: 'watch';
  dev: string;
  held: string[];
  json: boolean;
}

/** `ipfo witness <ip>`: who answers ARP for one address, probe after probe (main/cli/commands/witness.ts). */
export interface WitnessCommand {
  kind: 'witness';
  ip: string;
  /** null: the interface with an address in the subnet of `ip` (chosen at start). */
  dev: string | null;
  everyMs: number;
  /** Stop after this long; null: until SIGINT/SIGTERM. */
  forMs: number | null;
  json: boolean;
}

/** `ipfo watch --audit <cidr>`: every address of a CIDR swept and listened to for duplicates and flip-flops. */
export interface AuditCommand {
  kind: 'audit';
  /** The network address of the CIDR. */
  network: string;
  prefix: number;
  dev: string | null;
  everyMs: number;
  forMs: number | null;
  json: boolean;
}

export interface AgentCommand {
  kind: 'agent';
  action: 'run';
  node: string;
  store: string;
  cluster: string;
  apiHost: string;
  apiPort: number;
  /** The API's Unix socket: a path, null for none (--api-socket none); absent: the default (DEFAULT_API_SOCKET for root on Linux, else none). */
  apiSocket?: string | null;
  tokenFile: string;
  tlsCert: string | null;
  tlsKey: string | null;
  leaseTtlSec: number;
  /** How soon a standby calls an owner dead (cluster/failover-profile.ts). */
  failoverProfile: FailoverProfile;
  /** A standby revokes an owner that leaves ARP unanswered this long (ms); null: the profile's. */
  ownerSilenceMs: number | null;
  /** Seconds between load lines (0 = never). */
  statsIntervalSec: number;
  stateDir: string;
  webDir: string | null;
  json: boolean;
  /** How to prove ourselves to a secured etcd (--store-ca, ...): absent when none is given. Files are read at start. */
  storeAccess?: StoreAccessFiles;
  /** Prometheus metrics (--metrics HOST:PORT); absent: none. TLS files: --metrics-tls-*, else the API's. */
  metrics?: { host: string; port: number; tlsCert: string | null; tlsKey: string | null };
}

/** `ipfo agent --config FILE [options]`: resolved into an AgentCommand once the file is read (resolveAgentConfig). */
export interface AgentConfigCommand {
  kind: 'agent';
  action: 'run-config';
  configFile: string;
  /** The other options, in canonical `--name value` form; they override the file. */
  flags: string[];
}

/** `ipfo agent install|uninstall`: the agent as a system service (systemd unit, Windows boot task). */
export interface AgentServiceCommand {
  kind: 'agent';
  action: 'install' | 'uninstall';
  /** Write under this directory instead of / (like DESTDIR); null = the real system. */
  root: string | null;
  /** install: enable and start the service (default: installed disabled until configured). */
  enable: boolean;
  /** uninstall: also remove the configuration and the agent's state (store, token). */
  purge: boolean;
  json: boolean;
}

export type AgentAnyCommand = AgentCommand | AgentConfigCommand | AgentServiceCommand;

export type Command = ProbeCommand | ClaimCommand | WatchCommand | WitnessCommand | AuditCommand | AgentAnyCommand | ClusterCommand | { kind: 'help'; topic?: string } | { kind: 'version' };


export const USAGE = `usage: ipfo <command> [options]

commands:
  probe <ip> --dev <if> [--timeout-ms N] [--count N] [--json]
      Ask the LAN whether <ip> is in use (IPv4: RFC 5227 probe; IPv6: RFC 4862 duplicate address detection).
      Exit 0 "free", exit 3 with each answering MAC.
  claim <ip>/<prefix> --dev <if> [--no-probe] [--trusted-mac MAC] [--count N] [--timeout-ms N]
        [--announce-count N] [--announce-form request|reply|both] [--defend never|once|always] [--json]
      Probe, register, announce, then hold and defend <ip> until SIGINT/SIGTERM; then deregister.
      IPv6 (e.g. 2001:db8::50/64): DAD probes, unsolicited neighbour advertisements (one per
      announcement; --announce-form is ARP's). Exit 3 on conflict (nothing registered).
  watch --dev <if> [--held <ip>[,<ip>...]] [--json]
      Live feed of ARP and IPv6 neighbour discovery: new and changed bindings, gratuitous ARP and unsolicited
      advertisements, probes (DAD too), conflicts with --held addresses (IPv4 or IPv6).
  watch --cluster [--agent host:port --token-file F] [--limit N] [--json]
      The cluster's reading of the wire, from every agent: expected handoffs, conflicts (with vendor; muted
      under maintenance), duplicate addresses, stragglers and convergence after moves.
  watch --audit <network>/<prefix> [--dev <if>] [--every 1s] [--for D] [--json]
      Audit addresses the cluster does not own (keepalived, MetalLB, kube-vip next door): ARP-sweeps every
      address of the CIDR each --every (at most a /16) and listens; reports each address answered by two MACs
      (duplicate) or flip-flopping between MACs, with vendors; a summary at exit. Exit 5 when a duplicate was seen.
  witness <ip> [--dev <if>] [--every 20ms] [--for D] [--json]
      Ask who answers for <ip> every --every (5ms..10s) until --for or SIGINT/SIGTERM: gaps without an answer,
      each change of the answering MAC (old -> new, the silence around it), every moment two MACs answered at
      once (double MAC), vendors; a summary at the end. Exit 0 one answerer at a time, 5 double MAC, 6 never answered.
      Without --dev: the interface with an address in the subnet of <ip>.
  agent --node <name> [--store etcd://host:port[,...]|file:<dir>] [--cluster NAME] [--api host:port]
        [--api-socket PATH|none] [--token-file F] [--tls-cert F --tls-key F] [--lease-ttl S] [--failover-profile default|fast] [--owner-silence-ms MS] [--stats-interval S] [--state-dir D] [--web-dir D] [--json]
        [--store-ca F [--store-cert F --store-key F]] [--store-user NAME --store-password-file F]
        [--metrics HOST:PORT [--metrics-tls-cert F --metrics-tls-key F]]
      The node agent: joins the cluster, holds the addresses it is given, serves the agent API.
      --metrics: Prometheus metrics at http://HOST:PORT/metrics (off by default; e.g. 127.0.0.1:9790); on a
      non-loopback address only over TLS (--metrics-tls-cert/--metrics-tls-key, else --tls-cert/--tls-key).
      A secured etcd: --store-ca (TLS: https to every endpoint, etcd verified with this CA), --store-cert/--store-key
      (client certificate for etcd's --client-cert-auth), --store-user/--store-password-file (etcd user; the file
      holds the password, mode 0600). See docs/security.md.
      Defaults: --store ${DEFAULT_STORE} (single host), --api ${DEFAULT_API}, --token-file ${DEFAULT_TOKEN_FILE},
      --api-socket ${DEFAULT_API_SOCKET_DIR}/<node>.sock when run as root on Linux (the local CLI's default; only root
      may connect), else none.
      --lease-ttl ${DEFAULT_LEASE_TTL_SEC} (seconds; etcd's minimum is 2). --failover-profile default: how soon a standby
      takes over the addresses of an owner whose kernel stopped answering its ARP probes — default asks every
      20 ms and waits 100 ms of silence (safe on a loaded host), fast every 3 ms and 12 ms (a client gap under
      30 ms; 333 probes a second per owner watched). --owner-silence-ms MS replaces the profile's silence
      (${OWNER_SILENCE_MIN_MS}..${OWNER_SILENCE_MAX_MS}; at least four probes always): a silence under four of the profile's intervals
      asks more often, every silence/4 ms but not under ${PROBE_INTERVAL_MIN_MS} ms (fast with 8: every 2 ms, up to 1,000 probes a
      second per owner watched). --stats-interval ${DEFAULT_STATS_INTERVAL_SEC}: seconds between the agent's load lines
      (resources, reconcile time per pass, standby probes per second, memory); 0 = never.
  agent --config FILE [options]
      The same, with the options read from FILE (JSON, keys are the option names: /etc/ipfo/agent.json
      for the service); options on the command line override the file.
  agent install [--enable] [--root DIR]
      Installs the agent as a system service (systemd unit ipfo-agent; a boot task on Windows) running
      \`ipfo agent --config <file>\`, and a commented configuration file if there is none. Installed
      disabled until configured unless --enable. --root DIR writes under DIR (packaging, tests).
  agent uninstall [--purge] [--root DIR]
      Stops and removes the service; keeps the configuration and state unless --purge.

${CLUSTER_USAGE}

exit codes: 0 ok, 1 runtime error, 2 bad input (nothing changed), 3 address in use / conflict,
            4 environment missing something (permission, libpcap; etcd refused the agent's certificate, user or permissions),
            5 two MACs answered for one address at once (witness: double MAC; watch --audit: duplicate),
            6 the address never answered (witness)`;

const MAX_INT_OPTION = 3_600_000;

function integerOption(name: string, raw: string | undefined, fallback: number, min: number, max = MAX_INT_OPTION): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function choiceOption<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function requireDev(raw: string | undefined): string {
  if (raw === undefined) throw new UsageError('--dev <interface> is required');
  try {
    validateIfname(raw);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return raw;
}

const SPAN_PATTERN = /^(\d{1,9})(ms|s|m|h)$/;
const SPAN_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "20ms", "1s", "10m", "2h" -> ms, within [minMs, maxMs] (spelled minText, maxText). */
export function spanOption(name: string, raw: string | undefined, fallback: number | null, minMs: number, maxMs: number, minText: string, maxText: string): number | null {
  if (raw === undefined) return fallback;
  const match = SPAN_PATTERN.exec(raw);
  if (match === null) throw new UsageError(`--${name} wants a duration such as 20ms, 10s or 5m, got "${raw}"`);
  const ms = Number(match[1]) * SPAN_UNIT_MS[match[2]!]!;
  if (ms < minMs || ms > maxMs) throw new UsageError(`--${name} must be between ${minText} and ${maxText}, got "${raw}"`);
  return ms;
}

/** An optional --dev, checked like a required one. */
function optionalDev(raw: string | undefined): string | null {
  return raw === undefined ? null : requireDev(raw);
}

/**
 * One address of `watch --held`: IPv4, or IPv6 in any RFC 4291 spelling, kept in RFC 5952 form (the form
 * the watch's frames decode to, so a conflict names the address as the wire does). An address no host
 * holds on a link (::, loopback, multicast) or an IPv4 address written as IPv6 is refused, not ignored.
 */
function heldAddress(text: string): string {
  if (!text.includes(':')) {
    if (!isIpv4(text)) throw new UsageError(`invalid IPv4 address "${String(text)}" in --held`);
    return text;
  }
  let ip: string;
  try {
    ip = canonicalIpv6(text);
  } catch (error) {
    throw new UsageError(`invalid IPv6 address in --held: ${(error as Error).message}`);
  }
  if (isUnspecifiedIpv6(ip) || isLoopbackIpv6(ip) || isMulticastIpv6(ip)) throw new UsageError(`--held: ${ip} is not an address a host holds on a link (::, ::1 or multicast)`);
  if (isIpv4MappedIpv6(ip)) throw new UsageError(`--held: ${ip} is an IPv4-mapped address; write the IPv4 address itself`);
  return ip;
}

/** The largest network `watch --audit` sweeps: a /16 is 65,534 addresses. */
export const AUDIT_MIN_PREFIX = 16;

function parseAudit(rest: readonly string[]): AuditCommand {
  const { values, positionals } = parseWith([...rest], {
    audit: { type: 'string' }, dev: { type: 'string' }, every: { type: 'string' }, for: { type: 'string' }, json: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`watch: unexpected argument "${positionals[0]}"`);
  const text = str(values.audit);
  if (text === undefined || !text.includes('/')) throw new UsageError(`watch --audit wants <network>/<prefix> such as 10.0.0.0/24, got "${text ?? ''}"`);
  let cidr: { ip: string; prefix: number };
  try {
    cidr = parseCidr(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (cidr.prefix < AUDIT_MIN_PREFIX) throw new UsageError(`watch --audit: ${text} is larger than a /${AUDIT_MIN_PREFIX} (${2 ** (32 - cidr.prefix)} addresses); audit at most a /${AUDIT_MIN_PREFIX} at a time`);
  return {
    kind: 'audit',
    network: networkOf(cidr.ip, cidr.prefix),
    prefix: cidr.prefix,
    dev: optionalDev(str(values.dev)),
    everyMs: spanOption('every', str(values.every), 1000, 100, 3_600_000, '100ms', '1h')!,
    forMs: spanOption('for', str(values.for), null, 1, 30 * 86_400_000, '1ms', '720h'),
    json: values.json === true,
  };
}

function onePositional(command: string, positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`${command}: missing ${what}`);
  if (positionals.length > 1) throw new UsageError(`${command}: unexpected argument "${positionals[1]}"`);
  return positionals[0]!;
}

function parseWith(argv: string[], options: ParseArgsConfig['options']): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    // node:util's messages run over several lines; an administrator gets the first one.
    throw new UsageError((error as Error).message.split('\n')[0]!.replace(/\.$/, ''));
  }
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

export function parseCommand(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  switch (name) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help' };
    case 'version':
    case '--version':
      return { kind: 'version' };
    case 'probe': {
      const { values, positionals } = parseWith(rest, {
        dev: { type: 'string' }, 'timeout-ms': { type: 'string' }, count: { type: 'string' }, json: { type: 'boolean' },
      });
      const { ip } = parseProbeAddress(onePositional('probe', positionals, '<ip>'));
      return {
        kind: 'probe',
        ip,
        dev: requireDev(str(values.dev)),
        waitMs: integerOption('timeout-ms', str(values['timeout-ms']), 1000, 1),
        probeCount: integerOption('count', str(values.count), 3, 1, 10),
        json: values.json === true,
      };
    }
    case 'claim': {
      const { values, positionals } = parseWith(rest, {
        dev: { type: 'string' }, 'no-probe': { type: 'boolean' }, 'trusted-mac': { type: 'string' },
        count: { type: 'string' }, 'timeout-ms': { type: 'string' }, 'announce-count': { type: 'string' },
        'announce-form': { type: 'string' }, defend: { type: 'string' }, json: { type: 'boolean' },
      });
      const parsed = parseClaimCidr(onePositional('claim', positionals, '<ip>/<prefix>'));
      const trusted = str(values['trusted-mac']);
      if (trusted !== undefined && !isMac(trusted)) throw new UsageError(`invalid MAC address "${String(trusted)}"`);
      return {
        kind: 'claim',
        ip: parsed.ip,
        prefix: parsed.prefix,
        dev: requireDev(str(values.dev)),
        probe: values['no-probe'] !== true,
        probeCount: integerOption('count', str(values.count), 3, 1, 10),
        waitMs: integerOption('timeout-ms', str(values['timeout-ms']), 400, 1),
        trustedMac: trusted?.toLowerCase().replaceAll('-', ':') ?? null,
        announceCount: integerOption('announce-count', str(values['announce-count']), 2, 1, 10),
        announceForm: choiceOption('announce-form', str(values['announce-form']), ['request', 'reply', 'both'] as const, 'request'),
        defend: choiceOption('defend', str(values.defend), ['never', 'once', 'always'] as const, 'always'),
        json: values.json === true,
      };
    }
    case 'watch': {
      // The cluster's view of the wire: what every agent's ARP watch concluded (expected handoffs, conflicts,
      // duplicates, stragglers, convergence), live from an agent — `ipfo events --follow --action 'arp.*'`.
      if (rest.includes('--cluster')) return parseClusterCommand('events', ['--follow', '--action', 'arp.*', ...rest.filter((arg) => arg !== '--cluster')]);
      if (rest.some((arg) => arg === '--audit' || arg.startsWith('--audit='))) return parseAudit(rest);
      const { values, positionals } = parseWith(rest, { dev: { type: 'string' }, held: { type: 'string' }, json: { type: 'boolean' } });
      if (positionals.length > 0) throw new UsageError(`watch: unexpected argument "${positionals[0]}"`);
      const held = [...new Set((str(values.held) ?? '').split(',').filter((ip) => ip !== '').map(heldAddress))];
      return { kind: 'watch', dev: requireDev(str(values.dev)), held, json: values.json === true };
    }
    case 'witness': {
      const { values, positionals } = parseWith(rest, { dev: { type: 'string' }, every: { type: 'string' }, for: { type: 'string' }, json: { type: 'boolean' } });
      const ip = onePositional('witness', positionals, '<ip>');
      if (!isIpv4(ip) || ip === '0.0.0.0' || ip === '255.255.255.255') throw new UsageError(`invalid IPv4 address "${ip}"`);
      return {
        kind: 'witness',
        ip: canonicalIpv4(ip),
        dev: optionalDev(str(values.dev)),
        everyMs: spanOption('every', str(values.every), 20, 5, 10_000, '5ms', '10s')!,
        forMs: spanOption('for', str(values.for), null, 1, 30 * 86_400_000, '1ms', '720h'),
        json: values.json === true,
      };
    }
    case 'agent':
      return parseAgentCommand(rest);
    default:
      if (isClusterCommandName(name)) return parseClusterCommand(name, rest);
      throw new UsageError(`unknown command "${name}" (try: ipfo help)`);
  }
}

const AGENT_OPTIONS = {
  node: { type: 'string' }, store: { type: 'string' }, cluster: { type: 'string' }, api: { type: 'string' }, 'api-socket': { type: 'string' },
  'token-file': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' },
  'lease-ttl': { type: 'string' }, 'state-dir': { type: 'string' }, 'web-dir': { type: 'string' }, json: { type: 'boolean' },
  'owner-silence-ms': { type: 'string' }, 'failover-profile': { type: 'string' }, 'stats-interval': { type: 'string' },
  'store-ca': { type: 'string' }, 'store-cert': { type: 'string' }, 'store-key': { type: 'string' },
  'store-user': { type: 'string' }, 'store-password-file': { type: 'string' },
  metrics: { type: 'string' }, 'metrics-tls-cert': { type: 'string' }, 'metrics-tls-key': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** --store-ca ... as given, checked against the store (UsageError naming the option). */
function storeAccessOption(values: Record<string, string | boolean | undefined>, store: string): StoreAccessFiles | null {
  const access: StoreAccessFiles = {
    ca: str(values['store-ca']) ?? null,
    cert: str(values['store-cert']) ?? null,
    key: str(values['store-key']) ?? null,
    user: str(values['store-user']) ?? null,
    passwordFile: str(values['store-password-file']) ?? null,
  };
  const problem = storeAccessProblem(access, parseStoreLocation(store), (option) => `--${option}`);
  if (problem !== null) throw new UsageError(problem);
  return hasStoreAccess(access) ? access : null;
}

/** --api-socket: an absolute path, or "none"; undefined when not given (the agent's default). */
function apiSocketOption(text: string | undefined): string | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'none') return null;
  if (!text.startsWith('/') || /\p{Cc}/u.test(text)) throw new UsageError(`--api-socket wants an absolute path or "none", got "${text}"`);
  // sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included.
  if (Buffer.byteLength(text) > 103) throw new UsageError(`--api-socket: the path is too long for a Unix socket (at most 103 bytes)`);
  return text;
}

/** `ipfo agent` with every option on the command line. */
function parseAgentRun(rest: readonly string[]): AgentCommand {
  const { values, positionals } = parseWith([...rest], AGENT_OPTIONS);
  if (positionals.length > 0) throw new UsageError(`agent: unexpected argument "${positionals[0]}"`);
  const node = str(values.node);
  if (node === undefined) throw new UsageError('--node <name> is required');
  const nodeName = validateNodeName(node);
  if (!nodeName.ok) throw new UsageError(`--node: ${nodeName.message}`);
  const store = str(values.store) ?? DEFAULT_STORE;
  try {
    parseStoreLocation(store);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const cert = str(values['tls-cert']) ?? null;
  const key = str(values['tls-key']) ?? null;
  if ((cert === null) !== (key === null)) throw new UsageError('--tls-cert and --tls-key go together');
  const api = parseHostPort('api', str(values.api) ?? DEFAULT_API);
  const apiSocket = apiSocketOption(str(values['api-socket']));
  const storeAccess = storeAccessOption(values, store);
  const metrics = metricsOption(values, cert, key);
  return {
    kind: 'agent',
    action: 'run',
    node,
    store,
    cluster: str(values.cluster) ?? 'default',
    apiHost: api.host,
    apiPort: api.port,
    ...(apiSocket === undefined ? {} : { apiSocket }),
    tokenFile: str(values['token-file']) ?? DEFAULT_TOKEN_FILE,
    tlsCert: cert,
    tlsKey: key,
    leaseTtlSec: integerOption('lease-ttl', str(values['lease-ttl']), DEFAULT_LEASE_TTL_SEC, 2, 60),
    failoverProfile: choiceOption('failover-profile', str(values['failover-profile']), FAILOVER_PROFILES, DEFAULT_FAILOVER_PROFILE),
    ownerSilenceMs: values['owner-silence-ms'] === undefined ? null : integerOption('owner-silence-ms', str(values['owner-silence-ms']), 0, OWNER_SILENCE_MIN_MS, OWNER_SILENCE_MAX_MS),
    statsIntervalSec: integerOption('stats-interval', str(values['stats-interval']), DEFAULT_STATS_INTERVAL_SEC, 0, 86_400),
    stateDir: str(values['state-dir']) ?? '/run/ipfo',
    webDir: str(values['web-dir']) ?? null,
    json: values.json === true,
    ...(storeAccess === null ? {} : { storeAccess }),
    ...(metrics === null ? {} : { metrics }),
  };
}

/** --metrics HOST:PORT and its TLS files (its own, or the API's), checked as a bind would be. */
function metricsOption(values: Record<string, string | boolean | undefined>, apiCert: string | null, apiKey: string | null): AgentCommand['metrics'] | null {
  const address = str(values.metrics);
  const ownCert = str(values['metrics-tls-cert']) ?? null;
  const ownKey = str(values['metrics-tls-key']) ?? null;
  if ((ownCert === null) !== (ownKey === null)) throw new UsageError('--metrics-tls-cert and --metrics-tls-key go together');
  if (address === undefined) {
    if (ownCert !== null) throw new UsageError('--metrics-tls-cert is for --metrics HOST:PORT, which is not given');
    return null;
  }
  const { host, port } = parseHostPort('metrics', address);
  const tlsCert = ownCert ?? apiCert;
  const tlsKey = ownKey ?? apiKey;
  try {
    checkMetricsBind(host, tlsCert !== null);
  } catch (error) {
    throw new UsageError(`--metrics: ${(error as Error).message}`);
  }
  return { host, port, tlsCert, tlsKey };
}

function parseAgentServiceCommand(action: 'install' | 'uninstall', rest: readonly string[]): AgentServiceCommand {
  const { values, positionals } = parseWith([...rest], {
    root: { type: 'string' }, json: { type: 'boolean' },
    ...(action === 'install' ? { enable: { type: 'boolean' } } : { purge: { type: 'boolean' } }),
  });
  if (positionals.length > 0) throw new UsageError(`agent ${action}: unexpected argument "${positionals[0]}"`);
  const rootText = str(values.root);
  let root: string | null = null;
  if (rootText !== undefined) {
    if (!rootText.startsWith('/') || /\p{Cc}/u.test(rootText)) throw new UsageError(`--root must be an absolute directory, got "${rootText}"`);
    root = rootText.replace(/\/+$/, '') || null;
  }
  const enable = values.enable === true;
  if (enable && root !== null) throw new UsageError('--enable starts the service on this system: it cannot go with --root');
  return { kind: 'agent', action, root, enable, purge: values.purge === true, json: values.json === true };
}

function parseAgentCommand(rest: readonly string[]): AgentAnyCommand {
  if (rest[0] === 'install' || rest[0] === 'uninstall') return parseAgentServiceCommand(rest[0], rest.slice(1));
  const config = parseWith([...rest], { ...AGENT_OPTIONS, config: { type: 'string' } });
  const configFile = str(config.values.config);
  if (configFile === undefined) return parseAgentRun(rest);
  if (config.positionals.length > 0) throw new UsageError(`agent: unexpected argument "${config.positionals[0]}"`);
  if (configFile === '') throw new UsageError('--config wants a file name');
  const flags: string[] = [];
  for (const [name, value] of Object.entries(config.values)) {
    if (name === 'config' || value === undefined || value === false) continue;
    flags.push(`--${name}`, ...(value === true ? [] : [value]));
  }
  return { kind: 'agent', action: 'run-config', configFile, flags };
}

/**
 * `ipfo agent --config FILE [flags]` once FILE is read: the file's settings, then the flags (which
 * win), through the same parser as the command line. Errors in the file name the file and the key.
 */
export function resolveAgentConfig(command: AgentConfigCommand, text: string, platform: ServicePlatform = 'linux'): AgentCommand {
  const config = parseAgentConfig(text, command.configFile, platform);
  if (config.node === undefined && !command.flags.includes('--node')) {
    throw new UsageError(`${command.configFile}: no node name: set "node" in the file (or pass --node <name>)`);
  }
  return parseAgentRun([...agentConfigArgv(config), ...command.flags]);
}
