// The bottom line: connection, agent, who is signed in (user and role), revision, and the cluster at a glance.
import type { ConnectionStatus } from '../api/console-api';
import type { PageCluster } from '../model/page-cluster';
import { formatCount, plural } from '../model/format';
import { sessionLabel } from '../model/roles';

const PHASE_LABELS: Readonly<Record<ConnectionStatus['phase'], string>> = {
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  'auth-failed': 'Credential refused',
  'no-token': 'No credential',
  broken: 'Protocol error',
  disconnected: 'Not connected',
};

export interface StatusBarProps {
  status: ConnectionStatus;
  cluster: Pick<PageCluster, 'nodes' | 'conflicts' | 'rejected' | 'revision' | 'resourceCount' | 'resourceStates'>;
  now: number;
  onSwitchCluster: (() => void) | null;
}

export function StatusBar({ status, cluster, now, onSwitchCluster }: StatusBarProps) {
  const total = cluster.resourceCount;
  const { online, failed } = cluster.resourceStates;
  let up = 0;
  let down = 0;
  for (const node of cluster.nodes.values()) {
    if (node.state === 'up') up++;
    else if (node.state === 'down') down++;
  }
  let alarms = 0;
  for (const conflict of cluster.conflicts.values()) if (!conflict.muted) alarms++;
  const retryIn = status.retryAt === null ? null : Math.max(0, Math.ceil((status.retryAt - now) / 1000));
  return (
    <footer className="status-bar" data-testid="status-bar">
      <span className={`status-connection phase-${status.phase}`} data-testid="status-connection" data-phase={status.phase}>
        <span className="status-dot" aria-hidden="true" />
        {PHASE_LABELS[status.phase]}
        {status.phase === 'reconnecting' && retryIn !== null && retryIn > 0 && ` in ${retryIn} s`}
      </span>
      <span className="status-item" title="Agent">
        <span className="status-key">agent</span> {status.endpoint}
      </span>
      {status.role !== null && (
        <span className="status-item" data-testid="status-session" title={`Signed in${status.actor === null ? '' : `; the audit log names this session ${status.actor}`}`}>
          <span className="status-key">as</span> {sessionLabel(status.user, status.role)}
        </span>
      )}
      <span className="status-item" data-testid="status-revision">
        <span className="status-key">rev</span> {cluster.revision ?? '—'}
      </span>
      {status.detail !== null && status.phase !== 'connected' && <span className="status-item status-detail">{status.detail}</span>}
      {onSwitchCluster !== null && (
        <button type="button" className="status-button" data-testid="switch-cluster" onClick={onSwitchCluster}>
          Connection…
        </button>
      )}
      <span className="status-spacer" />
      <span className="status-item">
        {plural(total, 'resource')} · {formatCount(online)} online
        {failed > 0 && <span className="status-bad"> · {formatCount(failed)} failed</span>}
      </span>
      <span className="status-item">
        {formatCount(up)}/{plural(cluster.nodes.size, 'node')} up
        {down > 0 && <span className="status-bad"> · {formatCount(down)} down</span>}
      </span>
      <span className={`status-item${alarms > 0 ? ' status-bad' : ''}`}>
        {plural(cluster.conflicts.size, 'conflict')}
        {alarms < cluster.conflicts.size && <span> · {formatCount(cluster.conflicts.size - alarms)} muted</span>}
      </span>
      {cluster.rejected.size > 0 && (
        <span
          className="status-item status-bad"
          data-testid="status-rejected"
          title={[...cluster.rejected.values()].map((record) => `${record.key}: ${record.reason}`).join('\n')}
        >
          {plural(cluster.rejected.size, 'store record')} left out
        </span>
      )}
    </footer>
  );
}
