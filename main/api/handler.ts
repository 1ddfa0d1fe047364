// The boundary between the agent API server and the cluster: the server authenticates, validates,
// dispatches and streams; every piece of cluster logic lives behind this interface (the agent,
// main/agent/, implements it). Everything crossing it is already validated against the contract
// in preload/contract/, so an implementation never sees a malformed command.
import type { ApiError, Change, CommandResults, ApiCommand, ApiCommandType } from '../../preload/contract/protocol';
import type { Snapshot } from '../../preload/contract/domain';

export type { ApiCommand, ApiCommandType } from '../../preload/contract/protocol';

/**
 * The cluster at one revision. The revision is the handler's own counter (not necessarily a store
 * revision: conflicts come from the ARP monitor, not the store); it grows with every change.
 */
export interface VersionedSnapshot {
  revision: number;
  snapshot: Snapshot;
}

/**
 * What a subscriber hears.
 * - change: applied on top of the previous state it gives the state at `revision`. Revisions
 *   never decrease; several changes made together may share one revision.
 * - reset: the handler cannot say what changed (e.g. its store watch was compacted away); every
 *   subscriber takes a new snapshot. Cheaper to get right than a diff, and rare.
 */
export type ApiUpdate = { type: 'change'; revision: number; change: Change } | { type: 'reset'; reason: string };

export type UpdateListener = (update: ApiUpdate) => void;

/** A command's result per its type; the server checks it against the contract before sending. */
export type ApiResult = CommandResults[ApiCommandType];

/**
 * The handler's answer. An expected failure (unknown resource, cluster rule broken, move aborted)
 * is `{ ok: false, error }` with a message fit for an operator; `error.field`/`issues` name the
 * argument as the request spells it ("spec.ip"). A thrown exception is a bug: the client gets
 * 'internal' and no detail.
 */
export type CommandResult = { ok: true; result: ApiResult } | { ok: false; error: ApiError };

export interface ApiHandler {
  /** The whole cluster now, with the revision it reflects. */
  snapshot(): Promise<VersionedSnapshot>;
  /**
   * Registers a listener for every update after this call, in revision order, synchronously or not.
   * The server subscribes BEFORE taking the snapshot and drops changes at or below the snapshot's
   * revision, so a change can never fall between the two. Returns the unsubscribe function.
   */
  subscribe(listener: UpdateListener): () => void;
  /**
   * Carries out one command for `actor` (the authenticated session, "cli:alice@127.0.0.1"), which
   * the audit log records. Read-only commands (probe, events.query) get an actor too: a probe
   * sends ARP frames on a LAN and who caused them is worth knowing.
   */
  execute(command: ApiCommand, actor: string): Promise<CommandResult>;
}
