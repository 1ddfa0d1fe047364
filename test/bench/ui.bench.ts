// npm run bench:ui — the web console under load (issue 4): 10,000 IP resources over 5 nodes, and the
// agent streaming 1,000 resource state changes a second. Measures, in Debian's Chromium driven by
// playwright-core (headless):
//  1. time to first render of the resource table (BENCH_REPS page loads, a fresh browser context each);
//  2. frame rate while the table scrolls at a fixed speed, without and with the stream;
//  3. frame rate while the stream runs and nobody scrolls;
//  4. dropped updates: after the stream stops, the renderer's applied revision and change count
//     against what the server sent, and the shown state of sampled changed rows against the truth.
// The API server (main/api/server.ts), the protocol, the browser and the production build of the
// renderer (renderer/dist) are real; the cluster behind the server is synthetic (test/bench/ui-cluster.ts).
// Prints medians and p99 next to the aims. Not a test: it asserts nothing.
//
//   npx tsc -p tsconfig.json && npx vite build renderer && node build/test/bench/ui.bench.js
//
// Env: BENCH_REPS (first-render page loads, default 10), BENCH_SCROLL_RUNS (runs per frame-rate
// phase, default 5), BENCH_RUN_MS (length of a run, default 4000), BENCH_RESOURCES (10000),
// BENCH_NODES (5), BENCH_CHANGES_PER_S (1000), BENCH_SCROLL_PX_PER_S (3000), BENCH_UI_DIST (the
// build to serve, default renderer/dist).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { startAgentServer, type AgentServer } from '../../main/api/server';
import { summarize, type Summary } from './stats';
import { SyntheticCluster } from './ui-cluster';
import { seededRandom as prng } from '../seeded-random';
import {
  FIRST_RENDER_INIT_SCRIPT,
  FIRST_RENDER_READY,
  FIRST_RENDER_RESULT,
  STREAM_COUNTERS,
  frameRunScript,
  type FirstRenderSample,
  type FrameRun,
} from './ui-page';

const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const VIEWPORT = { width: 1440, height: 900 };

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not ${JSON.stringify(raw)}`);
  return value;
}

const REPS = Math.round(envNumber('BENCH_REPS', 10));
const RUNS = Math.round(envNumber('BENCH_SCROLL_RUNS', 5));
const RUN_MS = envNumber('BENCH_RUN_MS', 4000);
const RESOURCES = Math.round(envNumber('BENCH_RESOURCES', 10_000));
const NODES = Math.round(envNumber('BENCH_NODES', 5));
const CHANGES_PER_S = envNumber('BENCH_CHANGES_PER_S', 1000);
const SCROLL_PX_PER_S = envNumber('BENCH_SCROLL_PX_PER_S', 3000);
const DIST = resolve(process.env.BENCH_UI_DIST ?? join(__dirname, '..', '..', '..', 'renderer', 'dist'));
const SAMPLED_ROWS = 40;
const FRAME_BUDGET_MS = 1000 / 60;
const LONG_FRAME_MS = 33;

const load = (): string => loadavg().map((value) => value.toFixed(2)).join(' ');
const loadLog: string[] = [];
function noteLoad(phase: string): void {
  loadLog.push(`${phase.padEnd(34)} load average ${load()}`);
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

function line(label: string, value: string, aim: string): string {
  return `  ${label.padEnd(46)} ${value.padEnd(52)} ${aim}`;
}

function timing(label: string, s: Summary, aim = ''): string {
  return line(label, `n=${s.n}  median ${ms(s.median)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`, aim);
}

function sleep(msToWait: number): Promise<void> {
  return new Promise((done) => setTimeout(done, msToWait));
}

/** CPU seconds of the page's renderer: its main thread (ThreadTime) and the whole process (ProcessTime), from Chromium's Performance domain. */
async function cpuTimes(cdp: CDPSession): Promise<{ thread: number; process: number }> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const value = (name: string): number => metrics.find((metric) => metric.name === name)?.value ?? Number.NaN;
  return { thread: value('ThreadTime'), process: value('ProcessTime') };
}

type FirstRender = FirstRenderSample & { mainThreadCpuMs: number };

async function firstRender(browser: Browser, origin: string, token: string): Promise<FirstRender> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  try {
    await context.addInitScript(FIRST_RENDER_INIT_SCRIPT);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    // The page says when (FIRST_RENDER_READY): polling it would put tasks on the thread being measured.
    const ready = page.waitForEvent('console', { predicate: (message) => message.text() === FIRST_RENDER_READY, timeout: 60_000 });
    await page.goto(`${origin}/#token=${token}`, { waitUntil: 'commit' });
    await ready.catch(() => {
      throw new Error('no resource row painted (and all rows received) within 60 s');
    });
    const cpu = await cpuTimes(cdp);
    return { ...(await page.evaluate<FirstRenderSample>(FIRST_RENDER_RESULT)), mainThreadCpuMs: cpu.thread * 1000 };
  } finally {
    await context.close();
  }
}

