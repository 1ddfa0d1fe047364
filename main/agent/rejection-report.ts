// Store records left out as not what they claim to be (main/store/record-check.ts) go into the audit
// log once for the whole cluster: every agent sees the same rejection, and the live member whose name
// sorts first writes it (one entry per key and revision, not one per node). Each agent logs it once.
import { MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from '../../preload/contract/domain';
import type { NodeContext } from './node-context';
import type { ResourceRecords } from './resource-records';

export class RejectionReport {
  /** "key@revision" of the rejections already seen (pruned to those still standing). */
  private seen = new Set<string>();

  constructor(
    private readonly context: Pick<NodeContext, 'node' | 'view' | 'log'>,
    private readonly records: ResourceRecords,
  ) {}

  /** Looks at the view's rejections (after a resync, or a change that brought one). */
  review(): void {
    const view = this.context.view();
    const standing = new Set<string>();
    const reporter = [...view.members.keys()].sort()[0] ?? this.context.node;
    for (const record of view.rejected.values()) {
      const id = `${record.key}@${record.revision}`;
      standing.add(id);
      if (this.seen.has(id)) continue;
      this.context.log(`store record ${record.key} left out: ${record.reason}`);
      if (reporter !== this.context.node) continue;
      void this.records.audit({
        actor: this.context.node,
        action: 'store.rejected',
        target: record.name.slice(0, MAX_NAME_LENGTH),
        outcome: 'rejected',
        detail: `${record.key} (revision ${record.revision}): ${record.reason}`.slice(0, MAX_TEXT_LENGTH),
        handoffMs: null,
      });
    }
    this.seen = standing;
  }
}
