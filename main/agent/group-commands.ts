// The API's group commands (group.add, group.remove, group.move; preload/contract/groups.ts). A group is
// a field of its members' specs, so adding or removing members rewrites every member concerned in one
// store transaction (replaceResources, each at the revision this agent read): a group never exists half
// written, and an edit from another console meanwhile makes the command fail with nothing changed.
// A move asks each node holding members for one batch to the target (requestBatch): the target probes,
// the owner lets go of all of them at once, the target takes all of them (batch-machine.ts).
import type { CommandResult } from '../api/handler';
import type { ApiError } from '../../preload/contract/protocol';
import { BEST_NODE } from '../../preload/contract/protocol';
import { apartOf, MAX_GROUP_MEMBERS } from '../../preload/contract/groups';
import { eligibleForAll, isAllowed, isBanned, passesChecks, placeBatch } from '../cluster/placement';
import { validateResourceSpec } from '../cluster/validate';
import { requestBatch } from '../cluster/batch-machine';
import type { NodeName, ResourceName, ResourceSpec } from '../cluster/model';
import { RevisionConflictError, type AuditRecord, type ClusterStore } from '../store/store';
import { plural } from '../../preload/contract/plural';
import type { ClusterView } from './cluster-view';

export interface GroupCommandsContext {
  view(): ClusterView;
  store: ClusterStore;
  audit(record: Omit<AuditRecord, 'at'>): Promise<number>;
  /** Resolves true once `done()` holds after a change of the view, false after `timeoutMs`. */
  waitFor(done: () => boolean, timeoutMs: number): Promise<boolean>;
  /** A single move of `resource` to `to` (a member alone on its node); resolves with the intent's id. */
  requestMove(resource: ResourceName, to: NodeName, actor: string): Promise<string>;
}

/** How long group.move waits for every member to be online on the target before it answers 'accepted'. */
const GROUP_MOVE_WAIT_MS = 15_000;
/** How long group.add waits for a split group to gather. */
const GROUP_GATHER_WAIT_MS = 15_000;

function failure(code: ApiError['code'], message: string, field?: string): CommandResult {
  return { ok: false, error: { code, message, ...(field === undefined ? {} : { field }) } };
}

function done(outcome: 'done' | 'accepted', detail: string, auditSeq: number | null, durationMs: number | null = null): CommandResult {
  return { ok: true, result: { outcome, detail, auditSeq, resource: null, node: null, handoffMs: null, durationMs } };
}

export class GroupCommands {
  private batches = 0;

  constructor(private readonly context: GroupCommandsContext) {}

  /** The enabled members of `name`, in name order: the view's cached groups (asked on every change while a command waits). */
  activeMembers(name: string): readonly ResourceSpec[] {
    return this.context.view().groups().active.get(name) ?? [];
  }