/**
 * Where the first-row time goes: the page's milestones in order, each step's length (median, p99 over
 * the page loads). Steps may overlap (the socket opens while the script evaluates); a step whose ends
 * a build does not record is left out.
 */
function breakdownLines(samples: readonly FirstRender[]): string[] {
  type Milestone = (s: FirstRender) => number | null;
  const steps: Array<[string, Milestone, Milestone]> = [
    ['navigation -> script requested (HTML, renderer start)', () => 0, (s) => s.scriptRequestAt],
    ['script download', (s) => s.scriptRequestAt, (s) => s.scriptLoadedAt],
    ['script loaded -> evaluation starts (compile, CSS)', (s) => s.scriptLoadedAt, (s) => s.scriptStartMark],
    ['script evaluation (mark to mark)', (s) => s.scriptStartMark, (s) => s.scriptEndMark],
    ['socket created -> open', (s) => s.socketAt, (s) => s.openAt],
    ['socket open -> hello sent (key derivation, busy thread)', (s) => s.openAt, (s) => s.helloAt],
    ['hello sent -> the agent\'s hello reply', (s) => s.helloAt, (s) => s.helloReplyAt],
    ['hello reply -> subscribe sent (proof)', (s) => s.helloReplyAt, (s) => s.subscribeAt],
    ['subscribe sent -> head received (agent, wire)', (s) => s.subscribeAt, (s) => s.snapshotAt],
    ['head received -> first row in the DOM (parse, React)', (s) => s.snapshotAt, (s) => s.rowInsertedAt],
    ['row in the DOM -> painted (style, layout, paint)', (s) => s.rowInsertedAt, (s) => s.rowPaintedAt],
  ];
  const lines = ['  breakdown of the first-row time (each step: median, p99 over the page loads; steps may overlap):'];
  for (const [label, from, to] of steps) {
    const spans = samples.flatMap((sample) => {
      const start = from(sample);
      const end = to(sample);
      return start === null || end === null ? [] : [end - start];
    });
    if (spans.length === 0) continue;
    const s = summarize(spans);
    lines.push(line(`    ${label}`, `median ${ms(s.median)}  p99 ${ms(s.p99)}`, ''));
  }
  const at = (pick: Milestone): string => {
    const values = samples.flatMap((sample) => (pick(sample) === null ? [] : [pick(sample) as number]));
    return values.length === 0 ? 'n/a' : summarize(values).median.toFixed(0);
  };
  lines.push(
    `    milestones (median ms): script requested ${at((s) => s.scriptRequestAt)}, loaded ${at((s) => s.scriptLoadedAt)}, evaluated ${at((s) => s.scriptStartMark)}-${at((s) => s.scriptEndMark)};`,
    `      socket ${at((s) => s.socketAt)}, open ${at((s) => s.openAt)}, hello ${at((s) => s.helloAt)}, reply ${at((s) => s.helloReplyAt)}, subscribe ${at((s) => s.subscribeAt)}, head ${at((s) => s.snapshotAt)}, row ${at((s) => s.rowInsertedAt)}, painted ${at((s) => s.rowPaintedAt)}`,
  );
  return lines;
}

