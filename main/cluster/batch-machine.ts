// The batch move as a pure machine: many addresses between the same two nodes (a drain, a failback) in
// one intent, with the single move's phases (move-machine.ts) and its argument unchanged: the owner
// deregisters every address of the batch (one netlink batch) before it records "released" or says so by
// datagram, and the target registers them (one netlink batch) only after reading that. One holder at a
// time, for each address, by construction. What the batch adds is only bookkeeping: the target leaves out
// (`excluded`) the addresses its probe found answered by another station, the owner keeps those, and
// every other address of the batch changes hands together.
import type { NodeName, ResourceName } from './model';
import { MOVE_TIMEOUT_MS, movingOf, type BatchExclusion, type BatchMove, type HandoffNotify, type PreparedBatch, type ReleasedBatch, type RequestedBatch } from './intents';
import type { MoveFacts, ProbeHeard, ReleaseNotice, TakeOutcome } from './move-machine';

/**
 * What a node knows about a batch's surroundings when it looks at it: a single move's facts (busy and
 * handedOff for the batch as a whole), no owner key (the target checked each when it probed), and
 * whether the owner is alive (a target waiting for a dead owner ends the batch).
 */
export interface BatchFacts extends Pick<MoveFacts, 'me' | 'now' | 'busy' | 'handedOff' | 'targetAlive' | 'stopping'> {
  ownerAlive: boolean;
}

export type BatchEffect =
  /** Target: the trusted probe of every address (only the owner's MAC may answer), then afterBatchProbe. */
  | { type: 'probe'; batch: RequestedBatch }
  /** Owner: deregister every moving address in one batch, send the datagram, record `released`. */
  | { type: 'let-go'; batch: PreparedBatch; released: Omit<ReleasedBatch, 'releasedAt'> }
  /** Target: register and announce every moving address at once, take their keys, then afterBatchTake. */
  | { type: 'take'; batch: ReleasedBatch }
  /** Write this phase of the batch (a compare-and-swap on the record read); audit the exclusions. */
  | { type: 'write'; batch: BatchMove; excluded: BatchExclusion[] }
  /** End the batch: audit every failure, delete the record. */
  | { type: 'end'; batch: BatchMove; failures: BatchExclusion[] }
  /** Owner: the target never took the addresses: end the batch and serve them again. */
  | { type: 'abort'; batch: ReleasedBatch; failure: string };

export function batchExpired(batch: BatchMove, now: number): boolean {
  return now - batch.createdAt > MOVE_TIMEOUT_MS;
}

/** Every moving resource of the batch failed with the same detail. */
function allFailed(batch: BatchMove, detail: string): BatchExclusion[] {
  return movingOf(batch).map((resource) => ({ resource, detail }));
}

/** What this node does about an open batch now (null: nothing, it waits). Called on every reconcile. */
export function nextBatchStep(batch: BatchMove, facts: BatchFacts): BatchEffect | null {
  if (facts.busy) return null;
  if (batch.toNode === facts.me) return targetStep(batch, facts);
  if (batch.fromNode === facts.me) return ownerStep(batch, facts);
  return null;
}

function targetStep(batch: BatchMove, facts: BatchFacts): BatchEffect | null {
  if (batchExpired(batch, facts.now)) return { type: 'end', batch, failures: batch.phase === 'released' ? [] : allFailed(batch, 'timed out') };
  switch (batch.phase) {
    case 'requested':
      if (facts.stopping) return { type: 'end', batch, failures: allFailed(batch, `${facts.me} is stopping`) };
      if (!facts.ownerAlive) return { type: 'end', batch, failures: allFailed(batch, `${batch.fromNode} left the cluster`) };
      return { type: 'probe', batch };
    case 'prepared':
      // The owner's turn; an owner that died meanwhile never will take it.
      return facts.ownerAlive ? null : { type: 'end', batch, failures: allFailed(batch, `${batch.fromNode} left the cluster`) };
    case 'released':
      return { type: 'take', batch };
  }
}

function ownerStep(batch: BatchMove, facts: BatchFacts): BatchEffect | null {
  switch (batch.phase) {
    case 'requested':
      // Asked of a node that left before it looked: nobody will answer; the owner asks again elsewhere.
      if (!facts.targetAlive || batchExpired(batch, facts.now)) return { type: 'end', batch, failures: [] };
      return null;
    case 'prepared':
      if (facts.handedOff) return null;
      if (!facts.targetAlive) return { type: 'end', batch, failures: [] };
      return { type: 'let-go', batch, released: { ...batchBase(batch), phase: 'released', excluded: batch.excluded } };
    case 'released':
      if (batchExpired(batch, facts.now) || !facts.targetAlive) return { type: 'abort', batch, failure: `${batch.toNode} did not take the address; it stays on ${facts.me}` };
      return null;
  }
}

