// `ipfo resource import FILE` and `ipfo resource export`: the effects around main/cluster/resource-table.ts.
//
// Import, in this order, so that a bad row anywhere creates nothing:
//   1. read the file (at most MAX_IMPORT_BYTES), subscribe to the cluster (its snapshot: the nodes and the
//      resources the rows are checked against; its changes: the created resources coming online);
//   2. check EVERY row (resource-table.ts); any bad row: each printed as FILE:LINE: field: message, exit 2,
//      nothing sent — unless --skip-invalid, which sends only the good ones;
//   3. send the good rows in batches that fit one API message (resource.import; the agent checks each
//      row again and refuses a batch with a bad row, e.g. one another console added meanwhile: then the
//      import sends nothing more and says what was created, the batches already sent included), at most
//      IMPORT_REQUESTS_IN_FLIGHT requests at once and never more than IMPORT_WINDOW ahead of the
//      resources the agents have brought online;
//   4. wait until every created resource is online (or failed, or offline as defined), with progress.
// --json: the same facts as JSON lines on stdout ({ event: 'invalid' | 'progress' | 'summary' }).
import { open } from 'node:fs/promises';
import type { AgentClient } from '../../../api/client';
import type { ResourceState } from '../../../../preload/contract/domain';
import { MAX_CLIENT_MESSAGE_BYTES, MAX_IMPORT_BATCH_ROWS, type CommandResults } from '../../../../preload/contract/protocol';
import type { ResourceSpec } from '../../../cluster/model';
import { csvColumnOf, formatTable, MAX_IMPORT_BYTES, readResourceTable, type RowIssue, type TableFormat } from '../../../cluster/resource-table';
import { replaceFileAtomically } from '../../../fs/atomic-write';
import { EXIT } from '../../exit-codes';
import { ProgressReporter, ratePerSec } from '../../progress';
import type { ClusterIo } from './io';

/** A batch's JSON stays this far below the message limit (the request's id, type and framing). */
const BATCH_BYTES = MAX_CLIENT_MESSAGE_BYTES - 4 * 1024;
/** Waiting for the created resources ends when none has settled for this long. */
const STALL_MS = 30_000;
/** A batch may wait for the agent's view, behind other imports: more than the client's usual 15 s. */
const BATCH_TIMEOUT_MS = 60_000;

/**
 * The most resources created and not yet settled: the CLI sends the next batch only below it, so an
 * import never runs far ahead of the agents. 10,000 sent at once, before the agents claimed in batches,
 * had every node of the 2-core lab starting thousands of claims together: event-loop stalls of 1-2 s,
 * late keepalives, every node fenced (test/bench/import.bench.ts). With batched claims 1,000 held the
 * CLI back (10,000 online in ~12 s median against ~10.7 s with 4,000, no revocation in either).
 */
export const IMPORT_WINDOW = 4_000;

/**
 * Import requests sent before the first of them is answered. The agent works them one at a time; sent one
 * by one, each waited for a few turns of the serving agent's busy loop and for its audit entry (behind
 * the claims' entries): 41 batches of 10,000 rows took 15-19 s, almost all of it in those waits.
 */
const IMPORT_REQUESTS_IN_FLIGHT = 4;

/**
 * What the import waits for, counted as the change stream arrives (each change costs O(1): a stream of
 * 30,000 changes for 10,000 resources must not be 30,000 passes over them).
 */
export class SettleTracker {
  private readonly states = new Map<string, ResourceState>();
  private readonly mine = new Map<string, ResourceSpec>();
  private readonly counted = new Map<string, { online: boolean; failed: boolean; settled: boolean }>();
  created = 0;
  online = 0;
  failed = 0;
  settled = 0;
  /** performance.now() of the last time `settled` changed. */
  lastChangeAt = performance.now();
  private waiter: (() => void) | null = null;

  /** A resource's state from the stream (undefined: removed). */
  state(name: string, state: ResourceState | undefined): void {
    if (state === undefined) this.states.delete(name);
    else this.states.set(name, state);
    if (this.mine.has(name)) this.recount(name);
  }