type MeasuredRun = FrameRun & { threadCpuMs: number; processCpuMs: number };

interface FramePhase {
  runs: MeasuredRun[];
}

async function framePhase(page: Page, cdp: CDPSession, speed: number): Promise<FramePhase> {
  const runs: MeasuredRun[] = [];
  for (let run = 0; run < RUNS; run++) {
    const before = await cpuTimes(cdp);
    const frames = await page.evaluate<FrameRun>(frameRunScript(speed, RUN_MS));
    const after = await cpuTimes(cdp);
    runs.push({ ...frames, threadCpuMs: (after.thread - before.thread) * 1000, processCpuMs: (after.process - before.process) * 1000 });
    await sleep(300);
  }
  return { runs };
}

function framePhaseLines(label: string, phase: FramePhase, scrolling: boolean): string[] {
  const intervals = phase.runs.flatMap((run) => run.intervals);
  const s = summarize(intervals);
  const perRunFps = summarize(phase.runs.map((run) => (run.intervals.length * 1000) / run.intervals.reduce((a, b) => a + b, 0)));
  const long = intervals.filter((value) => value > LONG_FRAME_MS).length;
  const loafs = phase.runs.flatMap((run) => run.longAnimationFrames);
  const blank = phase.runs.reduce((sum, run) => sum + run.blankFrames, 0);
  const cpuPerFrame = summarize(phase.runs.map((run) => run.threadCpuMs / Math.max(1, run.intervals.length)));
  const processShare = summarize(phase.runs.map((run) => run.processCpuMs / RUN_MS));
  return [
    `${label} (${phase.runs.length} runs x ${RUN_MS} ms, ${intervals.length} frames)`,
    line('FPS (frames / run time, per run)', `n=${perRunFps.n}  median ${perRunFps.median.toFixed(1)}  min ${perRunFps.min.toFixed(1)}  max ${perRunFps.max.toFixed(1)} fps`, 'aim 60 fps'),
    line('fps from the median frame interval', `${(1000 / s.median).toFixed(1)} fps`, 'aim 60 fps'),
    line('frame interval', `median ${ms(s.median)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`, `aim p99 <= ${ms(FRAME_BUDGET_MS)} (+vsync jitter)`),
    line(`long frames (interval > ${LONG_FRAME_MS} ms)`, `${long} of ${intervals.length} (${((100 * long) / Math.max(1, intervals.length)).toFixed(1)} %)`, 'aim 0'),
    line('long animation frames (LoAF > 50 ms)', loafs.length === 0 ? '0' : `${loafs.length}, max ${ms(Math.max(...loafs))}`, 'aim 0'),
    ...(scrolling ? [line('frames with no row mid-viewport (blank)', `${blank}`, 'aim 0')] : []),
    line('renderer main-thread CPU per frame', `median ${ms(cpuPerFrame.median)}  max ${ms(cpuPerFrame.max)} (per run)`, `budget ${ms(FRAME_BUDGET_MS)}`),
    line('renderer process CPU (all its threads)', `median ${(100 * processShare.median).toFixed(0)} % of one core`, ''),
  ];
}

interface DropCheck {
  lines: string[];
}

