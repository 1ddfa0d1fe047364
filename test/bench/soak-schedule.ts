// The chaos soak's fault schedule, pure: a seed and a duration in, the same list of faults out,
// every time. Faults run one after another (one lane): each fault starts only after the previous
// one has been undone and the cluster had a pause to settle. That keeps the rule "never every node
// down at once" by construction — at most one node is faulted at any moment, and the cluster-wide
// faults (etcd restart) never meet a node fault — and it gives every client-visible gap a single
// cause, so the per-kind figures mean something. Kinds come from shuffled bags (every kind once per
// bag, in random order), so even a short run meets every kind and no kind starves.
import { seededRandom } from '../seeded-random';
export const FAULT_KINDS = ['kill', 'stop', 'admin-down', 'carrier', 'etcd-restart', 'etcd-cut', 'move', 'drain', 'cpu-hog'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What each kind does (for the report's header). */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = {
  kill: "kill -9 of a node's agent, restarted after the hold",
  stop: "SIGSTOP of a node's agent, SIGCONT after the hold",
  'admin-down': "`ip link set lan0 down` in the node's namespace, up after the hold",
  carrier: "the node's bridge port set down (carrier loss on lan0), up after the hold",
  'etcd-restart': 'etcd killed (SIGKILL), started again after the hold',
  'etcd-cut': 'a blackhole route to etcd in the node\'s namespace (cut from etcd, not from the LAN), removed after the hold',
  move: 'planned moves (moveResource) of a few resources to another node',
  drain: 'pauseNode of a node (drain), resumeNode after the hold',
  'cpu-hog': 'busy processes, one per CPU, for the hold',
};

/** Kinds that target one node (the others act on etcd, on resources or on the whole machine). */
export const NODE_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>(['kill', 'stop', 'admin-down', 'carrier', 'etcd-cut', 'drain']);

export interface Fault {
  /** 0, 1, 2, ... in schedule order. */
  index: number;
  kind: FaultKind;
  /** Planned start, ms after the soak's start (the runner starts late if the previous fault overran). */
  atMs: number;
  /** The node it targets ('move': null; its resources are picked when it runs). */
  node: string | null;
  /** How long the fault lasts before it is undone, ms (0 for 'move'). */
  holdMs: number;
  /** 'move': how many resources move. */
  count: number;
  /** A seed for choices made when the fault runs (which resources, which target node). */
  pickSeed: number;
  /** Pause after the fault is undone, before the next one, ms. */
  pauseMs: number;
}

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  nodes: readonly string[];
  kinds?: readonly FaultKind[];
}

/** Hold ranges [min, max] ms per kind. */
const HOLD_MS: Readonly<Record<FaultKind, readonly [number, number]>> = {
  kill: [0, 4000], // 0: restarted at once (the re-adoption path)
  stop: [200, 5000],
  'admin-down': [500, 4000],
  carrier: [500, 4000],
  'etcd-restart': [0, 2500],
  'etcd-cut': [1000, 8000],
  move: [0, 0],
  drain: [2000, 8000],
  'cpu-hog': [3000, 10_000],
};
const PAUSE_MS: readonly [number, number] = [3000, 6000];
const MOVE_COUNT: readonly [number, number] = [1, 10];
/** Planning estimate of what a fault's actions take besides its hold (restarts, API calls), ms. */
const ACTION_ESTIMATE_MS = 1000;


function between(random: () => number, [min, max]: readonly [number, number]): number {
  return Math.round(min + random() * (max - min));
}

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const list = [...items];
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

/** Parses SOAK_FAULTS ("kill,move"); empty or undefined = every kind. Throws on an unknown kind. */
export function parseFaultKinds(text: string | undefined): FaultKind[] {
  if (text === undefined || text.trim() === '') return [...FAULT_KINDS];
  const wanted = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = wanted.filter((w) => !(FAULT_KINDS as readonly string[]).includes(w));
  if (unknown.length > 0) throw new Error(`unknown fault kind ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
  return FAULT_KINDS.filter((k) => wanted.includes(k));
}

/** The faults of a soak of `durationMs`: planned back to back, each starting before the duration ends. */
export function buildSchedule(options: ScheduleOptions): Fault[] {
  const kinds = options.kinds ?? FAULT_KINDS;
  if (kinds.length === 0) throw new Error('buildSchedule: no fault kinds');
  if (options.nodes.length === 0) throw new Error('buildSchedule: no nodes');
  const random = seededRandom(options.seed);
  const faults: Fault[] = [];
  let atMs = between(random, PAUSE_MS); // the cluster runs undisturbed for a moment first
  let bag: FaultKind[] = [];
  while (atMs < options.durationMs) {
    if (bag.length === 0) bag = shuffled(random, kinds);
    const kind = bag.shift()!;
    const node = kind === 'move' || kind === 'etcd-restart' || kind === 'cpu-hog' ? null : options.nodes[Math.floor(random() * options.nodes.length)]!;
    const holdMs = between(random, HOLD_MS[kind]);
    const count = kind === 'move' ? between(random, MOVE_COUNT) : 0;
    const pickSeed = Math.floor(random() * 2 ** 31);
    const pauseMs = between(random, PAUSE_MS);
    faults.push({ index: faults.length, kind, atMs, node, holdMs, count, pickSeed, pauseMs });
    atMs += holdMs + ACTION_ESTIMATE_MS + pauseMs;
  }
  return faults;
}
