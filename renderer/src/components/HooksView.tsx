// Event hooks and their delivery state (`ipfo hook list`): asked of the agent every two seconds while
// the view is open. Operators and admins may read it; a viewer is told which role it needs.
import { useEffect, useState } from 'react';
import type { CommandResults } from '../../../preload/contract/protocol';
import type { HookRecord } from '../../../preload/contract/hooks';
import type { Role } from '../../../preload/contract/users';
import type { ConsoleApi } from '../api/console-api';
import { can, roleHint } from '../model/roles';
import { formatClock, formatRelative, formatTimestamp, plural } from '../model/format';

const POLL_MS = 2_000;

type HookList = CommandResults['hook.list'];

/** A hook's target in one line; a webhook shows its URL and whether it is signed, never a secret. */
export function hookTargetText(hook: HookRecord): string {
  const target = hook.target;
  switch (target.kind) {
    case 'exec': return [target.path, ...target.args].join(' ');
    case 'webhook': return `${target.url}${target.secretFile === null ? ' (unsigned)' : ' (signed)'}`;
    case 'syslog': return target.target;
  }
}

export function HooksView({ api, role, now }: { api: ConsoleApi; role: Role | null; now: number }) {
  const allowed = can(role, 'hook.list');
  const [list, setList] = useState<HookList | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!allowed) return undefined;
    let stopped = false;
    const load = (): void => {
      api.request('hook.list', {}).then(
        (result) => {
          if (stopped) return;
          setList(result);
          setError(null);
        },
        (failure: unknown) => {
          if (!stopped) setError(failure instanceof Error ? failure.message : String(failure));
        },
      );
    };
    load();
    const timer = setInterval(load, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api, allowed]);

  if (!allowed) {
    return (
      <section className="view hooks-view" aria-label="Event hooks">
        <div className="empty" data-testid="hooks-forbidden">
          <p className="empty-title">Event hooks</p>
          <p>{roleHint(role, 'hook.list')}</p>
        </div>
      </section>
    );
  }

  const hooks = list?.hooks ?? [];
  return (
    <section className="view hooks-view" aria-label="Event hooks">
      <div className="toolbar">
        <span className="toolbar-count">{plural(hooks.length, 'hook')}</span>
        <span className="toolbar-spacer" />
        <span className="toolbar-hint" data-testid="hooks-sender">
          {list === null ? 'Loading…' : `Sent by ${list.sender ?? 'no agent yet'}. Added and removed with ipfo hook.`}
        </span>
      </div>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {list !== null && list.rejected.length > 0 && (
        <p className="form-error" data-testid="hooks-rejected">
          Left out, never run: {list.rejected.map((record) => `${record.name} (${record.reason})`).join('; ')}
        </p>
      )}
      {list !== null && hooks.length === 0 ? (
        <div className="empty" data-testid="hooks-empty">
          <p className="empty-title">No event hooks</p>
          <p>ipfo hook add NAME --on EVENTS --exec|--webhook|--syslog sends the cluster&apos;s events to a program, a URL or syslog.</p>
        </div>
      ) : (
        <div className="table-scroll">
          <table className="plain-table" data-testid="hook-table">
            <thead>
              <tr>
                <th>Hook</th>
                <th>Events</th>
                <th>Kind</th>
                <th>Target</th>
                <th className="numeric">Last delivered</th>
                <th>Last attempt</th>
                <th className="numeric">Pending</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {hooks.map(({ hook, state }) => (
                <tr key={hook.name} data-testid={`hook-row-${hook.name}`}>
                  <td className="strong">{hook.name}</td>
                  <td className="mono">{hook.events.join(', ')}</td>
                  <td>{hook.target.kind}</td>
                  <td className="mono">{hookTargetText(hook)}</td>
                  <td className="numeric" data-testid="last-delivered">
                    {state?.lastDeliveredSeq === null || state === null ? <span className="muted">—</span> : `seq ${state.lastDeliveredSeq}`}
                  </td>
                  <td title={state?.lastAttemptAt == null ? undefined : formatTimestamp(state.lastAttemptAt)}>
                    {state?.lastAttemptAt == null ? (
                      <span className="muted">never</span>
                    ) : (
                      <>
                        {formatClock(state.lastAttemptAt, now)} <span className="muted">({formatRelative(state.lastAttemptAt, now)})</span>
                      </>
                    )}
                  </td>
                  <td className="numeric" data-testid="pending">
                    {state?.pending ?? 0}
                  </td>
                  <td data-testid="last-error" className={state?.lastError ? 'count-failed' : undefined}>
                    {state?.lastError ?? <span className="muted">none</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
