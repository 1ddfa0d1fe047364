// A fake Windows for the address backend (main/net/windows/backend.ts) and the Windows host
// (main/host/windows-host.ts): a CommandRunner that plays PowerShell's scripts and netsh against state
// it keeps — the recorded outputs in fixtures/windows/ by default, or a machine a test describes. It
// answers as the scripts in commands.ts do (one line of base64 JSON), so every command goes through
// the real builders and parsers. What tests can make it do: take a while (latencyMs, or hold the next
// answers until released), refuse items (refuse), and say what it applied, in order, in a journal that
// several machines can share.
import assert from 'node:assert/strict';
import { DEADLINE_MESSAGE, encodeScript, REQUEST_ENV, SCRIPTS, type ScriptName, type WindowsCommand } from '../../main/net/windows/commands';
import type { CommandOutput, RecordStore } from '../../main/net/windows/backend';
import { fixture } from './windows-fixtures';

export type JsonObject = Record<string, unknown>;
export type Item = { action?: string; family?: string; ifindex: number; ip: string; prefix: number; validSec?: number | null; preferredSec?: number | null; notAfterNs?: string };

export const ticks = (seconds: number | null | undefined): JsonObject => ({ Ticks: seconds === null || seconds === undefined ? 2 ** 63 : seconds * 10_000_000 });
export const answer = (value: unknown): CommandOutput => ({ stdout: `${Buffer.from(JSON.stringify(value), 'utf8').toString('base64')}\r\n`, stderr: '', exitCode: (value as { ok?: boolean }).ok === false ? 1 : 0 });

export interface FakeWindowsOptions {
  /** Get-NetIPAddress -PolicyStore ActiveStore (default: the recorded get-netipaddress-many.json). */
  active?: JsonObject[];
  /** Get-NetIPAddress -PolicyStore PersistentStore (default: none). */
  persistent?: JsonObject[];
  /** Get-NetAdapter (default: the recorded get-netadapter-many.json). */
  adapters?: JsonObject[];
  /** Name in the shared journal. */
  label?: string;
  journal?: string[];
}

/** A refusal of one item, as the script would report it. */
export type Refusal = { message: string; errorId: string };

/** PowerShell and netsh as far as the backend can tell, state included. */
export class FakeWindows {
  active: JsonObject[];
  persistent: JsonObject[];
  readonly adapters: JsonObject[];
  readonly calls: WindowsCommand[] = [];
  readonly log: string[] = [];
  readonly label: string;
  readonly journal: string[];
  deny = false;
  noPowerShell = false;
  /** The listing script fails as a whole (every change that lists first fails with it). */
  failListing = false;
  /** Every answer waits this long (a PowerShell process takes 0.3-0.5 s on a real host). */
  latencyMs = 0;
  /** Refuses an item of a register/deregister script (undefined: applied). */
  refuse: ((script: ScriptName, item: Item) => Refusal | undefined) | null = null;
  /** Called after every change of the address table. */
  onChange: (() => void) | null = null;
  /**
   * The AddressState (DAD) a new IPv6 address starts in: 'Preferred' (DadTransmits 0, default here),
   * 'Tentative' (Windows' DAD runs: finish it with dadDone) or 'Duplicate' (another node holds it).
   */
  dadState: (ip: string) => 'Preferred' | 'Tentative' | 'Duplicate' = () => 'Preferred';
  private gate: { promise: Promise<void>; open: () => void } | null = null;
  /** What `netsh interface ipv6 show addresses` prints (default: the IPv6 rows of `active`, as netsh lays them out). */
  netshIpv6: string | null = null;

  constructor(options: FakeWindowsOptions = {}) {
    this.active = options.active ?? (JSON.parse(fixture('get-netipaddress-many.json')) as JsonObject[]);
    this.persistent = options.persistent ?? [];
    this.adapters = options.adapters ?? (JSON.parse(fixture('get-netadapter-many.json')) as JsonObject[]);
    this.label = options.label ?? 'windows';
    this.journal = options.journal ?? [];
  }