  /** Every member of `name` (enabled or not), in name order. */
  members(name: string): ResourceSpec[] {
    return [...this.context.view().resources.values()].filter((spec) => spec.group === name).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async add(name: string, resources: readonly string[], apartFrom: readonly string[] | undefined, actor: string): Promise<CommandResult> {
    const view = this.context.view();
    const current = this.members(name);
    if (resources.length === 0 && current.length === 0) return failure('invalid', `name at least one resource for the new group ${name}`, 'resources');
    const seen = new Set<string>();
    for (const resource of resources) {
      const spec = view.resources.get(resource);
      if (spec === undefined) return failure('not-found', `no resource named "${resource}"`, 'resources');
      if (seen.has(resource)) return failure('invalid', `${resource} is named twice`, 'resources');
      seen.add(resource);
      if (spec.group !== undefined && spec.group !== name) return failure('conflict', `${resource} is in group ${spec.group} already (ipfo group remove ${spec.group} ${resource} takes it out)`, 'resources');
    }
    const joining = resources.filter((resource) => view.resources.get(resource)?.group !== name);
    if (current.length + joining.length > MAX_GROUP_MEMBERS) return failure('invalid', `a group has at most ${MAX_GROUP_MEMBERS} members (${name} would have ${current.length + joining.length})`, 'resources');
    const groups = new Set([...view.resources.values()].flatMap((spec) => (spec.group === undefined ? [] : [spec.group])));
    for (const other of apartFrom ?? []) {
      if (other === name) return failure('invalid', `group ${name} cannot be kept apart from itself`, 'apartFrom');
      if (!groups.has(other)) return failure('not-found', `no group named "${other}" (create it first)`, 'apartFrom');
    }
    const apart = apartFrom === undefined ? apartOf(current) : [...new Set(apartFrom)].sort();
    const members = [...current, ...joining.map((resource) => view.resources.get(resource)!)];
    const written: Array<{ spec: ResourceSpec; expectRev: number }> = [];
    for (const member of members) {
      const { apartFrom: _old, ...rest } = member;
      const validation = validateResourceSpec({ ...rest, group: name, ...(apart.length > 0 ? { apartFrom: apart } : {}) }, { nodes: [...view.nodes.keys()], existing: [...view.resources.values()], editing: member.name });
      if (!validation.ok) {
        const first = validation.errors[0]!;
        return failure('invalid', first.message, first.field === 'group' ? 'name' : first.field === 'apartFrom' ? 'apartFrom' : 'resources');
      }
      const unchanged = member.group === name && JSON.stringify(member.apartFrom ?? []) === JSON.stringify(apart);
      if (!unchanged) written.push({ spec: validation.spec, expectRev: view.resourceRevisions.get(member.name) ?? 0 });
    }
    if (written.length === 0) return done('done', `${name} already has ${members.map((m) => m.name).join(', ')}${apart.length > 0 ? `, apart from ${apart.join(', ')}` : ''}`, null);
    const conflict = await this.write(written);
    if (conflict !== null) return conflict;
    const detail = `${name}: ${members.map((m) => m.name).join(', ')}${apart.length > 0 ? `; apart from ${apart.join(', ')}` : ''}`;
    const auditSeq = await this.context.audit({ actor, action: 'group.add', target: name, outcome: 'ok', detail, handoffMs: null });
    // A member held elsewhere joins the group's node (group-moves.ts): said done once they are together.
    const together = await this.context.waitFor(() => this.holders(name).size <= 1 && members.every((member) => this.context.view().movingTo(member.name) === null), GROUP_GATHER_WAIT_MS);
    return done(together ? 'done' : 'accepted', together ? detail : `${detail} (gathering on one node)`, auditSeq);
  }

  async remove(name: string, resources: readonly string[] | undefined, actor: string): Promise<CommandResult> {
    const current = this.members(name);
    if (current.length === 0) return failure('not-found', `no group named "${name}"`, 'name');
    for (const resource of resources ?? []) {
      if (!current.some((member) => member.name === resource)) return failure('not-found', `${resource} is not a member of ${name}`, 'resources');
    }
    const leaving = resources === undefined ? current : current.filter((member) => resources.includes(member.name));
    const view = this.context.view();
    const conflict = await this.write(leaving.map((member) => {
      const { group: _group, apartFrom: _apart, ...spec } = member;
      return { spec, expectRev: view.resourceRevisions.get(member.name) ?? 0 };
    }));
    if (conflict !== null) return conflict;
    const left = leaving.map((member) => member.name).join(', ');
    const detail = resources === undefined ? `${name} dissolved (${left} stay where they are)` : `${left} left ${name}`;
    const auditSeq = await this.context.audit({ actor, action: 'group.remove', target: name, outcome: 'ok', detail, handoffMs: null });
    return done('done', detail, auditSeq);
  }

  async move(name: string, target: string, actor: string): Promise<CommandResult> {
    const started = performance.now();
    const view = this.context.view();
    const members = this.activeMembers(name);
    if (members.length === 0) return failure('not-found', this.members(name).length === 0 ? `no group named "${name}"` : `group ${name} has no member online or wanted online`, 'name');
    const nodes = view.nodeViews();
    const holders = this.holders(name);
    const to = target === BEST_NODE ? placeBatch(members, nodes, view.owners.loads(), holders.size === 1 ? [...holders] : [], view.groups()).get(members[0]!.name) ?? null : target;
    if (to === null) return failure('conflict', `no other live node may hold every member of ${name} (each must allow it, pass its checks and not be banned)`, 'target');
    const node = nodes.find((n) => n.name === to);
    if (node === undefined) return failure('not-found', `no node named "${to}"`, 'target');
    if (node.state !== 'up') return failure('conflict', `node ${to} is ${node.state}`, 'target');
    if (eligibleForAll(members, [node]).length === 0) {
      const blocking = members.find((member) => !isAllowed(member, to) || isBanned(member, node) || !passesChecks(member, node))!;
      const why = !isAllowed(blocking, to) ? `${to} is not a possible owner of ${blocking.name}` : isBanned(blocking, node) ? `${to} is banned from ${blocking.name} after failures there (ipfo resource cleanup ${blocking.name} --node ${to})` : `${to} does not pass the health checks of ${blocking.name}`;
      return failure('conflict', `${name} cannot go to ${to}: ${why}`, 'target');
    }
    if (members.some((member) => view.movingTo(member.name) !== null)) return failure('conflict', `a move of a member of ${name} is already under way`, 'name');
    const bySource = new Map<NodeName, ResourceName[]>();
    for (const member of members) {
      const owner = view.ownerOf(member.name);
      if (owner === null || owner === to) continue;
      bySource.set(owner, [...(bySource.get(owner) ?? []), member.name]);
    }
    if (bySource.size === 0) return done('done', `${name} is on ${to} already`, null);
    for (const [from, resources] of bySource) {
      if (resources.length === 1) {
        await this.context.requestMove(resources[0]!, to, actor);
        continue;
      }
      const batch = requestBatch(resources, from, to, actor, Date.now(), `${Date.now().toString(36)}.g${++this.batches}`);
      view.intents.set(batch.id, batch);
      await this.context.store.putIntent(batch, 0);
    }
    const moving = [...bySource.values()].flat();
    const auditSeq = await this.context.audit({ actor, action: 'group.move', target: name, outcome: 'ok', detail: `${moving.join(', ')} to ${to}`, handoffMs: null });
    const arrived = (): boolean => {
      const now = this.context.view();
      return moving.every((resource) => now.ownerOf(resource) === to && now.statuses.get(resource)?.state === 'online' && now.statuses.get(resource)?.owner === to && now.movingTo(resource) === null);
    };
    const settled = await this.context.waitFor(() => arrived() || moving.every((resource) => this.context.view().movingTo(resource) === null), GROUP_MOVE_WAIT_MS);
    if (!settled) return done('accepted', `moving ${name} to ${to}`, auditSeq);
    if (!arrived()) return failure('failed', `move of ${name} to ${to} failed: ${moving.filter((resource) => this.context.view().ownerOf(resource) !== to).join(', ')} did not arrive (see the events)`);
    return done('done', `${name} moved to ${to} (${plural(moving.length, 'address')})`, auditSeq, Math.round(performance.now() - started));
  }

  /** The nodes that own members of the group now. */
  private holders(name: string): Set<NodeName> {
    const view = this.context.view();
    const nodes = new Set<NodeName>();
    for (const member of this.activeMembers(name)) {
      const owner = view.ownerOf(member.name);
      if (owner !== null) nodes.add(owner);
    }
    return nodes;
  }

  /** Writes every spec at its revision, or nothing: null, or the failure to answer. */
  private async write(entries: Array<{ spec: ResourceSpec; expectRev: number }>): Promise<CommandResult | null> {
    try {
      await this.context.store.replaceResources(entries);
      return null;
    } catch (error) {
      if (!(error instanceof RevisionConflictError)) throw error;
      return failure('conflict', `a member changed meanwhile (${error.key.split('/').pop()}); nothing was written, try again`);
    }
  }
}
