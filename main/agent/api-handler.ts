// The agent's side of the agent API (main/api/handler.ts): the console's and the CLI's commands become
// store writes (specs, node states, move intents), and the store's changes become the contract's change
// stream. The server in main/api has already authenticated and validated every command.
import { performance } from 'node:perf_hooks';
import type { ActionResult, ApiError, Change, ApiCommand, CommandResults, ProbeResult, EventsFilter } from '../../preload/contract/protocol';
import { BEST_NODE, auditEntryMatches } from '../../preload/contract/protocol';
import { MAX_SNAPSHOT_REJECTED, SNAPSHOT_EVENTS_LIMIT, type AuditEntry as ContractAuditEntry, type ConflictRecord, type FailureReason, type NodeRecord, type RejectedStoreRecord, type ResourceView } from '../../preload/contract/domain';
import type { ApiHandler, CommandResult, UpdateListener, VersionedSnapshot } from '../api/handler';
import { bestNode, isAllowed, isBanned, passesChecks } from '../cluster/placement';
import { planWhatIf, type WhatIf } from '../cluster/what-if';
import { healthKey } from '../../preload/contract/health';
import { describeFailure } from '../../preload/contract/failure-text';
import { validateResourceSpec, validateNodeName } from '../cluster/validate';
import { checkTable } from '../cluster/resource-table';
import type { ResourceSpec, ResourceStatus } from '../cluster/model';
import type { AuditEntry, AuditRecord, ClusterStore, StoreChange } from '../store/store';
import { isStoreError } from '../store/store';
import { PROBE_TIMEOUT_MS } from '../cluster/intents';
import { ANNOUNCE_TIMEOUT_MS } from './announcer';
import { CLEANUP_TIMEOUT_MS } from './local-failures';
import { plural } from '../../preload/contract/plural';
import type { Agent } from './agent';
import type { ClusterView } from './cluster-view';
import { UserCommands } from './user-commands';
import { GroupCommands } from './group-commands';
import { HookCommands } from './hook-commands';
import { deliver } from '../hooks/deliver';

const WAIT_MS = 15_000;
/** A group's members change together, through the group commands (group-commands.ts). */
const GROUP_BY_COMMAND = 'a resource joins or leaves a group through the group commands (ipfo group add, ipfo group remove), which change every member at once';

const offlineStatus = (name: string): ResourceStatus => ({ name, state: 'offline', owner: null, ownerMac: null, since: 0, failure: null, lastHandoffMs: null });

function toContractAudit(entry: AuditEntry): ContractAuditEntry {
  return { seq: entry.seq, at: entry.at, actor: entry.actor, action: entry.action, target: entry.target, outcome: entry.outcome, detail: entry.detail, durationMs: null, handoffMs: entry.handoffMs };
}