  /** Answers wait until the returned function is called. */
  hold(): () => void {
    let open = (): void => undefined;
    const promise = new Promise<void>((resolve) => (open = resolve));
    const gate = { promise, open };
    this.gate = gate;
    return () => {
      if (this.gate === gate) this.gate = null;
      gate.open();
    };
  }

  /** Our addresses as Windows shows them now: "ifindex ip/prefix", sorted. */
  ours(): string[] {
    return this.active.filter((a) => a.SkipAsSource === true && a.Store === 1).map((a) => `${String(a.InterfaceIndex)} ${String(a.IPAddress)}/${String(a.PrefixLength)}`).sort();
  }

  /** Windows' DAD on `ip` ends: Preferred (nobody else holds it) or Duplicate. */
  dadDone(ip: string, state: 'Preferred' | 'Duplicate' = 'Preferred'): void {
    const found = this.active.find((a) => a.IPAddress === ip);
    assert.ok(found !== undefined, `${ip} is listed`);
    found.AddressState = state === 'Preferred' ? 4 : 2;
    this.onChange?.();
  }

  /** Scripts run so far, by name, in order (netsh calls as "netsh <args>"). */
  scripts(): string[] {
    return this.log.filter((line) => !line.startsWith('write '));
  }

  private script(command: WindowsCommand): ScriptName {
    const name = (Object.keys(SCRIPTS) as ScriptName[]).find((n) => encodeScript(SCRIPTS[n]) === command.args.at(-1));
    assert.ok(name !== undefined, 'a known script');
    return name;
  }

  private find(item: Item): number {
    return this.active.findIndex((a) => a.InterfaceIndex === item.ifindex && a.IPAddress === item.ip && a.PrefixLength === item.prefix);
  }

  run = async (command: WindowsCommand): Promise<CommandOutput> => {
    this.calls.push(command);
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (this.gate !== null) await this.gate.promise;
    if (command.file.endsWith('\\netsh.exe')) return this.netsh(command.args);
    if (this.noPowerShell) throw Object.assign(new Error('spawn powershell.exe ENOENT'), { code: 'ENOENT' });
    const name = this.script(command);
    this.log.push(name);
    const request = JSON.parse(command.env?.[REQUEST_ENV] ?? 'null') as { v: number; items?: Item[] };
    assert.equal(request.v, 1);
    if (name === 'listAddresses' && this.failListing) return answer({ ok: false, message: 'Cannot connect to CIM server. The service cannot be started.', errorId: 'CimJob_BrokenCimSession,Get-NetIPAddress' });
    if (name === 'listAddresses') return answer({ ok: true, value: { active: this.active, persistent: this.persistent, adapters: this.adapters } });
    if (name === 'listAdapters') return answer({ ok: true, value: this.adapters });
    const results = (request.items ?? []).map((item) => this.apply(name, item));
    this.onChange?.();
    return answer({ ok: true, value: results });
  };

