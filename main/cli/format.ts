// How the cluster commands show things to people: aligned tables and one-line outcomes. Pure (the
// current time is an argument), so a fixed snapshot always gives the same lines.
import type { AuditEntry, ConflictRecord, FailbackPolicy, NodeBindings, NodeRecord, ResourceView, Snapshot } from '../../preload/contract/domain';
import type { ActionResult, WhatIfScenario } from '../../preload/contract/protocol';
import type { WhatIfPlan } from '../cluster/what-if';
import { describeFailure } from '../../preload/contract/failure-text';
import { bansOf, formatThreshold, POLICY_DEFAULTS } from '../../preload/contract/failure-policy';
import { plural } from '../../preload/contract/plural';
import { compareIpAddresses } from '../../preload/contract/ip-address';
import { apartOf, groupsOf } from '../../preload/contract/groups';
import { formatCheck, resourceHealth, type ResourceHealth } from '../../preload/contract/health';
import { DURATION_UNIT_MS, type ClusterOperation } from './cluster-args';

const NONE = '-';

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** Rounded to `digits` decimals, without trailing zeros. */
const rounded = (value: number, digits: number): string => String(Number(value.toFixed(digits)));

/** A duration for people, with the precision that matters at its size: "0.45 ms", "3.2 ms", "41 ms", "2.61 s". */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${rounded(ms, 2)} ms`;
  if (ms < 10) return `${rounded(ms, 1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${rounded(ms / 1000, 2)} s`;
}

/** How long is left: "42s", "9m", "2h" (rounded up: a ban with 1 s left is not "0s"). */
export function formatLeft(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.ceil(seconds / 60)}m`;
  return `${Math.ceil(seconds / 3600)}h`;
}

/** How long ago: "4s ago", "12m ago", "3h ago", "2d ago" (a clock ahead of ours counts as now). */
export function formatAge(thenMs: number, nowMs: number): string {
  const seconds = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

const hour = (h: number): string => String(h).padStart(2, '0');

/** As `--failback` takes it: never, immediate, 22-06. */
export function formatFailback(policy: FailbackPolicy): string {
  return policy.mode === 'window' ? `${hour(policy.startHour)}-${hour(policy.endHour)}` : policy.mode;
}

/** "online on n1 (02:00:00:00:00:01)", "failed: conflict with MAC ...", "online-pending on n2", "offline". */
export function resourceStateText(view: ResourceView): string {
  const status = view.status;
  if (status.state === 'failed') return status.failure === null ? 'failed' : `failed: ${describeFailure(status.failure)}`;
  if (status.owner === null) return status.state;
  return `${status.state} on ${status.owner}${status.ownerMac === null ? '' : ` (${status.ownerMac})`}`;
}

const byName = <T extends { name: string }>(items: readonly T[]): T[] => [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

function nodeRows(nodes: readonly NodeRecord[], now: number): string[][] {
  return byName(nodes).map((node) => [node.name, node.state, node.agentVersion === '' ? NONE : node.agentVersion, formatAge(node.lastSeen, now)]);
}

/** The HEALTH cell: '-' without checks, else the holder's verdict (FAILING in capitals: it is why to look). */
function healthCell(health: ResourceHealth): string {
  return health.state === 'none' ? NONE : health.state === 'failing' ? 'FAILING' : health.state;
}

/** A resource's health in one line below the table, when it fails somewhere or is stuck. */
function healthLine(view: ResourceView, health: ResourceHealth): string | null {
  if (health.state === 'none' || (health.state !== 'failing' && health.failing.length === 0 && view.status.owner !== null)) return null;
  const parts = [`${view.name} health:`];
  if (health.state === 'failing') parts.push(`failing on ${view.status.owner ?? '?'} (${health.reason ?? 'no reason'});`);
  parts.push(health.passing.length > 0 ? `passes on ${health.passing.join(', ')}` : 'passes on no node');
  if (health.failing.length > 0) parts.push(`, fails on ${health.failing.join(', ')}`);
  if (health.stuck !== null) parts.push(`— ${health.stuck}`);
  return parts.join(' ').replace(' ,', ',');
}

function resourceRows(resources: readonly ResourceView[], nodes: readonly NodeRecord[], now: number): string[][] {
  return byName(resources).map((view) => {
    const s = view.status;
    return [
      view.name,
      `${view.ip}/${view.prefix}`,
      s.state === 'offline' && !view.enabled ? 'offline (disabled)' : s.state,
      s.owner ?? NONE,
      s.ownerMac ?? NONE,
      formatAge(s.since, now),
      s.lastHandoffMs === null ? NONE : formatDuration(s.lastHandoffMs),
      healthCell(resourceHealth(view, s.owner, nodes)),
    ];
  });
}

function conflictRows(conflicts: readonly ConflictRecord[], now: number): string[][] {
  return conflicts.map((c) => [c.address, `${c.theirMac}${c.theirVendor ? ` (${c.theirVendor})` : ''}`, c.ourMac ?? NONE, c.node, String(c.count), formatAge(c.lastSeen, now), c.defended ? 'yes' : 'no', c.muted ? 'muted' : '']);
}

/** `ipfo status`: nodes, resources (with each failure spelled out below), and ARP conflicts if any. */
export function formatStatus(snapshot: Snapshot, now: number): string[] {
  const lines: string[] = [];
  if (snapshot.nodes.length === 0) lines.push('no nodes have joined (start one: ipfo agent --node <name>)');
  else lines.push(...table(['NODE', 'STATE', 'VERSION', 'LAST SEEN'], nodeRows(snapshot.nodes, now)));
  lines.push('');
  if (snapshot.resources.length === 0) lines.push('no resources (add one: ipfo resource add <name> <ip>/<prefix>)');
  else {
    // The HEALTH column appears once a resource has checks: a cluster without any keeps its table as it was.
    const checked = snapshot.resources.some((view) => view.health !== undefined);
    // So does the GROUP column once a resource is in a group.
    const grouped = snapshot.resources.some((view) => view.group !== undefined);
    const groupOf = new Map(snapshot.resources.map((view) => [view.name, view.group ?? NONE]));
    const rows = resourceRows(snapshot.resources, snapshot.nodes, now).map((row) => [...(checked ? row : row.slice(0, -1)), ...(grouped ? [groupOf.get(row[0]!)!] : [])]);
    lines.push(...table(['RESOURCE', 'ADDRESS', 'STATE', 'OWNER', 'OWNER MAC', 'SINCE', 'LAST HANDOFF', ...(checked ? ['HEALTH'] : []), ...(grouped ? ['GROUP'] : [])], rows));
    for (const view of byName(snapshot.resources)) {
      if (view.status.state === 'failed') lines.push(`${view.name} ${resourceStateText(view)}`);
      else if (view.status.failure !== null) lines.push(`${view.name} marked: ${describeFailure(view.status.failure)}`);
      const line = healthLine(view, resourceHealth(view, view.status.owner, snapshot.nodes));
      if (line !== null) lines.push(line);
      for (const { node, ban } of bansOf(view.name, snapshot.nodes)) lines.push(`${view.name} banned on ${node} for ${formatLeft(ban.until - now)} more: ${ban.reason}`);
    }
  }
  if (snapshot.conflicts.length > 0) {
    lines.push('');
    lines.push(...table(['CONFLICT', 'THEIR MAC', 'OUR MAC', 'SEEN BY', 'FRAMES', 'LAST SEEN', 'DEFENDED', 'ALARM'], conflictRows(snapshot.conflicts, now)));
  }
  if (snapshot.rejected.length > 0) {
    lines.push('');
    lines.push(`${plural(snapshot.rejected.length, 'store record')} ${snapshot.rejected.length === 1 ? 'is' : 'are'} not what ${snapshot.rejected.length === 1 ? 'it claims' : 'they claim'} to be and left out (fix or delete the key):`);
    const rows = [...snapshot.rejected].sort((a, b) => a.key.localeCompare(b.key)).map((record) => [record.name, record.key, record.reason]);
    lines.push(...table(['REJECTED', 'KEY', 'REASON'], rows));
  }
  return lines;
}

/** `ipfo status --json`: one object scripts can read (times are wall-clock ms). */
export function statusJson(snapshot: Snapshot): Record<string, unknown> {
  return {
    nodes: byName(snapshot.nodes).map((node) => ({ name: node.name, state: node.state, version: node.agentVersion, lastSeen: node.lastSeen, macs: node.macs, maintenanceUntil: node.maintenanceUntil ?? null, health: node.health ?? [] })),
    resources: byName(snapshot.resources).map((view) => ({
      name: view.name,
      ip: view.ip,
      prefix: view.prefix,
      enabled: view.enabled,
      state: view.status.state,
      owner: view.status.owner,
      ownerMac: view.status.ownerMac,
      since: view.status.since,
      lastHandoffMs: view.status.lastHandoffMs,
      failure: view.status.failure,
      health: view.health === undefined ? null : { ...resourceHealth(view, view.status.owner, snapshot.nodes) },
      group: view.group ?? null,
      bans: bansOf(view.name, snapshot.nodes).map(({ node, ban }) => ({ node, since: ban.since, until: ban.until, reason: ban.reason })),
    })),
    conflicts: snapshot.conflicts,
    rejected: snapshot.rejected,
  };
}

/** Each group as `ipfo group list --json` gives it: members, where they are (several nodes: split), apart-from. */
export function groupsJson(resources: readonly ResourceView[]): Array<{ name: string; members: string[]; nodes: string[]; apartFrom: string[] }> {
  return [...groupsOf(resources)].map(([name, members]) => ({
    name,
    members: members.map((member) => member.name),
    nodes: [...new Set(members.flatMap((member) => (member.status.owner === null ? [] : [member.status.owner])))].sort(),
    apartFrom: apartOf(members),
  }));
}

/** `ipfo group list`: one row per group. */
export function formatGroups(resources: readonly ResourceView[]): string[] {
  const groups = groupsJson(resources);
  if (groups.length === 0) return ['no groups (make one: ipfo group add <group> <resource> <resource>...)'];
  const rows = groups.map((group) => [group.name, group.members.join(','), group.nodes.length === 0 ? NONE : group.nodes.length === 1 ? group.nodes[0]! : `split: ${group.nodes.join(',')}`, group.apartFrom.length === 0 ? NONE : group.apartFrom.join(',')]);
  return table(['GROUP', 'MEMBERS', 'ON', 'APART FROM'], rows);
}

const list = (names: readonly string[], empty: string): string => (names.length === 0 ? empty : names.join(','));

/** `ipfo bindings`: one table of every node's stations, by node then address. */
export function formatBindings(nodes: readonly NodeBindings[], now: number): string[] {
  const rows = [...nodes]
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .flatMap((n) =>
      [...n.bindings]
        .sort((a, b) => compareIpAddresses(a.ip, b.ip))
        .map((b) => [n.node, b.ip, b.mac, b.vendor ?? NONE, formatAge(b.firstSeen, now), formatAge(b.lastSeen, now), String(b.count), String(b.changes)]),
    );
  if (rows.length === 0) return ['no bindings saved yet (agents save their ARP tables every 10 s while frames arrive)'];
  return table(['SEEN BY', 'ADDRESS', 'MAC', 'VENDOR', 'FIRST SEEN', 'LAST SEEN', 'FRAMES', 'CHANGES'], rows);
}

/** `ipfo plan`: the event, then one row per address it concerns (what would happen to it). */
export function formatPlan(scenario: WhatIfScenario, plan: WhatIfPlan): string[] {
  const event = scenario.kind === 'node-down' ? `if ${scenario.node} went down` : scenario.kind === 'pause' ? `if ${scenario.node} were paused (drained)` : `if ${scenario.resource}'s health checks failed on ${scenario.node}`;
  const rows = [
    ...plan.moves.map((move) => ({ resource: move.resource, now: move.from, then: `moves to ${move.to}` })),
    ...plan.stays.map((stay) => ({ resource: stay.resource, now: stay.node, then: `stays on ${stay.node}: ${stay.why}` })),
    ...plan.offline.map((gone) => ({ resource: gone.resource, now: gone.from, then: `goes offline: ${gone.why}` })),
  ].sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
  if (rows.length === 0) return [`${event}: nothing would move`];
  return [`${event}:`, ...table(['RESOURCE', 'NOW ON', 'THEN'], rows.map((row) => [row.resource, row.now, row.then]))];
}

/** `ipfo resource list`: the definitions, in the syntax the options take. */
export function formatResourceList(resources: readonly ResourceView[]): string[] {
  if (resources.length === 0) return ['no resources (add one: ipfo resource add <name> <ip>/<prefix>)'];
  // The POLICY column appears once a resource sets its failure policy: others keep the table as it was.
  const withPolicy = resources.some((view) => view.retries !== undefined || view.banForSec !== undefined || view.failoverThreshold !== undefined);
  const rows = byName(resources).map((view) => [
    view.name,
    `${view.ip}/${view.prefix}`,
    view.enabled ? 'yes' : 'no',
    list(view.possibleOwners, 'all'),
    list(view.preferredOwners, NONE),
    formatFailback(view.failback),
    list(Object.entries(view.interfaces).map(([node, ifname]) => `${node}=${ifname}`), 'auto'),
    view.announceForm,
    view.announceRefreshSec === undefined ? 'off' : formatPeriod(view.announceRefreshSec),
    view.defendPolicy,
    view.health === undefined ? NONE : `${view.health.checks.map(formatCheck).join(' | ')} every ${formatMillis(view.health.intervalMs)} (timeout ${formatMillis(view.health.timeoutMs)}, fall ${view.health.fall}, rise ${view.health.rise})`,
    ...(withPolicy ? [formatPolicy(view)] : []),
  ]);
  return table(['RESOURCE', 'ADDRESS', 'ENABLED', 'OWNERS', 'PREFERRED', 'FAILBACK', 'INTERFACES', 'ANNOUNCE', 'REFRESH', 'DEFEND', 'CHECKS', ...(withPolicy ? ['POLICY'] : [])], rows);
}

/** "retry 1, ban 10m, limit 5/1h": the failure policy as the options take it (defaults filled in). */
export function formatPolicy(view: Pick<ResourceView, 'retries' | 'banForSec' | 'failoverThreshold'>): string {
  const limit = view.failoverThreshold === undefined ? 'no limit' : `limit ${formatThreshold(view.failoverThreshold)}`;
  return `retry ${view.retries ?? POLICY_DEFAULTS.retries}, ban ${formatPeriod(view.banForSec ?? POLICY_DEFAULTS.banForSec)}, ${limit}`;
}

/** As --check-interval takes it: 500ms, 2s, 1m. */
function formatMillis(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Whole seconds in the largest unit that divides them, as --announce-refresh takes them: 60 -> "1m", 90 -> "90s". */
export function formatPeriod(seconds: number): string {
  // The parser's own units (parseDuration), largest first: what this prints reads back as the same period.
  for (const unit of ['d', 'h', 'm'] as const) {
    const size = (DURATION_UNIT_MS[unit] ?? Number.NaN) / 1000;
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** One audit entry: "2023-11-14T22:13:20.001Z #7 cli:alice@127.0.0.1 resource.move web ok (handoff 3.1 ms, took 12 ms) web moved to n2". */
export function formatEvent(entry: AuditEntry): string {
  const timings = [
    ...(entry.handoffMs === null ? [] : [`handoff ${formatDuration(entry.handoffMs)}`]),
    ...(entry.durationMs === null ? [] : [`took ${formatDuration(entry.durationMs)}`]),
  ];
  return [
    new Date(entry.at).toISOString(),
    `#${entry.seq}`,
    entry.actor,
    entry.action,
    ...(entry.target === null ? [] : [entry.target]),
    entry.outcome,
    ...(timings.length === 0 ? [] : [`(${timings.join(', ')})`]),
    ...(entry.detail === null || entry.detail === '' ? [] : [entry.detail]),
  ].join(' ');
}

const STILL_RUNNING = 'the agent is still carrying it out; follow with: ipfo events --follow';

/** The one line that tells what a command did. */
export function formatAction(op: ClusterOperation, result: ActionResult): string {
  const view = result.resource;
  const state = view === null ? null : resourceStateText(view);
  switch (op.kind) {
    case 'resource-add': {
      const added = `added ${op.spec.name} ${view === null ? op.spec.ip : `${view.ip}/${view.prefix}`}`;
      if (state === null) return added;
      return result.outcome === 'accepted' && view?.status.state !== 'failed' ? `${added}: ${state} (${STILL_RUNNING})` : `${added}: ${state}`;
    }
    case 'resource-edit':
      return state === null ? `updated ${op.name}` : `updated ${op.name}: ${state}`;
    case 'resource-remove':
      return `removed ${op.name}`;
    case 'move': {
      if (result.outcome === 'accepted') return `${result.detail ?? `moving ${op.name}`} (${STILL_RUNNING})`;
      // The agent's own line tells a move from "already there"; without one, the resource shows where it is now.
      const line = result.detail ?? `${op.name} moved to ${view?.status.owner ?? op.target}`;
      return `${line}${result.handoffMs === null ? '' : ` (handoff ${formatDuration(result.handoffMs)})`}`;
    }
    case 'online':
    case 'offline': {
      const line = `${op.name} ${state ?? op.kind}`;
      return result.outcome === 'accepted' && view?.status.state !== 'failed' ? `${line} (${STILL_RUNNING})` : line;
    }
    case 'node-pause':
      return result.outcome === 'accepted' ? `paused ${op.node}: still draining (${STILL_RUNNING})` : `paused ${op.node}: drained`;
    case 'node-resume':
      return `resumed ${op.node}`;
    default:
      return result.detail ?? result.outcome;
  }
}