/** One line for the audit log: what the failure was that a cleanup forgot. */
function failureText(reason: FailureReason): string {
  switch (reason.kind) {
    case 'conflict': return `conflict with ${reason.mac}`;
    case 'no-eligible-node':
    case 'no-healthy-node':
    case 'banned-everywhere':
    case 'failover-limit':
      return describeFailure(reason);
    default: return `${reason.kind} on ${reason.node}: ${reason.detail}`;
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function failure(code: ApiError['code'], message: string, field?: string): CommandResult {
  return { ok: false, error: field === undefined ? { code, message } : { code, message, field } };
}

export class AgentApiHandler implements ApiHandler {
  private revision = 0;
  private readonly listeners = new Set<UpdateListener>();
  private readonly conflicts = new Map<string, ConflictRecord>();
  /** The rejected records consoles know of ("collection/name" to key): a later change of one of those keys clears it. */
  private shownRejected: Map<string, string>;
  private conflictsLoaded = false;
  /** When this agent saw each node's membership end: its "last seen" once it is down. */
  private readonly lastAlive = new Map<string, number>();

  private readonly users: UserCommands;
  private readonly groups: GroupCommands;
  private readonly hooks: HookCommands;

  constructor(private readonly agent: Agent, private readonly store: ClusterStore) {
    this.users = new UserCommands(store, (record) => this.audit(record));
    this.hooks = new HookCommands(agent.node, store, (record) => this.audit(record), deliver);
    this.groups = new GroupCommands({
      view: () => this.view,
      store,
      audit: (record) => this.audit(record),
      waitFor: (done, timeoutMs) => this.waitFor(done, timeoutMs),
      requestMove: (resource, to, actor) => this.agent.requestMove(resource, to, actor),
    });
    agent.on('change', (change) => this.onStoreChange(change));
    agent.on('reset', (reason) => this.onReset(reason));
    this.shownRejected = this.rejectedKeys();
  }

  private rejectedKeys(): Map<string, string> {
    return new Map([...this.view.rejected].map(([id, record]) => [id, record.key]));
  }

  /** The record kept for the conflict, or null when an entry already kept is newer. */
  private foldConflict(conflict: ConflictRecord): ConflictRecord | null {
    const key = `${conflict.node}|${conflict.address}|${conflict.theirMac}`;
    const previous = this.conflicts.get(key);
    if (previous && previous.lastSeen > conflict.lastSeen) return null;
    // Each entry carries its episode's totals so far: the newest one stands for the episode.
    this.conflicts.set(key, conflict);
    return conflict;
  }

  /**
   * Conflicts are recorded in the cluster's audit log by whichever agent saw them (main/agent/arp-watch.ts),
   * so a console on any agent sees all of them; the log's retention bounds how far back they go.
   */
  private async loadConflicts(): Promise<void> {
    if (this.conflictsLoaded) return;
    const entries = await this.store.audit();
    for (const entry of entries) if (entry.arp?.kind === 'conflict') this.foldConflict(entry.arp.conflict);
    this.conflictsLoaded = true;
  }

  private get view(): ClusterView {
    return this.agent.clusterView;
  }

  // ---- reading -----------------------------------------------------------------------------------

  private nodeRecords(): NodeRecord[] {
    return [...this.view.nodes.values()].map((node) => this.nodeRecord(node.name)).filter((n): n is NodeRecord => n !== null);
  }

  private nodeRecord(name: string): NodeRecord | null {
    const node = this.view.nodes.get(name);
    if (!node) return null;
    const alive = this.view.isAlive(name);
    // A live membership is a heartbeat within the lease TTL: seen now. A dead one: when its lease ended.
    const lastSeen = alive ? Date.now() : Math.max(node.lastSeen, this.lastAlive.get(name) ?? 0);
    const maintenance = node.maintenanceUntil === undefined ? {} : { maintenanceUntil: node.maintenanceUntil };
    const record = alive ? this.view.health.get(name) : undefined;
    const health = record?.results;
    const bans = record?.bans !== undefined && record.bans.length > 0 ? { bans: record.bans } : {};
    return { name: node.name, state: alive ? node.state : 'down', agentVersion: node.agentVersion, lastSeen, macs: node.macs, ...maintenance, ...(health === undefined ? {} : { health }), ...bans };
  }

  private resourceView(name: string): ResourceView | null {
    const spec = this.view.resources.get(name);
    if (!spec) return null;
    const status = this.view.statuses.get(name) ?? offlineStatus(name);
    // A status says 'online' on a node; if that node no longer owns the key it is stale until someone writes anew.
    const owner = this.view.ownerOf(name);
    const shown: ResourceStatus = status.state === 'online' && owner !== status.owner ? { ...status, state: owner === null ? 'offline' : 'online-pending' } : status;
    return { ...spec, status: shown };
  }

  async snapshot(): Promise<VersionedSnapshot> {
    await this.loadConflicts();
    const events = (await this.store.audit({ limit: SNAPSHOT_EVENTS_LIMIT })).map(toContractAudit);
    return {
      revision: this.revision,
      snapshot: {
        nodes: this.nodeRecords(),
        resources: [...this.view.resources.keys()].map((name) => this.resourceView(name)).filter((r): r is ResourceView => r !== null),
        conflicts: [...this.conflicts.values()],
        events,
        rejected: this.rejectedRecords(),
      },
    };
  }

  /** Store records the agent left out (the store's word, through the view), the first MAX_SNAPSHOT_REJECTED. */
  private rejectedRecords(): RejectedStoreRecord[] {
    return [...this.view.rejected.values()].slice(0, MAX_SNAPSHOT_REJECTED).map(({ collection, name, key, reason, revision }) => ({ collection, name, key, reason, revision }));
  }

  subscribe(listener: UpdateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private push(change: Change): void {
    this.revision++;
    for (const listener of this.listeners) listener({ type: 'change', revision: this.revision, change });
  }

  /** The agent replaced its view wholesale (a rejoin, a watch the store could not continue): subscribers start over. */
  private onReset(reason: string): void {
    this.shownRejected = this.rejectedKeys();
    this.revision++;
    for (const listener of this.listeners) listener({ type: 'reset', reason });
  }

  private onStoreChange(change: StoreChange): void {
    // A rejected record is said once; a later change of its key clears it (the view did the same).
    const id = `${change.collection}/${change.name}`;
    const rejected = change.kind === 'delete' ? change.rejected : undefined;
    const shownKey = this.shownRejected.get(id);
    if (shownKey !== undefined && rejected === undefined) {
      this.shownRejected.delete(id);
      this.push({ kind: 'rejected-cleared', key: shownKey });
    }
    if (rejected !== undefined) {
      this.shownRejected.set(id, rejected.key);
      const { collection, name, key, reason, revision } = rejected;
      this.push({ kind: 'rejected', record: { collection, name, key, reason, revision } });
    }
    switch (change.collection) {
      case 'nodes':
      case 'members':
      case 'health': {
        if (change.collection === 'members' && change.kind === 'delete') this.lastAlive.set(change.name, Date.now());
        const record = this.nodeRecord(change.name);
        if (record) this.push({ kind: 'node', node: record });
        else if (change.collection === 'nodes') this.push({ kind: 'node-removed', name: change.name });
        break;
      }
      case 'resources':
      case 'status':
      case 'owners': {
        const view = this.resourceView(change.name);
        if (view) this.push({ kind: 'resource', resource: view });
        else if (change.collection === 'resources') this.push({ kind: 'resource-removed', name: change.name });
        break;
      }
      case 'audit': {
        if (change.kind !== 'put') break;
        this.push({ kind: 'audit', entry: toContractAudit(change.value) });
        const conflict = change.value.arp?.kind === 'conflict' ? this.foldConflict(change.value.arp.conflict) : null;
        if (conflict) this.push({ kind: 'conflict', conflict });
        break;
      }
      // Users are not part of the console's Snapshot: a user's record (its verifier) stays in the agent.
      case 'intents':
      case 'bindings':
      case 'users':
      case 'hooks':
      case 'hookstate':
      case 'hooksender':
        break;
    }
  }

  // ---- commands ----------------------------------------------------------------------------------

  async execute(command: ApiCommand, actor: string): Promise<CommandResult> {
    const started = performance.now();
    try {
      const result = await this.dispatch(command, actor);
      if (result.ok && 'durationMs' in result.result && result.result.durationMs === null) {
        return { ok: true, result: { ...result.result, durationMs: Math.round((performance.now() - started) * 100) / 100 } };
      }
      return result;
    } catch (error) {
      if (isStoreError(error, 'conflict')) return failure('conflict', `the cluster changed meanwhile: ${error.message}; try again`);
      if (isStoreError(error, 'unavailable')) return failure('unavailable', `the cluster store cannot be reached: ${error.message}`);
      if (isStoreError(error, 'refused')) return failure('unavailable', `the cluster store refuses this agent: ${error.message}`);
      throw error;
    }
  }

  private async dispatch(command: ApiCommand, actor: string): Promise<CommandResult> {
    switch (command.type) {
      case 'resource.add': return this.add(command.spec, actor);
      case 'resource.edit': return this.edit(command.name, command.patch, actor);
      case 'resource.remove': return this.remove(command.name, actor);
      case 'resource.move': return this.move(command.name, command.target, actor);
      case 'resource.online': return this.setEnabled(command.name, true, actor);
      case 'resource.offline': return this.setEnabled(command.name, false, actor);
      case 'resource.cleanup': return this.cleanup(command.name, command.node, actor);
      case 'resource.announce': return this.announce(command.name, actor);
      case 'group.add': return this.groups.add(command.name, command.resources, command.apartFrom, actor);
      case 'group.remove': return this.groups.remove(command.name, command.resources, actor);
      case 'group.move': return this.groups.move(command.name, command.target, actor);
      case 'node.pause': return this.setNodeState(command.name, 'paused', actor);
      case 'node.resume': return this.setNodeState(command.name, 'up', actor);
      case 'node.maintenance': return this.setNodeMaintenance(command.name, command.until, actor);
      case 'probe': return this.probe(command.node, command.ip, actor);
      case 'events.query': return this.events(command.limit ?? 100, command.since, command.filter);
      case 'bindings.query': return { ok: true, result: { nodes: await this.store.bindings() } };
      case 'user.add': return this.users.add(command.name, command.role, actor);
      case 'user.list': return this.users.list();
      case 'user.remove': return this.users.remove(command.name, actor);
      case 'user.rotate': return this.users.rotate(command.name, actor);
      case 'hook.add': return this.hooks.add(command.hook, actor);
      case 'hook.list': return this.hooks.list();
      case 'hook.remove': return this.hooks.remove(command.name, actor);
      case 'hook.test': return this.hooks.test(command.name, actor);
      case 'resource.import': return this.importRows(command.rows, command.skipInvalid, actor);
      case 'resource.export': return this.exportSpecs();
      case 'plan': return this.plan(command.scenario);
    }
  }

  private async audit(record: Omit<AuditRecord, 'at'>): Promise<number> {
    return (await this.store.appendAudit({ at: Date.now(), ...record })).seq;
  }

  private action(fields: Partial<ActionResult> & Pick<ActionResult, 'outcome'>): CommandResult {
    return { ok: true, result: { detail: null, auditSeq: null, resource: null, node: null, handoffMs: null, durationMs: null, ...fields } };
  }

  private invalid(errors: Array<{ field: string; message: string }>, prefix: string): CommandResult {
    const issues = errors.map((e) => ({ field: e.field === '' ? prefix : `${prefix}.${e.field}`, message: e.message }));
    const first = issues[0]!;
    return { ok: false, error: { code: 'invalid', message: first.message, field: first.field, issues } };
  }

  /** Resolves true once `done()` holds (checked now and after each change), false after the timeout. */
  private waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (done()) return resolve(true);
      const timer = setTimeout(() => {
        this.agent.off('change', onChange);
        resolve(false);
      }, timeoutMs);
      const onChange = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.agent.off('change', onChange);
        resolve(true);
      };
      this.agent.on('change', onChange);
    });
  }

  /** Waits until the resource settles (online, offline or failed as asked), or the timeout. */
  private settle(name: string, done: (view: ResourceView | null) => boolean, timeoutMs = WAIT_MS): Promise<ResourceView | null | undefined> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const view = this.resourceView(name);
        if (!done(view)) return false;
        resolve(view);
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.agent.off('change', onChange);
        resolve(undefined);
      }, timeoutMs);
      const onChange = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.agent.off('change', onChange);
        }
      };
      this.agent.on('change', onChange);
    });
  }

  private async add(input: unknown, actor: string): Promise<CommandResult> {
    if (isPlainRecord(input) && (input.group != null || input.apartFrom != null)) return failure('invalid', GROUP_BY_COMMAND, input.group != null ? 'spec.group' : 'spec.apartFrom');
    const existing = [...this.view.resources.values()];
    const validation = validateResourceSpec(input, { nodes: [...this.view.nodes.keys()], existing });
    if (!validation.ok) return this.invalid(validation.errors, 'spec');
    const spec = validation.spec;
    await this.store.putResource(spec, 0);
    const auditSeq = await this.audit({ actor, action: 'resource.add', target: spec.name, outcome: 'ok', detail: `${spec.ip}/${spec.prefix}`, handoffMs: null });
    const settled = spec.enabled ? await this.settle(spec.name, (v) => v !== null && (v.status.state === 'online' || v.status.state === 'failed')) : this.resourceView(spec.name);
    return this.action({ outcome: settled === undefined ? 'accepted' : 'done', auditSeq, resource: this.resourceView(spec.name), detail: describeView(this.resourceView(spec.name)) });
  }

  private async edit(name: string, patch: Record<string, unknown>, actor: string): Promise<CommandResult> {
    const current = this.view.resources.get(name);
    if (!current) return failure('not-found', `no resource named "${name}"`, 'name');
    if (patch.group !== undefined || patch.apartFrom !== undefined) return failure('invalid', GROUP_BY_COMMAND, patch.group !== undefined ? 'patch.group' : 'patch.apartFrom');
    const merged = { ...current, ...patch };
    // A health patch names what changes (a new fall, the same checks): the rest of the current settings stay.
    if (isPlainRecord(patch.health) && current.health !== undefined) merged.health = { ...current.health, ...patch.health };
    const validation = validateResourceSpec(merged, { nodes: [...this.view.nodes.keys()], existing: [...this.view.resources.values()], editing: name });
    if (!validation.ok) return this.invalid(validation.errors, 'patch');
    const spec = validation.spec;
    if (spec.name !== name) {
      return failure('invalid', 'a resource cannot be renamed; remove it and add it under the new name', 'patch.name');
    }
    // Written only over the version this edit was validated against: an edit from another console that
    // this agent has not seen yet makes the store refuse it ('conflict': try again), instead of losing one.
    await this.store.putResource(spec, this.view.resourceRevisions.get(name));
    const auditSeq = await this.audit({ actor, action: 'resource.edit', target: name, outcome: 'ok', detail: Object.keys(patch).join(', '), handoffMs: null });
    return this.action({ outcome: 'accepted', auditSeq, resource: this.resourceView(name) });
  }

  private async remove(name: string, actor: string): Promise<CommandResult> {
    if (!this.view.resources.has(name)) return failure('not-found', `no resource named "${name}"`, 'name');
    await this.store.deleteResource(name);
    const auditSeq = await this.audit({ actor, action: 'resource.remove', target: name, outcome: 'ok', detail: null, handoffMs: null });
    await this.settle(name, () => this.view.ownerOf(name) === null, 5000);
    return this.action({ outcome: 'done', auditSeq });
  }

  private async setEnabled(name: string, enabled: boolean, actor: string): Promise<CommandResult> {
    const spec = this.view.resources.get(name);
    if (!spec) return failure('not-found', `no resource named "${name}"`, 'name');
    const status = this.view.statuses.get(name);
    if (spec.enabled !== enabled) await this.store.putResource({ ...spec, enabled });
    // Bringing a failed resource online is the operator's word that the cause is gone: clear the failure.
    // Taking a failed resource offline is the operator acknowledging it: it shows offline, not failed.
    if (status?.state === 'failed') await this.store.putStatus({ ...status, state: 'offline', failure: null, since: Date.now() });
    const auditSeq = await this.audit({ actor, action: enabled ? 'resource.online' : 'resource.offline', target: name, outcome: 'ok', detail: null, handoffMs: null });
    const settled = await this.settle(name, (v) => v !== null && (enabled ? v.status.state === 'online' || (v.status.state === 'failed' && v.status.since > Date.now() - WAIT_MS) : v.status.state === 'offline' && this.view.ownerOf(name) === null));
    return this.action({ outcome: settled === undefined ? 'accepted' : 'done', auditSeq, resource: this.resourceView(name), detail: describeView(this.resourceView(name)) });
  }

  /**
   * Forgets a failure without changing what the operator asked for (online and offline clear it
   * too, but also set `enabled`): a failed resource goes offline with no failure, and placement, which
   * leaves failed resources alone, tries it again if it is enabled. Also lifts the bans and drops the
   * failover counts of the failure policy on every node that has some for it (or on `node` only): each
   * node keeps its own in its health record, so each is asked through a cleanup intent.
   */
  private async cleanup(name: string, node: string | undefined, actor: string): Promise<CommandResult> {
    if (!this.view.resources.has(name)) return failure('not-found', `no resource named "${name}"`, 'name');
    if (node !== undefined && !this.view.nodes.has(node)) return failure('not-found', `no node named "${node}"`, 'node');
    const status = this.view.statuses.get(name);
    const policyFailure = status?.failure?.kind === 'failover-limit';
    const clearStatus = node === undefined && (status?.state === 'failed' || policyFailure);
    const asked = [...this.view.health.values()]
      .filter((record) => (node === undefined || record.node === node) && ((record.bans ?? []).some((ban) => ban.resource === name) || (record.failovers ?? []).some((mark) => mark.resource === name)))
      .map((record) => record.node);
    // A node named by the operator is asked even when its record shows nothing (its retries are in its memory).
    if (node !== undefined && !asked.includes(node) && (node === this.agent.node || this.view.isAlive(node))) asked.push(node);
    if (!clearStatus && asked.length === 0) {
      const where = node === undefined ? 'no node is banned from it' : `${node} is not banned from it`;
      return this.action({ outcome: 'done', detail: `nothing to clean up: ${name} has not failed (${status?.state ?? 'offline'}) and ${where}`, resource: this.resourceView(name) });
    }
    const outcomes = await Promise.all(asked.map(async (on) => ({ on, outcome: await this.agent.cleanupOn(on, name, actor) })));
    const said: string[] = [];
    if (clearStatus && status !== undefined && status.failure !== null) said.push(`cleared: ${failureText(status.failure)}`);
    if (clearStatus && status !== undefined) {
      await this.store.putStatus(status.state === 'failed' ? { ...status, state: 'offline', failure: null, since: Date.now() } : { ...status, failure: null });
    }
    const unanswered: string[] = [];
    for (const { on, outcome } of outcomes) {
      if (!outcome.ok) unanswered.push(`${on}: ${'timedOut' in outcome ? `no answer within ${CLEANUP_TIMEOUT_MS / 1000} s` : outcome.message}`);
      else if (outcome.bans + outcome.failovers > 0) said.push(`${on}: ${outcome.bans > 0 ? 'ban lifted' : 'no ban'}, ${plural(outcome.failovers, 'failover mark')} dropped`);
    }
    const detail = [...said, ...unanswered.map((text) => `not cleaned on ${text}`)].join('; ') || 'nothing was left to clean';
    const auditSeq = await this.audit({ actor, action: 'resource.cleanup', target: name, outcome: unanswered.length > 0 ? 'failed' : 'ok', detail, handoffMs: null });
    if (unanswered.length > 0) return failure('unavailable', `${name}: ${detail}`, node === undefined ? 'name' : 'node');
    // Done once this agent's view shows the failure gone (the store's watch brings the write back).
    const settled = clearStatus ? await this.settle(name, (v) => v !== null && v.status.state !== 'failed', 5000) : null;
    return this.action({ outcome: settled === undefined ? 'accepted' : 'done', auditSeq, resource: this.resourceView(name), detail: `${name}: ${detail}; placement may try it again` });
  }

  /** Announce-now: the holder sends one more announcement (wherever this agent is); recorded in the audit log. */
  private async announce(name: string, actor: string): Promise<CommandResult> {
    const spec = this.view.resources.get(name);
    if (!spec) return failure('not-found', `no resource named "${name}"`, 'name');
    const status = this.view.statuses.get(name);
    const holder = this.view.ownerOf(name);
    if (status?.state !== 'online' || holder === null) {
      return failure('failed', `${name} is not online (${status?.state ?? 'offline'}): no node holds ${spec.ip} to announce it`, 'name');
    }
    if (holder !== this.agent.node && !this.view.isAlive(holder)) return failure('unavailable', `${holder}, which holds ${name}, is down: it cannot announce`, 'name');
    const started = performance.now();
    const outcome = await this.agent.announceOn(holder, name, actor);
    if ('timedOut' in outcome) return failure('unavailable', `${holder} did not announce ${name} within ${ANNOUNCE_TIMEOUT_MS / 1000} s`, 'name');
    if (!outcome.ok) return failure('failed', outcome.message, 'name');
    const detail = `${spec.ip} announced from ${holder} ${outcome.ifname} (${outcome.mac})`;
    const auditSeq = await this.audit({ actor, action: 'resource.announce', target: name, outcome: 'ok', detail, handoffMs: null });
    return this.action({ outcome: 'done', detail, auditSeq, resource: this.resourceView(name), durationMs: Math.round((performance.now() - started) * 100) / 100 });
  }

  /** `ipfo plan`: the agents' own planners on the cluster as this agent sees it, right after the event. */
  private plan(scenario: WhatIf): CommandResult {
    const view = this.view;
    const planned = planWhatIf({ specs: view.resources, owners: view.owners, statuses: view.statuses, nodes: view.nodeViews() }, scenario);
    if (!planned.ok) return failure(planned.field === 'node' ? 'not-found' : planned.message.includes('no health checks') ? 'invalid' : 'not-found', planned.message, `scenario.${planned.field}`);
    return { ok: true, result: planned.plan };
  }

  private async move(name: string, target: string, actor: string): Promise<CommandResult> {
    const spec = this.view.resources.get(name);
    if (!spec) return failure('not-found', `no resource named "${name}"`, 'name');
    // A group is never split (groups.ts): moving a member moves the group.
    if (spec.group !== undefined && spec.enabled && this.groups.activeMembers(spec.group).length > 1) return this.groups.move(spec.group, target, actor);
    const owner = this.view.ownerOf(name);
    const nodes = this.view.nodeViews();
    const to = target === BEST_NODE ? bestNode(spec, nodes, { exclude: owner === null ? [] : [owner] }) : target;
    if (to === null) {
      const exclude = owner === null ? [] : [owner];
      const unbanned = nodes.map((n) => ({ ...n, banned: undefined }));
      const why =
        bestNode({ ...spec, health: undefined }, nodes, { exclude }) !== null ? `no other live node passes the health checks of ${name}`
        : bestNode(spec, unbanned, { exclude }) !== null ? `every other live node that may hold ${name} is banned from it after failures there (ipfo resource cleanup ${name})`
        : `no other live node may hold ${name}`;
      return failure('conflict', why, 'target');
    }
    const node = nodes.find((n) => n.name === to);
    if (!node) return failure('not-found', `no node named "${to}"`, 'target');
    if (node.state !== 'up') return failure('conflict', `node ${to} is ${node.state}`, 'target');
    if (!isAllowed(spec, to)) return failure('invalid', `${to} is not a possible owner of ${name}`, 'target');
    // A banned target failed with this address and would fail again (failure policy).
    if (isBanned(spec, node)) {
      const ban = this.view.health.get(to)?.bans?.find((b) => b.resource === name);
      return failure('conflict', `${to} is banned from ${name} after failures there${ban === undefined ? '' : ` (${ban.reason})`}; ipfo resource cleanup ${name} --node ${to} lifts the ban`, 'target');
    }
    // An unhealthy target would hand the address straight on (or hold a service that is not there).
    if (!passesChecks(spec, node)) {
      const result = spec.health === undefined ? undefined : node.verdicts?.get(healthKey(spec.health));
      return failure('conflict', `${to} does not pass the health checks of ${name}${result === undefined ? ' (not checked there yet)' : `: ${result.reason}`}`, 'target');
    }
    if (owner === to) return this.action({ outcome: 'done', detail: `${name} is already on ${to}`, resource: this.resourceView(name) });
    if (this.view.movingTo(name) !== null) return failure('conflict', `a move of ${name} is already under way`, 'name');
    const started = Date.now();
    const id = await this.agent.requestMove(name, to, actor);
    const settled = await this.settle(name, () => !this.view.intents.has(id));
    const view = this.resourceView(name);
    const arrived = view?.status.owner === to && view.status.state === 'online' && this.view.ownerOf(name) === to;
    if (settled === undefined) return this.action({ outcome: 'accepted', detail: `moving ${name} to ${to}`, resource: view });
    if (!arrived) {
      const entries = await this.store.audit({ limit: 20 });
      const why = entries.reverse().find((e) => e.target === name && e.action === 'move' && e.outcome === 'failed' && e.at >= started - 1000);
      return failure('failed', `move of ${name} to ${to} failed: ${why?.detail ?? 'see the events'}`);
    }
    return this.action({ outcome: 'done', detail: `${name} moved to ${to}`, resource: view, handoffMs: view.status.lastHandoffMs });
  }

  private async setNodeState(name: string, state: 'paused' | 'up', actor: string): Promise<CommandResult> {
    const valid = validateNodeName(name);
    if (!valid.ok) return failure('invalid', valid.message, 'name');
    if (!this.view.nodes.has(name)) return failure('not-found', `no node named "${name}"`, 'name');
    await this.store.setNodeState(name, state);
    const auditSeq = await this.audit({ actor, action: state === 'paused' ? 'node.pause' : 'node.resume', target: name, outcome: 'ok', detail: null, handoffMs: null });
    if (state === 'paused') {
      const drained = await this.settle(name, () => this.view.owners.ownedBy(name).size === 0 || !this.view.isAlive(name), 30_000);
      return { ok: true, result: { outcome: drained === undefined ? 'accepted' : 'done', detail: drained === undefined ? `${name} is draining` : `${name} drained`, auditSeq, resource: null, node: this.nodeRecord(name), handoffMs: null, durationMs: null } };
    }
    return { ok: true, result: { outcome: 'done', detail: null, auditSeq, resource: null, node: this.nodeRecord(name), handoffMs: null, durationMs: null } };
  }

  private async setNodeMaintenance(name: string, until: number | null, actor: string): Promise<CommandResult> {
    if (!this.view.nodes.has(name)) return failure('not-found', `no node named "${name}"`, 'name');
    if (until !== null && until <= Date.now()) return failure('invalid', 'the end of a maintenance window must be in the future', 'until');
    await this.store.setNodeMaintenance(name, until);
    const detail = until === null ? 'maintenance ended' : `under maintenance until ${new Date(until).toISOString()}: ARP alarms muted`;
    const auditSeq = await this.audit({ actor, action: 'node.maintenance', target: name, outcome: 'ok', detail, handoffMs: null });
    return { ok: true, result: { outcome: 'done', detail, auditSeq, resource: null, node: this.nodeRecord(name), handoffMs: null, durationMs: null } };
  }

  /** The pre-flight, on the node that would take the address (forwarded through the store when not this one). */
  private async probe(nodeName: string, ip: string, actor: string): Promise<CommandResult> {
    if (!this.view.nodes.has(nodeName)) return failure('not-found', `no node named "${nodeName}"`, 'node');
    if (nodeName !== this.agent.node && !this.view.isAlive(nodeName)) return failure('unavailable', `${nodeName} is down: it cannot probe ${ip}`, 'node');
    const started = performance.now();
    const outcome = await this.agent.probeOn(nodeName, ip, actor);
    if ('timedOut' in outcome) return failure('unavailable', `${nodeName} did not answer the probe of ${ip} within ${PROBE_TIMEOUT_MS / 1000} s`, 'node');
    if (!outcome.ok) return failure('invalid', `${nodeName} cannot probe ${ip}: ${outcome.message}`, 'ip');
    const { verdict, answeredBy, ownerMac } = outcome;
    // The console's figure is what the operator waited for, forwarding included.
    const result: ProbeResult = { node: nodeName, ip, verdict, answeredBy, ownerMac, durationMs: Math.round((performance.now() - started) * 100) / 100 };
    return { ok: true, result };
  }

  private async events(limit: number, since: number | undefined, filter: EventsFilter | undefined): Promise<CommandResult> {
    const entries = (await this.store.audit(since === undefined ? { limit: filter ? Math.max(limit, 10_000) : limit } : { sinceSeq: since, limit: filter ? 10_000 : limit }))
      .filter((e) => filter === undefined || auditEntryMatches(e, filter))
      .slice(-limit)
      .map(toContractAudit);
    return { ok: true, result: { entries } };
  }

  // ---- bulk ----------------------------------------------------------------------------------------

  /**
   * resource.import: every row checked against this agent's view (never the client's word), then the
   * good ones created in one putResources. One import at a time on this agent; the next batch is checked
   * against the view plus what earlier batches created that the view has not brought in yet (an address
   * or name twice across batches). Waiting for the watch instead cost each batch a few turns of a busy
   * event loop: 10,000 rows in 41 batches took 15-19 s, almost all of it in those waits.
   */
  private async importRows(rows: readonly unknown[], skipInvalid: boolean, actor: string): Promise<CommandResult> {
    const batch = this.importChain.then(() => this.createRows(rows, skipInvalid));
    this.importChain = batch.catch(() => undefined);
    // The next batch need not wait for this one's audit entry: appends queue behind the claims' entries
    // and contend with the other agents' for the audit counter (a quarter of a second each in a 10,000-row import).
    const { result, auditDetail } = await batch;
    if (auditDetail === null) return { ok: true, result };
    return { ok: true, result: { ...result, auditSeq: await this.audit({ actor, action: 'resource.import', target: null, outcome: 'ok', detail: auditDetail, handoffMs: null }) } };
  }

  private importChain: Promise<unknown> = Promise.resolve();
  /** Batches this agent created, each with the store revision it reached, until the view has reached it. */
  private createdAhead: Array<{ revision: number; specs: ResourceSpec[] }> = [];

  /** The resources a new row is checked against: the view's, and those created here it has not seen yet. */
  private existingForImport(): ResourceSpec[] {
    const view = this.view;
    this.createdAhead = this.createdAhead.filter((batch) => batch.revision > view.revision);
    const existing = [...view.resources.values()];
    for (const batch of this.createdAhead) for (const spec of batch.specs) if (!view.resources.has(spec.name)) existing.push(spec);
    return existing;
  }

  /** One batch checked and created; `auditDetail` is what its audit entry says (null: nothing created). */
  private async createRows(rows: readonly unknown[], skipInvalid: boolean): Promise<{ result: CommandResults['resource.import']; auditDetail: string | null }> {
    const tableRows = rows.map((input, index) => ({ line: index, input: input as Record<string, unknown> }));
    const table = checkTable(tableRows, { nodes: [...this.view.nodes.keys()], existing: this.existingForImport() });
    const invalid = table.issues.map((issue) => ({ index: issue.line, field: issue.field, message: issue.message }));
    const nothing = { result: { created: [], collided: [], invalid, auditSeq: null, durationMs: null }, auditDetail: null };
    if (invalid.length > 0 && !skipInvalid) return nothing;
    if (table.valid.length === 0) return nothing;
    const specs = table.valid.map((row) => row.spec);
    const { collided, revision } = await this.store.putResources(specs);
    const refused = new Set(collided);
    const createdSpecs = specs.filter((spec) => !refused.has(spec.name));
    if (createdSpecs.length > 0) this.createdAhead.push({ revision, specs: createdSpecs });
    const created = createdSpecs.map((spec) => spec.name);
    const collidedRows = table.valid.filter((row) => refused.has(row.spec.name)).map((row) => ({ index: row.line, name: row.spec.name }));
    const skippedRows = new Set(invalid.map((issue) => issue.index)).size;
    const detail = `${created.length} created${created.length > 0 ? ` (${created[0]}${created.length > 1 ? ` .. ${created.at(-1)}` : ''})` : ''}${skippedRows > 0 ? `, ${skippedRows} invalid skipped` : ''}${collidedRows.length > 0 ? `, ${collidedRows.length} already existed` : ''}`;
    return { result: { created, invalid, collided: collidedRows, auditSeq: null, durationMs: null }, auditDetail: created.length === 0 ? null : detail };
  }

  private exportSpecs(): CommandResult {
    const specs = [...this.view.resources.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { ok: true, result: { specs } };
  }
}

function describeView(view: ResourceView | null): string | null {
  if (!view) return null;
  const s = view.status;
  if (s.state === 'online') return `${view.name} online on ${s.owner ?? '?'} (${s.ownerMac ?? '?'})`;
  if (s.state === 'failed' && s.failure) {
    return `${view.name} failed: ${describeFailure(s.failure)}`;
  }
  return `${view.name} ${s.state}`;
}

export type { ResourceSpec };