  /** A resource this import created. */
  add(spec: ResourceSpec): void {
    if (this.mine.has(spec.name)) return;
    this.mine.set(spec.name, spec);
    this.created++;
    this.recount(spec.name);
  }

  private recount(name: string): void {
    const spec = this.mine.get(name)!;
    const state = this.states.get(name);
    const now = { online: state === 'online', failed: state === 'failed', settled: state !== undefined && settledState(state, spec.enabled) };
    const before = this.counted.get(name) ?? { online: false, failed: false, settled: false };
    this.online += Number(now.online) - Number(before.online);
    this.failed += Number(now.failed) - Number(before.failed);
    if (now.settled !== before.settled) {
      this.settled += now.settled ? 1 : -1;
      this.lastChangeAt = performance.now();
    }
    this.counted.set(name, now);
    this.waiter?.();
  }

  /** Resolves once `done()` holds (checked at each change), or nothing settled for STALL_MS, or `gone()`. */
  until(done: () => boolean, gone: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        this.waiter = null;
        clearInterval(timer);
        resolve();
      };
      this.waiter = () => {
        if (done()) finish();
      };
      const timer = setInterval(() => {
        if (done() || gone() || performance.now() - this.lastChangeAt > STALL_MS) finish();
      }, 500);
    });
  }
}

export interface ImportOptions {
  file: string;
  format: TableFormat;
  skipInvalid: boolean;
  wait: boolean;
  json: boolean;
}

class ImportFileError extends Error {}

/** The file's text: at most MAX_IMPORT_BYTES (read through one descriptor: no race with a growing file), UTF-8. */
async function readImportFile(file: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new ImportFileError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ImportFileError(`${file}: not a regular file`);
    if (info.size > MAX_IMPORT_BYTES) throw new ImportFileError(`${file}: larger than ${MAX_IMPORT_BYTES / (1024 * 1024)} MiB (${info.size} bytes); split it`);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(1024 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > MAX_IMPORT_BYTES) throw new ImportFileError(`${file}: larger than ${MAX_IMPORT_BYTES / (1024 * 1024)} MiB; split it`);
    }
    const buffer = Buffer.concat(chunks, length);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
    } catch {
      throw new ImportFileError(`${file}: not UTF-8 text`);
    }
  } finally {
    await handle.close();
  }
}