/** After the stream stops: does the page hold exactly what the server sent? */
async function checkDrops(page: Page, cluster: SyntheticCluster, snapshotRevision: number, lastRevision: number, snapshotsBefore: number): Promise<DropCheck> {
  const started = performance.now();
  let counters = await page.evaluate<{ revision: number | null; applied: number | null }>(STREAM_COUNTERS);
  while (counters.revision !== lastRevision && performance.now() - started < 15_000) {
    await sleep(50);
    counters = await page.evaluate<{ revision: number | null; applied: number | null }>(STREAM_COUNTERS);
  }
  const caughtUpMs = performance.now() - started;
  const expectedApplied = lastRevision - snapshotRevision;
  const resyncs = cluster.snapshotRevisions.length - snapshotsBefore;

  // Sampled rows: the newest changed resources and a random pick of the older ones, each found with the filter.
  const changed = cluster.changedBetween(snapshotRevision, lastRevision);
  const random = prng(7);
  const newest = changed.slice(0, SAMPLED_ROWS / 2);
  const older = changed.slice(SAMPLED_ROWS / 2);
  const picks = new Set(newest);
  while (picks.size < Math.min(SAMPLED_ROWS, changed.length) && older.length > 0) picks.add(older[Math.floor(random() * older.length)] ?? '');
  const filter = page.getByTestId('resource-filter');
  const mismatches: string[] = [];
  for (const name of picks) {
    const truth = cluster.resource(name);
    await filter.fill(name);
    const row = page.getByTestId(`resource-row-${name}`);
    await row.waitFor({ timeout: 10_000 });
    const state = await row.getAttribute('data-state');
    const owner = (await row.getByTestId('owner').innerText()).trim();
    const wantOwner = truth?.status.owner ?? '—';
    if (state !== truth?.status.state || owner !== wantOwner) mismatches.push(`${name}: shows ${state ?? '?'}/${owner}, is ${truth?.status.state ?? '?'}/${wantOwner}`);
  }
  await filter.fill('');

  const lines = [
    `Dropped updates (stream stopped at revision ${lastRevision}; the page's snapshot was revision ${snapshotRevision}; ${expectedApplied} changes sent since)`,
    line('applied revision (table data-revision)', `${counters.revision ?? 'n/a'}${counters.revision === lastRevision ? ` = sent, caught up ${ms(caughtUpMs)} after the stop` : ' != sent'}`, 'aim = sent'),
    line('changes applied (table data-applied)', counters.applied === null ? 'n/a (this build does not expose it)' : `${counters.applied}${counters.applied === expectedApplied ? ' = sent' : ` != ${expectedApplied} sent`}`, 'aim = sent'),
    line('fresh snapshots taken meanwhile (resyncs)', String(resyncs), 'aim 0'),
    line('sampled changed rows showing the final state', `${picks.size - mismatches.length} of ${picks.size}`, 'aim all'),
    ...mismatches.slice(0, 5).map((text) => `    mismatch ${text}`),
  ];
  return { lines };
}

