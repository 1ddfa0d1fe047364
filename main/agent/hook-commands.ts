// The API's hook commands (hook.add, list, remove, test) as store writes. A hook's record holds no
// secret: a webhook names its secret file, which the sending agent reads at each delivery (so the file
// must be on every node, like an exec hook's program). Every change is audited with the admin who made it.
import type { CommandResult } from '../api/handler';
import { MAX_HOOKS, type HookInfo, type HookRecord, type HookSpec } from '../../preload/contract/hooks';
import { RevisionConflictError, type AuditRecord, type ClusterStore } from '../store/store';
import { initialState } from '../hooks/delivery-plan';
import { buildPayload, testEntry } from '../hooks/payload';
import { readSecret, type Deliver } from '../hooks/deliver';

type Audit = (record: Omit<AuditRecord, 'at'>) => Promise<number>;

const notFound = (name: string): CommandResult => ({ ok: false, error: { code: 'not-found', message: `no hook named "${name}"`, field: 'name' } });

function describeTarget(hook: HookRecord): string {
  switch (hook.target.kind) {
    case 'exec': return `exec ${hook.target.path}`;
    case 'webhook': return `webhook ${new URL(hook.target.url).origin}`;
    case 'syslog': return `syslog ${hook.target.target}`;
  }
}

export class HookCommands {
  constructor(
    private readonly node: string,
    private readonly store: ClusterStore,
    private readonly audit: Audit,
    private readonly deliver: Deliver,
  ) {}

  async add(spec: HookSpec, actor: string): Promise<CommandResult> {
    const { hooks } = await this.store.hooks();
    if (hooks.length >= MAX_HOOKS) return { ok: false, error: { code: 'invalid', message: `the cluster has ${MAX_HOOKS} hooks, the most it keeps; remove one first`, field: 'name' } };
    if (spec.target.kind === 'webhook' && spec.target.secretFile !== null) {
      // Read here once, so a missing or unreadable file is said now rather than at the first event.
      try {
        await readSecret(spec.target.secretFile);
      } catch (error) {
        return { ok: false, error: { code: 'invalid', message: `${(error as Error).message} on ${this.node} (the file must be on every node)`, field: 'target.secretFile' } };
      }
    }
    const newest = await this.store.audit({ limit: 1 });
    const record: HookRecord = { ...spec, events: [...new Set(spec.events)], afterSeq: newest[0]?.seq ?? 0, createdAt: Date.now(), createdBy: actor };
    try {
      await this.store.putHook(record, 0);
    } catch (error) {
      if (!(error instanceof RevisionConflictError)) throw error;
      return { ok: false, error: { code: 'conflict', message: `hook "${spec.name}" exists already (\`ipfo hook rm ${spec.name}\` first)`, field: 'name' } };
    }
    // A state left by an earlier hook of the same name is replaced: this one starts at its own afterSeq.
    await this.store.putHookState(initialState(record, this.node));
    await this.audit({ actor, action: 'hook.added', target: record.name, outcome: 'ok', detail: `${describeTarget(record)} on ${record.events.join(',')}`, handoffMs: null });
    return { ok: true, result: { hook: record } };
  }

  async list(): Promise<CommandResult> {
    const [{ hooks, rejected }, states, sender] = await Promise.all([this.store.hooks(), this.store.hookStates(), this.store.hookSender()]);
    const byName = new Map(states.map((entry) => [entry.state.name, entry.state]));
    const list: HookInfo[] = hooks.map((entry) => ({ hook: entry.hook, state: byName.get(entry.hook.name) ?? null })).sort((a, b) => a.hook.name.localeCompare(b.hook.name));
    return {
      ok: true,
      result: {
        hooks: list,
        sender: sender?.node ?? null,
        rejected: rejected.slice(0, MAX_HOOKS).map(({ collection, name, key, reason, revision }) => ({ collection, name, key, reason, revision })),
      },
    };
  }

  async remove(name: string, actor: string): Promise<CommandResult> {
    const entry = (await this.store.hooks()).hooks.find((candidate) => candidate.hook.name === name);
    if (entry === undefined) return notFound(name);
    await this.store.deleteHook(name, entry.revision);
    await this.audit({ actor, action: 'hook.removed', target: name, outcome: 'ok', detail: describeTarget(entry.hook), handoffMs: null });
    return { ok: true, result: { hook: entry.hook } };
  }

  /** One test event (seq 0, test: true) delivered now from this agent; the hook's state is not touched. */
  async test(name: string, actor: string): Promise<CommandResult> {
    const entry = (await this.store.hooks()).hooks.find((candidate) => candidate.hook.name === name);
    if (entry === undefined) return notFound(name);
    const result = await this.deliver(entry.hook.target, buildPayload(name, testEntry(Date.now(), actor), true));
    return { ok: true, result: { hook: name, node: this.node, delivery: result } };
  }
}