/** The good rows in requests that each fit one API message. */
export function importBatches(specs: readonly ResourceSpec[]): ResourceSpec[][] {
  const batches: ResourceSpec[][] = [];
  let batch: ResourceSpec[] = [];
  let bytes = 64;
  for (const spec of specs) {
    const size = Buffer.byteLength(JSON.stringify(spec)) + 1;
    if (batch.length > 0 && (bytes + size > BATCH_BYTES || batch.length >= MAX_IMPORT_BATCH_ROWS)) {
      batches.push(batch);
      batch = [];
      bytes = 64;
    }
    batch.push(spec);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function issueLine(file: string, issue: RowIssue): string {
  return `${file}:${issue.line}: ${issue.field === '' ? '' : `${issue.field}: `}${issue.message}`;
}

/** Settled: what the import waits for (online, failed; offline for a resource defined disabled). */
function settledState(state: ResourceState, enabled: boolean): boolean {
  return enabled ? state === 'online' || state === 'failed' : state === 'offline';
}

export async function importResources(client: AgentClient, options: ImportOptions, io: ClusterIo): Promise<number> {
  const { file, json } = options;
  const now = (): number => performance.now();
  const emit = (record: Record<string, unknown>): void => io.stdout(JSON.stringify(record));
  let text: string;
  try {
    text = await readImportFile(file);
  } catch (error) {
    if (!(error instanceof ImportFileError)) throw error;
    if (json) emit({ error: { code: 'import-file', message: error.message } });
    io.stderr(`ipfo: ${error.message}`);
    return EXIT.badInput;
  }

  // The cluster's state as the rows are checked, and every change from then on (the online count).
  const tracker = new SettleTracker();
  let snapshotResolve: (value: CommandResults['snapshot']['snapshot']) => void = () => undefined;
  const firstSnapshot = new Promise<CommandResults['snapshot']['snapshot']>((resolve) => {
    snapshotResolve = resolve;
  });
  await client.subscribe(
    (push) => {
      for (const resource of push.snapshot.resources) tracker.state(resource.name, resource.status.state);
      snapshotResolve(push.snapshot);
    },
    (push) => {
      const change = push.change;
      if (change.kind === 'resource') tracker.state(change.resource.name, change.resource.status.state);
      else if (change.kind === 'resource-removed') tracker.state(change.name, undefined);
    },
  );
  const snapshot = await firstSnapshot;

  const startedAt = now();
  const checked = readResourceTable(text, options.format, { nodes: snapshot.nodes.map((node) => node.name), existing: snapshot.resources });
  const rowCount = checked.valid.length + checked.badRows;
  for (const issue of checked.issues) {
    if (json) emit({ event: 'invalid', file, line: issue.line, field: issue.field, message: issue.message });
    else io.stderr(issueLine(file, issue));
  }
  if (checked.badRows > 0 && !options.skipInvalid) {
    const line = `${checked.badRows} of ${rowCount} rows ${checked.badRows === 1 ? 'is' : 'are'} bad: nothing was created (fix them, or --skip-invalid to create the ${checked.valid.length} good ones)`;
    if (json) emit({ event: 'summary', file, rows: rowCount, bad: checked.badRows, created: 0, online: 0, failed: 0, createMs: 0, onlineMs: null });
    io.stderr(`ipfo: ${line}`);
    return EXIT.badInput;
  }

  // Create, batch by batch.
  const specs = checked.valid.map((row) => row.spec);
  const lineOf = new Map(checked.valid.map((row) => [row.spec.name, row.line]));
  const sink = json ? undefined : io.progress;
  const creating = sink === undefined ? null : new ProgressReporter(sink, 'created', specs.length, now);
  let stopped: string[] | null = null;
  let lastJsonProgress = -Infinity;
  const jsonProgress = (phase: string, done: number, total: number, since: number, force = false): void => {
    if (!json || (!force && now() - lastJsonProgress < 1_000)) return;
    lastJsonProgress = now();
    emit({ event: 'progress', phase, done, total, ratePerSec: Math.round(ratePerSec(done, now() - since)) });
  };
  const specByName = new Map(specs.map((spec) => [spec.name, spec]));
  // Up to IMPORT_REQUESTS_IN_FLIGHT requests out, their replies taken in the order sent.
  const inFlight: Array<{ batch: ResourceSpec[]; reply: Promise<CommandResults['resource.import']> }> = [];
  let rowsInFlight = 0;
  let refusedRows = 0;
  const takeOldestReply = async (): Promise<void> => {
    const { batch, reply } = inFlight.shift()!;
    const result = await reply;
    rowsInFlight -= batch.length;
    for (const name of result.created) {
      const spec = specByName.get(name);
      if (spec !== undefined) tracker.add(spec);
    }
    // Rows good here but refused by the agent: the cluster changed since they were checked.
    const refused = [
      ...result.invalid.map((issue) => ({ line: lineOf.get(batch[issue.index]?.name ?? '') ?? 0, field: options.format === 'csv' ? csvColumnOf(issue.field) : issue.field, message: issue.message })),
      ...result.collided.map((row) => ({ line: lineOf.get(row.name) ?? 0, field: 'name', message: `a resource named "${row.name}" was created meanwhile; not overwritten` })),
    ];
    for (const issue of refused) {
      if (json) emit({ event: 'invalid', file, line: issue.line, field: issue.field, message: issue.message });
      else io.stderr(issueLine(file, issue));
    }
    if (refused.length > 0 && !options.skipInvalid) refusedRows += refused.length;
    creating?.update(tracker.created);
    jsonProgress('create', tracker.created, specs.length, startedAt);
  };
  for (const batch of importBatches(specs)) {
    while (inFlight.length >= IMPORT_REQUESTS_IN_FLIGHT && refusedRows === 0) await takeOldestReply();
    // Never far ahead of the agents (IMPORT_WINDOW): they bring each resource online while we send. Rows
    // in flight count as sent; their replies are taken first, since only created rows can settle.
    const overWindow = (): boolean => tracker.created + rowsInFlight - tracker.settled + batch.length > IMPORT_WINDOW;
    while (overWindow() && inFlight.length > 0 && refusedRows === 0) await takeOldestReply();
    if (refusedRows > 0) break;
    await tracker.until(() => !overWindow(), () => client.closed);
    const reply = client.request('resource.import', { rows: batch, skipInvalid: options.skipInvalid }, BATCH_TIMEOUT_MS);
    reply.catch(() => undefined); // awaited in order by takeOldestReply; a later one failing first must not go unhandled
    inFlight.push({ batch, reply });
    rowsInFlight += batch.length;
  }
  // A refusal stops the sending; the batches already sent are still counted (and reported).
  while (inFlight.length > 0) await takeOldestReply();
  if (refusedRows > 0) {
    stopped = [`the cluster changed during the import: the agent refused ${refusedRows} ${refusedRows === 1 ? 'row' : 'rows'} (above); ${tracker.created} of ${specs.length} resources were created before it stopped`];
  }
  creating?.end(tracker.created);
  const createMs = now() - startedAt;
  jsonProgress('create', tracker.created, specs.length, startedAt, true);

  // Wait until they settle.
  let onlineMs: number | null = null;
  if (options.wait && tracker.created > 0) {
    const waiting = sink === undefined ? null : new ProgressReporter(sink, 'settled', tracker.created, now);
    await tracker.until(() => {
      waiting?.update(tracker.settled);
      jsonProgress('settle', tracker.settled, tracker.created, startedAt);
      return tracker.settled >= tracker.created;
    }, () => client.closed);
    waiting?.end(tracker.settled);
    if (tracker.settled >= tracker.created) onlineMs = now() - startedAt;
  }
  const counts = { online: tracker.online, failed: tracker.failed, settled: tracker.settled, created: tracker.created };

  // The summary.
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const skipped = options.skipInvalid ? checked.badRows : 0;
  if (json) {
    emit({ event: 'summary', file, rows: rowCount, bad: checked.badRows, skipped, created: counts.created, online: counts.online, failed: counts.failed, settled: counts.settled, createMs: Math.round(createMs), onlineMs: onlineMs === null ? null : Math.round(onlineMs) });
  } else {
    const parts = [`${counts.created} of ${rowCount} resources created in ${seconds(createMs)} (${Math.round(ratePerSec(counts.created, createMs))}/s)`];
    if (skipped > 0) parts.push(`${skipped} bad ${skipped === 1 ? 'row' : 'rows'} skipped`);
    if (options.wait && counts.created > 0) {
      parts.push(onlineMs !== null ? `all settled after ${seconds(onlineMs)}: ${counts.online} online${counts.failed > 0 ? `, ${counts.failed} failed` : ''}` : `${counts.online} online, ${counts.failed} failed, ${counts.created - counts.settled} still coming up (nothing settled for ${STALL_MS / 1000} s)`);
    }
    io.stdout(parts.join('; '));
  }
  if (stopped !== null) {
    for (const line of stopped) io.stderr(`ipfo: ${line}`);
    return EXIT.badInput;
  }
  return counts.failed > 0 ? EXIT.runtime : EXIT.ok;
}

export async function exportResources(client: AgentClient, options: { format: TableFormat; output: string | null; json: boolean }, io: ClusterIo): Promise<number> {
  const { specs } = await client.request('resource.export', {});
  const text = formatTable(specs, options.format);
  if (options.output === null) {
    if (io.stdoutText) await io.stdoutText(text);
    else for (const line of text.replace(/\n$/, '').split('\n')) io.stdout(line);
    return EXIT.ok;
  }
  await replaceFileAtomically(options.output, text, { mode: 0o644 });
  if (options.json) io.stdout(JSON.stringify({ exported: specs.length, file: options.output, format: options.format }));
  else io.stdout(`${specs.length} resources exported to ${options.output} (${options.format})`);
  return EXIT.ok;
}
