// `ipfo events --follow`: the newest entries of the audit log, then every new one as the agent pushes
// it, until the operator stops (exit 0) or the agent goes away (exit 1).
//
// Order of work, so that no entry is lost or printed twice: subscribe first (the snapshot fixes a
// point in the log; every entry after it arrives as a change push, kept aside for now), then query
// the history, print it, and only then print the pushed entries newer than anything printed. Entries
// are numbered without gaps, so "newer" is a comparison of seq.
import type { AgentClient } from '../../../api/client';
import type { AuditEntry } from '../../../../preload/contract/domain';
import { auditEntryMatches, CLOSE_CODES, type EventsFilter } from '../../../../preload/contract/protocol';
import { EXIT } from '../../exit-codes';
import type { ClusterIo } from './io';

const newest = (entries: readonly AuditEntry[]): number => entries.reduce((high, entry) => Math.max(high, entry.seq), 0);

export async function followEvents(
  client: AgentClient,
  options: { limit: number; filter: EventsFilter },
  io: ClusterIo,
  print: (entry: AuditEntry) => void,
): Promise<number> {
  let printedUpTo = 0;
  let historyShown = false;
  let snapshotHigh = 0;
  const pushedMeanwhile: AuditEntry[] = [];
  const show = (entry: AuditEntry): void => {
    if (entry.seq <= printedUpTo || !auditEntryMatches(entry, options.filter)) return;
    printedUpTo = entry.seq;
    print(entry);
  };

  const stop = io.untilStopped();
  const closed = new Promise<{ code: number; text: string }>((resolve) => client.onClose((code, reason) => resolve({ code, text: `${code}${reason === '' ? '' : ` ${reason}`}` })));
  try {
    await client.subscribe(
      (push) => {
        // A later snapshot (the agent reset its stream) may hold entries whose pushes never came.
        if (historyShown) for (const entry of push.snapshot.events) show(entry);
        else snapshotHigh = Math.max(snapshotHigh, newest(push.snapshot.events));
      },
      (push) => {
        if (push.change.kind !== 'audit') return;
        if (historyShown) show(push.change.entry);
        else pushedMeanwhile.push(push.change.entry);
      },
    );
    const history = options.limit === 0 ? [] : (await client.request('events.query', { limit: options.limit, ...(Object.keys(options.filter).length === 0 ? {} : { filter: options.filter }) })).entries;
    for (const entry of history) show(entry);
    printedUpTo = Math.max(printedUpTo, snapshotHigh);
    historyShown = true;
    for (const entry of pushedMeanwhile) show(entry);

    const outcome = await Promise.race([stop.stopped.then(() => 'stopped' as const), closed]);
    if (outcome === 'stopped') return EXIT.ok;
    io.stderr(`ipfo: the agent closed the connection (${outcome.text})`);
    // 4401: the credential was revoked (user removed or rotated): like a refused login, exit 4.
    return outcome.code === CLOSE_CODES.unauthorized ? EXIT.environment : EXIT.runtime;
  } finally {
    stop.dispose();
  }
}
