// Pure parsing of the `ipfo` command line into a typed command. Bad input becomes a UsageError
// (exit 2) before anything touches the network or the system.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isIpv4, parseCidr, isMac } from '../arp/addresses';
import { validateIfname } from '../net/interfaces';
import type { DefendPolicy, AnnounceForm } from '../arp/acd-config';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

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

export type Command = ProbeCommand | ClaimCommand | WatchCommand | { kind: 'help'; topic?: string } | { kind: 'version' };

export const USAGE = `usage: ipfo <command> [options]

commands:
  probe <ip> --dev <if> [--timeout-ms N] [--count N] [--json]
      Ask the LAN whether <ip> is in use (RFC 5227 probe). Exit 0 "free", exit 3 with each answering MAC.
  claim <ip>/<prefix> --dev <if> [--no-probe] [--trusted-mac MAC] [--count N] [--timeout-ms N]
        [--announce-count N] [--announce-form request|reply|both] [--defend never|once|always] [--json]
      Probe, register, announce, then hold and defend <ip> until SIGINT/SIGTERM; then deregister.
      Exit 3 on conflict (nothing registered).
  watch --dev <if> [--held <ip>[,<ip>...]] [--json]
      Live feed of ARP traffic: new and changed bindings, gratuitous ARP, probes, conflicts.

exit codes: 0 ok, 1 runtime error, 2 bad input (nothing changed), 3 address in use / conflict,
            4 environment missing something (permission, libpcap)`;

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
      const ip = onePositional('probe', positionals, '<ip>');
      if (!isIpv4(ip) || ip === '0.0.0.0') throw new UsageError(`invalid IPv4 address "${ip}"`);
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
      const cidr = onePositional('claim', positionals, '<ip>/<prefix>');
      if (!cidr.includes('/')) throw new UsageError(`claim needs <ip>/<prefix>, got "${cidr}"`);
      let parsed: { ip: string; prefix: number };
      try {
        parsed = parseCidr(cidr);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      if (parsed.ip === '0.0.0.0') throw new UsageError('cannot claim 0.0.0.0');
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
      const { values, positionals } = parseWith(rest, { dev: { type: 'string' }, held: { type: 'string' }, json: { type: 'boolean' } });
      if (positionals.length > 0) throw new UsageError(`watch: unexpected argument "${positionals[0]}"`);
      const held = (str(values.held) ?? '').split(',').filter((ip) => ip !== '');
      for (const ip of held) if (!isIpv4(ip)) throw new UsageError(`invalid IPv4 address "${String(ip)}" in --held`);
      return { kind: 'watch', dev: requireDev(str(values.dev)), held, json: values.json === true };
    }
    default:
      throw new UsageError(`unknown command "${name}" (try: ipfo help)`);
  }
}