/**
 * Target, after probing every address: those answered by anyone but the owner, or whose probe was cut
 * short, are left out (the owner keeps them); the others are `prepared` with where to send the datagram.
 * `unprobed`: addresses this node could not probe at all (no spec, no interface), with the reason.
 */
export function afterBatchProbe(batch: RequestedBatch, heard: ReadonlyMap<ResourceName, ProbeHeard>, unprobed: readonly BatchExclusion[], notify: HandoffNotify | null, groupOf: (resource: ResourceName) => string | undefined = () => undefined): BatchEffect {
  const stays = `stays on ${batch.fromNode}`;
  const excluded: BatchExclusion[] = [...unprobed];
  const done = new Set(unprobed.map((e) => e.resource));
  for (const resource of batch.resources) {
    if (done.has(resource)) continue;
    const result = heard.get(resource);
    if (result === undefined) excluded.push({ resource, detail: `not probed; ${stays}` });
    else if (result.kind === 'answered') excluded.push({ resource, detail: `conflict: ${result.ip} answered by ${result.macs.join(', ')}; ${stays}` });
    else if (result.kind === 'interrupted') excluded.push({ resource, detail: `interface ${result.ifname} on ${batch.toNode} failed during the probe; ${stays}` });
  }
  // A group is never split (groups.ts): a member that cannot move keeps its mates in the batch with it.
  const held = new Map<string, ResourceName>();
  for (const { resource } of excluded) {
    const group = groupOf(resource);
    if (group !== undefined && !held.has(group)) held.set(group, resource);
  }
  if (held.size > 0) {
    const out = new Set(excluded.map((e) => e.resource));
    for (const resource of batch.resources) {
      const group = groupOf(resource);
      if (group === undefined || out.has(resource) || !held.has(group)) continue;
      excluded.push({ resource, detail: `its group ${group} stays together (${held.get(group)!} cannot move); ${stays}` });
    }
  }
  if (excluded.length === batch.resources.length) return { type: 'end', batch, failures: excluded };
  return { type: 'write', batch: { ...batchBase(batch), phase: 'prepared', notify, excluded }, excluded };
}

/** Target: the owner's datagram, for a batch this node prepared with this nonce: the record the store would bring. */
export function onBatchReleaseNotice(prepared: PreparedBatch | undefined, notice: ReleaseNotice): ReleasedBatch | null {
  if (!prepared || prepared.id !== notice.id || prepared.notify === null || prepared.notify.nonce !== notice.nonce) return null;
  return { ...batchBase(prepared), phase: 'released', excluded: prepared.excluded, releasedAt: notice.releasedAt };
}

/** What the target does after registering, announcing and transferring the keys of a batch. */
export interface BatchTakeResult {
  /** Held here but the key went elsewhere meanwhile: drop the local claim. */
  drop: ResourceName[];
  /** Key taken but the address could not be held: let the key go. */
  releaseKeys: ResourceName[];
  /** Online here: status and audit, with the handoff time. */
  online: Array<{ resource: ResourceName; mac: string; handoffMs: number }>;
  /** Audited as failed moves. */
  failures: BatchExclusion[];
}

/** Target, after the take-over: per address, as afterTake does for one (move-machine.ts). */
export function afterBatchTake(batch: ReleasedBatch, outcomes: ReadonlyMap<ResourceName, TakeOutcome>, now: number): BatchTakeResult {
  const result: BatchTakeResult = { drop: [], releaseKeys: [], online: [], failures: [] };
  const handoffMs = Math.round(Math.max(0, now - batch.releasedAt) * 100) / 100;
  for (const resource of movingOf(batch)) {
    const outcome = outcomes.get(resource);
    if (outcome === undefined) {
      result.failures.push({ resource, detail: 'not taken (internal: no outcome)' });
      continue;
    }
    switch (outcome.kind) {
      case 'transfer-lost':
        result.drop.push(resource);
        result.failures.push({ resource, detail: `ownership changed meanwhile (now ${outcome.current ?? 'nobody'})` });
        break;
      case 'not-held':
        result.releaseKeys.push(resource);
        result.failures.push({ resource, detail: outcome.reason });
        break;
      case 'held':
        result.online.push({ resource, mac: outcome.mac, handoffMs });
        break;
    }
  }
  return result;
}

/** The fields every phase shares: a phase change starts from these, so no field of the old phase lingers. */
function batchBase(batch: BatchMove): Omit<RequestedBatch, 'phase'> {
  return { id: batch.id, kind: 'batch', resources: batch.resources, fromNode: batch.fromNode, toNode: batch.toNode, actor: batch.actor, createdAt: batch.createdAt };
}

/** A new batch (its id names the pair, so a deleted record's change says whose it was). */
export function requestBatch(resources: readonly ResourceName[], from: NodeName, to: NodeName, actor: string, now: number, unique: string): RequestedBatch {
  return { id: `batch:${from}:${to}:${unique}`, kind: 'batch', phase: 'requested', resources: [...resources], fromNode: from, toNode: to, actor, createdAt: now };
}
