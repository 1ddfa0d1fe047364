// What this node writes about its resources: their status (state, owner, failure) and the audit log.
// A status is also set in the local view at once, so the next reconcile does not act on the old one.
import { describeFailure } from '../../preload/contract/failure-text';
import { MAX_TEXT_LENGTH } from '../../preload/contract/domain';
import type { FailureReason, ResourceName, ResourceStatus } from '../cluster/model';
import { cut } from '../store/record-check';
import { isStoreError, type AuditRecord } from '../store/store';
import type { NodeContext } from './node-context';

/** `lastHandoffMs` left out keeps the previous one. */
export type StatusFields = Pick<ResourceStatus, 'state' | 'owner' | 'ownerMac' | 'failure'> & { lastHandoffMs?: number | null };

export class ResourceRecords {
  constructor(private readonly context: Pick<NodeContext, 'node' | 'store' | 'view' | 'log'>) {}

  async putStatus(resource: ResourceName, fields: StatusFields): Promise<void> {
    await this.context.store.putStatus(this.statusOf(resource, fields));
  }

  /** Many statuses in one batch of writes (a takeover): set in the view at once as putStatus does. */
  async putStatuses(updates: ReadonlyArray<{ resource: ResourceName; fields: StatusFields }>): Promise<void> {
    if (updates.length === 0) return;
    await this.context.store.putStatuses(updates.map(({ resource, fields }) => this.statusOf(resource, fields)));
  }

  /** The status a write of `fields` makes, set in the view at once. */
  private statusOf(resource: ResourceName, fields: StatusFields): ResourceStatus {
    const view = this.context.view();
    const previous = view.statuses.get(resource);
    const { lastHandoffMs, ...rest } = fields;
    const status: ResourceStatus = {
      name: resource,
      ...rest,
      // Every reader refuses a longer text (main/store/record-check.ts): an error message is cut, never the record.
      failure: fields.failure !== null && 'detail' in fields.failure ? { ...fields.failure, detail: cut(fields.failure.detail, MAX_TEXT_LENGTH) } : fields.failure,
      since: previous?.state === fields.state && previous.owner === fields.owner ? previous.since : Date.now(),
      lastHandoffMs: lastHandoffMs !== undefined ? lastHandoffMs : (previous?.lastHandoffMs ?? null),
    };
    view.statuses.set(resource, status);
    return status;
  }

  /** An audit entry; one the store cannot take is logged and dropped (the work it records went on). */
  async audit(record: Omit<AuditRecord, 'at'>): Promise<void> {
    try {
      await this.context.store.appendAudit({ at: Date.now(), ...record });
    } catch (error) {
      if (!isStoreError(error)) throw error;
      this.context.log(`audit not written: ${error.message}`);
    }
  }

  /** The resource cannot be served by this node for a reason the operator must see. */
  async fail(resource: ResourceName, failure: FailureReason): Promise<void> {
    this.context.log(`${resource}: failed: ${describeFailure(failure)}`);
    await this.putStatus(resource, { state: 'failed', owner: null, ownerMac: null, failure });
    await this.audit({ actor: this.context.node, action: 'fail', target: resource, outcome: 'failed', detail: describeFailure(failure), handoffMs: null });
  }
}