async function main(): Promise<void> {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST}/index.html is missing: run \`npx vite build renderer\` first`);
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing (Debian package "chromium")`);
  const token = randomBytes(32).toString('hex');
  const cluster = new SyntheticCluster(RESOURCES, NODES);
  let server: AgentServer | null = null;
  let browser: Browser | null = null;
  const out: string[] = [];
  const print = (text: string): void => {
    out.push(text);
    console.log(text);
  };
  try {
    server = await startAgentServer({ handler: cluster, token, host: '127.0.0.1', port: 0, staticDir: DIST, heartbeatMs: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
    print(`bench:ui — ${RESOURCES.toLocaleString('en')} resources over ${NODES} nodes, ${CHANGES_PER_S} resource state changes/s`);
    print(`  workload: a SYNTHETIC cluster (test/bench/ui-cluster.ts) behind the REAL API server (main/api/server.ts, ${server.origin}),`);
    print(`  real protocol and WebSocket, Chromium ${browser.version()} headless (${CHROMIUM_FLAGS.join(' ')}), viewport ${VIEWPORT.width}x${VIEWPORT.height},`);
    print(`  serving ${DIST}. Host: ${cpus().length} CPUs, load average at start ${load()}.`);
    print('');
    noteLoad('start');

    // 1. First render, with the stream running.
    cluster.startStream(CHANGES_PER_S);
    await firstRender(browser, server.origin, token); // warm-up (disk cache of the server's files, Chromium's first start)
    const samples: FirstRender[] = [];
    for (let rep = 0; rep < REPS; rep++) samples.push(await firstRender(browser, server.origin, token));
    noteLoad('after first render');
    print(`Time to first render (${REPS} page loads, fresh context each, stream running). Times from navigation start (performance.timeOrigin):`);
    print(line('navigation response end', `median ${ms(summarize(samples.map((s) => s.responseEnd)).median)}`, ''));
    print(line('DOMContentLoaded', `median ${ms(summarize(samples.map((s) => s.domContentLoaded)).median)}`, ''));
    const paged = samples.every((s) => s.restAt !== null);
    const firstBytes = samples[0]?.snapshotBytes ?? 0;
    print(line(`${paged ? 'first push (snapshot head)' : 'snapshot push'} received (${(firstBytes / 1e6).toFixed(firstBytes < 1e5 ? 3 : 1)} MB)`, `median ${ms(summarize(samples.map((s) => s.snapshotAt)).median)}`, ''));
    if (paged) {
      const rest = samples.map((s) => s.restAt ?? Number.NaN);
      print(line(`all rows received (${((samples[0]?.restBytes ?? 0) / 1e6).toFixed(1)} MB in all)`, `median ${ms(summarize(rest).median)}  p99 ${ms(summarize(rest).p99)}`, ''));
    }
    print(line('first row in the DOM', `median ${ms(summarize(samples.map((s) => s.rowInsertedAt)).median)}`, ''));
    print(timing('FIRST RENDER: first row painted', summarize(samples.map((s) => s.rowPaintedAt)), 'aim median < 500 ms, p99 < 700 ms'));
    print(timing(`  of which ${paged ? 'head' : 'snapshot'} received -> row painted`, summarize(samples.map((s) => s.rowPaintedAt - s.snapshotAt))));
    print(timing(`  renderer main-thread CPU up to ${paged ? 'all rows received' : 'then'}`, summarize(samples.map((s) => s.mainThreadCpuMs)), '(load-independent part)'));
    print('  definition: navigation start -> end of the first frame that shows a resource row (the first');
    print('  requestAnimationFrame after the row entered the DOM, then a task posted from it, which runs after that frame is painted).');
    for (const text of breakdownLines(samples)) print(text);
    print('');

    // One long-lived page for the rest.
    cluster.stopStream();
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, reducedMotion: 'reduce' });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(`${server.origin}/#token=${token}`, { waitUntil: 'domcontentloaded' });
    await page.locator('[data-testid^="resource-row-"]').first().waitFor({ timeout: 60_000 });
    await sleep(1_000);
    const snapshotsBefore = cluster.snapshotRevisions.length;
    const snapshotRevision = cluster.snapshotRevisions.at(-1) ?? 0;

    // 2. Scrolling, no stream.
    noteLoad('before scroll, no stream');
    const scrollQuiet = await framePhase(page, cdp, SCROLL_PX_PER_S);
    noteLoad('after scroll, no stream');

    // 3. and 4. The stream: idle, then scrolling.
    cluster.startStream(CHANGES_PER_S);
    await sleep(500);
    const idleStream = await framePhase(page, cdp, 0);
    noteLoad('after idle, stream');
    const scrollStream = await framePhase(page, cdp, SCROLL_PX_PER_S);
    const stats = cluster.stopStream();
    noteLoad('after scroll, stream');

    print(`Frame rate: requestAnimationFrame intervals in the page; scrolling sets the table's scrollTop from elapsed time at ${SCROLL_PX_PER_S} px/s (${(SCROLL_PX_PER_S / 30).toFixed(0)} rows/s).`);
    for (const text of framePhaseLines('Scrolling, no stream', scrollQuiet, true)) print(text);
    for (const text of framePhaseLines(`Idle, ${CHANGES_PER_S} changes/s streaming`, idleStream, false)) print(text);
    for (const text of framePhaseLines(`Scrolling while ${CHANGES_PER_S} changes/s stream`, scrollStream, true)) print(text);
    print('');

    // 5. Dropped updates.
    const drops = await checkDrops(page, cluster, snapshotRevision, stats.lastRevision, snapshotsBefore);
    for (const text of drops.lines) print(text);
    noteLoad('end');
    print('');
    print('Load average (1, 5, 15 min) during the run:');
    for (const text of loadLog) print(`  ${text}`);
    await context.close();
  } finally {
    cluster.stopStream();
    await browser?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