  private apply(name: ScriptName, item: Item): JsonObject {
    if (this.deny) return { ok: false, message: 'Access is denied.', errorId: 'Windows System Error 5,New-NetIPAddress' };
    // The register script's own check, right before the cmdlet (same clock as process.hrtime.bigint()).
    if (name === 'register' && item.notAfterNs !== undefined && process.hrtime.bigint() > BigInt(item.notAfterNs)) return { ok: false, message: DEADLINE_MESSAGE, errorId: DEADLINE_MESSAGE };
    const refused = this.refuse?.(name, item);
    if (refused !== undefined) return { ok: false, ...refused };
    const at = this.find(item);
    if (name === 'deregister') {
      if (at < 0) return { ok: false, message: 'No matching MSFT_NetIPAddress objects found', errorId: 'CmdletizationQuery_NotFound,Remove-NetIPAddress' };
      this.active.splice(at, 1);
      this.journal.push(`${this.label} remove ${item.ip}`);
      return { ok: true };
    }
    if (item.action === 'add') {
      if (at >= 0) return { ok: false, message: 'Instance MSFT_NetIPAddress already exists', errorId: 'Windows System Error 1,New-NetIPAddress' };
      const alias = this.adapters.find((a) => a.ifIndex === item.ifindex)?.Name;
      const v6 = item.ip.includes(':');
      assert.equal(item.family, v6 ? 'IPv6' : 'IPv4', 'the item names its family');
      const state = v6 ? { Preferred: 4, Tentative: 1, Duplicate: 2 }[this.dadState(item.ip)] : 4;
      this.active.push({ IPAddress: item.ip, InterfaceIndex: item.ifindex, InterfaceAlias: alias, AddressFamily: v6 ? 23 : 2, Type: 1, PrefixLength: item.prefix, PrefixOrigin: 1, SuffixOrigin: 1, AddressState: state, SkipAsSource: true, ValidLifetime: ticks(item.validSec), PreferredLifetime: ticks(item.preferredSec), Store: 1 });
      this.journal.push(`${this.label} add ${item.ip}`);
    } else {
      if (at < 0) return { ok: false, message: 'No matching MSFT_NetIPAddress objects found', errorId: 'CmdletizationQuery_NotFound,Set-NetIPAddress' };
      const found = this.active[at]!;
      found.ValidLifetime = ticks(item.validSec);
      found.PreferredLifetime = ticks(item.preferredSec);
      this.journal.push(`${this.label} renew ${item.ip}`);
    }
    return { ok: true };
  }

  private netsh(args: readonly string[]): CommandOutput {
    this.log.push(`netsh ${args.join(' ')}`);
    const text = args.join(' ');
    if (text === 'interface ipv4 show interfaces') return { stdout: fixture('netsh-show-interfaces.txt'), stderr: '', exitCode: 0 };
    if (text === 'interface ipv4 show addresses') return { stdout: fixture('netsh-show-addresses.txt'), stderr: '', exitCode: 0 };
    if (text === 'interface ipv6 show addresses') return { stdout: this.netshIpv6 ?? netshIpv6Text(this.active), stderr: '', exitCode: 0 };
    return { stdout: 'Ok.\r\n\r\n', stderr: '', exitCode: 0 };
  }
}

const NETSH_STATES = ['Invalid', 'Tentative', 'Duplicate', 'Deprecated', 'Preferred'];

/** `netsh interface ipv6 show addresses` for the IPv6 rows of a Get-NetIPAddress table (lifetimes shown as infinite). */
export function netshIpv6Text(rows: readonly JsonObject[]): string {
  const byIndex = new Map<number, JsonObject[]>();
  for (const row of rows) {
    if (row.AddressFamily !== 23) continue;
    const index = row.InterfaceIndex as number;
    byIndex.set(index, [...(byIndex.get(index) ?? []), row]);
  }
  let text = '\r\n';
  for (const [index, list] of byIndex) {
    text += `Interface ${index}: ${String(list[0]!.InterfaceAlias)}\r\n\r\n`;
    text += 'Addr Type  DAD State   Valid Life Pref. Life Address\r\n';
    text += '---------  ----------- ---------- ---------- ------------------------\r\n';
    for (const row of list) {
      const type = row.PrefixOrigin === 1 ? 'Manual' : 'Other';
      text += `${type.padEnd(10)} ${NETSH_STATES[row.AddressState as number]!.padEnd(11)} ${'infinite'.padStart(10)} ${'infinite'.padStart(10)} ${String(row.IPAddress)}\r\n`;
    }
    text += '\r\n';
  }
  return text;
}

/** The owned-address records in memory; writes go to `log` as "write <json without spaces>". */
export class MemoryRecords implements RecordStore {
  text = '';
  constructor(private readonly log: string[]) {}
  read(): Promise<string> {
    return Promise.resolve(this.text);
  }
  write(text: string): Promise<void> {
    this.log.push(`write ${text.replace(/\s+/g, '')}`);
    this.text = text;
    return Promise.resolve();
  }
}
