// The chaos soak's figures, pure: what happened (faults as run, the witness's gaps and overlaps, the
// agents' revocations and crashes, the end check) in; each event tied to the fault that caused it,
// the per-kind table and the totals that must be zero out.
import { FAULT_KINDS, type FaultKind } from './soak-schedule';
import { summarize } from './stats';

/** A fault as it ran: wall-clock times of its injection and of its undoing. */
export interface FaultRun {
  index: number;
  kind: FaultKind;
  node: string | null;
  startWallMs: number;
  endWallMs: number;
  detail: string;
  error?: string;
}

export interface GapEvent {
  ip: string;
  fromWallMs: number;
  toWallMs: number;
  ms: number;
  fromMac: string | null;
  toMac: string | null;
}

export interface OverlapEvent {
  ip: string;
  macs: string[];
  fromWallMs: number;
  toWallMs: number;
  /** witness-log's proof rules behind it, and how many proofs were merged into it. */
  rules?: string[];
  evidence?: number;
  /** Answers around its start: mac, kind, request index, wall ms. */
  around?: Array<[string, string, number | null, number]>;
}

/** The overlaps by kind of proof: lasting ones (several proofs) and single proofs, per rule. */
export function overlapProofs(overlaps: readonly OverlapEvent[]): { lasting: number; singleSameRequest: number; singleInterleaved: number } {
  const single = overlaps.filter((o) => (o.evidence ?? 1) <= 1);
  return {
    lasting: overlaps.length - single.length,
    singleSameRequest: single.filter((o) => o.rules?.includes('same-request')).length,
    singleInterleaved: single.filter((o) => !o.rules?.includes('same-request')).length,
  };
}

/** An agent's "<owner> silent on ARP for <ip> for N ms: revoking its lease". */
export interface Revocation {
  atWallMs: number;
  /** The node that revoked. */
  by: string;
  owner: string;
  ip: string;
  silentMs: number;
}

/** An agent exit the soak did not cause. */
export interface AgentCrash {
  node: string;
  atWallMs: number;
  code: number | null;
  signal: string | null;
  stderrTail: string;
}

/** A resource not online on exactly one node at the end, and why. */
export interface EndProblem {
  resource: string;
  ip: string;
  problem: string;
}

/** A fault's effects may show until this long after it was undone (one lease TTL: fencing, rejoin). */
export const FAULT_TAIL_MS = 3000;
/** An effect may be seen this long before the soak recorded the injection (clocks of two processes). */
const FAULT_LEAD_MS = 200;
const REVOCATION_PATTERN = /^(\S+) silent on ARP for (\S+) for (\d+) ms: revoking its lease/;

export type Cause = FaultKind | 'none';

/** Parses one agent log line into a revocation, or null. */
export function parseRevocation(by: string, isoTime: string, message: string): Revocation | null {
  const match = REVOCATION_PATTERN.exec(message);
  if (match === null) return null;
  return { atWallMs: Date.parse(isoTime), by, owner: match[1]!, ip: match[2]!, silentMs: Number(match[3]) };
}

/** The fault whose window [start - lead, end + tail] holds `wallMs` (the latest such, if several), or null. */
export function faultAt(faults: readonly FaultRun[], wallMs: number): FaultRun | null {
  let found: FaultRun | null = null;
  for (const fault of faults) {
    if (wallMs >= fault.startWallMs - FAULT_LEAD_MS && wallMs <= fault.endWallMs + FAULT_TAIL_MS) found = fault;
  }
  return found;
}

/**
 * A revocation of a live owner: no fault on the owner itself around that moment (killed, stopped,
 * its link down, cut from etcd, drained) and no crash of its agent. A busy machine (cpu-hog), an
 * etcd restart or planned moves elsewhere do not make an owner dead: revoking it then is the bug.
 */
export function isLiveOwnerRevocation(revocation: Revocation, faults: readonly FaultRun[], crashes: readonly AgentCrash[]): boolean {
  const onOwner = faults.some((f) => f.node === revocation.owner && revocation.atWallMs >= f.startWallMs - FAULT_LEAD_MS && revocation.atWallMs <= f.endWallMs + FAULT_TAIL_MS);
  // A crashed agent is down from its exit until the supervisor restarted it (a few seconds at most).
  const crashed = crashes.some((c) => c.node === revocation.owner && revocation.atWallMs >= c.atWallMs - 10_000 && revocation.atWallMs <= c.atWallMs + 20_000);
  return !onOwner && !crashed;
}

export interface KindRow {
  kind: Cause;
  count: number;
  /** Per fault: its longest gap (0 when no gap above the witness's threshold). */
  longestGapMs: number;
  medianGapMs: number;
  p99GapMs: number;
  overlaps: number;
  revocations: number;
  liveOwnerRevocations: number;
  errors: number;
}

export interface SoakTotals {
  overlaps: number;
  crashes: number;
  notOnExactlyOneNode: number;
  liveOwnerRevocations: number;
}

export interface SoakFacts {
  faults: readonly FaultRun[];
  gaps: readonly GapEvent[];
  overlaps: readonly OverlapEvent[];
  revocations: readonly Revocation[];
  crashes: readonly AgentCrash[];
  endProblems: readonly EndProblem[];
}

/** One row per fault kind that ran (schedule order of kinds), then 'none' for what no fault explains. */
export function kindRows(facts: SoakFacts): KindRow[] {
  const perFaultGap = new Map<number, number>();
  const rowsByKind = new Map<Cause, KindRow>();
  const row = (kind: Cause): KindRow => {
    let found = rowsByKind.get(kind);
    if (found === undefined) {
      found = { kind, count: 0, longestGapMs: 0, medianGapMs: 0, p99GapMs: 0, overlaps: 0, revocations: 0, liveOwnerRevocations: 0, errors: 0 };
      rowsByKind.set(kind, found);
    }
    return found;
  };
  for (const fault of facts.faults) {
    const r = row(fault.kind);
    r.count += 1;
    if (fault.error !== undefined) r.errors += 1;
    perFaultGap.set(fault.index, 0);
  }
  const noneGaps: number[] = [];
  for (const gap of facts.gaps) {
    const fault = faultAt(facts.faults, gap.fromWallMs);
    if (fault === null) noneGaps.push(gap.ms);
    else perFaultGap.set(fault.index, Math.max(perFaultGap.get(fault.index) ?? 0, gap.ms));
  }
  for (const overlap of facts.overlaps) row(faultAt(facts.faults, overlap.fromWallMs)?.kind ?? 'none').overlaps += 1;
  for (const revocation of facts.revocations) {
    const r = row(faultAt(facts.faults, revocation.atWallMs)?.kind ?? 'none');
    r.revocations += 1;
    if (isLiveOwnerRevocation(revocation, facts.faults, facts.crashes)) r.liveOwnerRevocations += 1;
  }
  if (noneGaps.length > 0) row('none');
  for (const [kind, r] of rowsByKind) {
    const samples = kind === 'none' ? noneGaps : facts.faults.filter((f) => f.kind === kind).map((f) => perFaultGap.get(f.index) ?? 0);
    if (samples.length === 0) continue;
    const s = summarize(samples);
    r.longestGapMs = s.max;
    r.medianGapMs = s.median;
    r.p99GapMs = s.p99;
  }
  const order: Cause[] = [...FAULT_KINDS, 'none'];
  return order.flatMap((k) => rowsByKind.get(k) ?? []);
}

export function totals(facts: SoakFacts): SoakTotals {
  return {
    overlaps: facts.overlaps.length,
    crashes: facts.crashes.length,
    notOnExactlyOneNode: new Set(facts.endProblems.map((p) => p.resource)).size,
    liveOwnerRevocations: facts.revocations.filter((r) => isLiveOwnerRevocation(r, facts.faults, facts.crashes)).length,
  };
}

export function totalsAreZero(t: SoakTotals): boolean {
  return t.overlaps === 0 && t.crashes === 0 && t.notOnExactlyOneNode === 0 && t.liveOwnerRevocations === 0;
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value === 0) return '<thr';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}

const COLUMNS = [
  { title: 'fault kind', width: 14 },
  { title: 'count', width: 6 },
  { title: 'longest gap', width: 12 },
  { title: 'gap median', width: 11 },
  { title: 'gap p99', width: 9 },
  { title: 'two MACs', width: 9 },
  { title: 'revocations', width: 12 },
  { title: 'of live owner', width: 14 },
  { title: 'errors', width: 7 },
] as const;

function line(values: readonly string[]): string {
  return COLUMNS.map((c, i) => (i === 0 ? (values[i] ?? '').padEnd(c.width) : (values[i] ?? '').padStart(c.width))).join(' ').trimEnd();
}

/** The per-kind table (gap figures are per fault: each fault's longest client-visible gap). */
export function formatKindTable(rows: readonly KindRow[]): string {
  const header = line(COLUMNS.map((c) => c.title));
  const body = rows.map((r) => line([
    r.kind === 'none' ? 'no fault' : r.kind,
    r.kind === 'none' ? '-' : String(r.count),
    ms(r.longestGapMs),
    ms(r.medianGapMs),
    ms(r.p99GapMs),
    String(r.overlaps),
    String(r.revocations),
    String(r.liveOwnerRevocations),
    String(r.errors),
  ]));
  return [header, '-'.repeat(header.length), ...body].join('\n');
}

export function formatTotals(t: SoakTotals): string {
  const mark = (n: number): string => (n === 0 ? '0' : `${n}  <-- must be 0`);
  return [
    `moments with two MACs answering one address  ${mark(t.overlaps)}`,
    `agent crashes (exits the soak did not cause)  ${mark(t.crashes)}`,
    `resources not online on exactly one node     ${mark(t.notOnExactlyOneNode)}`,
    `revocations of a live owner                  ${mark(t.liveOwnerRevocations)}`,
  ].join('\n');
}
