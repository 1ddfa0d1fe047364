// ARP conflicts, live: another station claims one of the cluster's addresses. A timeline of the
// recent episodes and the full table; both update as the agents report frames.
import { useMemo } from 'react';
import type { ConflictRecord } from '../../../preload/contract/domain';
import { buildTimeline, sortConflicts, type Timeline } from '../model/conflicts';
import { formatClock, formatCount, formatRelative, formatTimestamp, plural } from '../model/format';

const LIVE_MS = 5_000;

export function ConflictsView({ conflicts, now }: { conflicts: ReadonlyMap<string, ConflictRecord>; now: number }) {
  const rows = useMemo(() => sortConflicts(conflicts.values()), [conflicts]);
  const timeline = useMemo(() => buildTimeline(rows, now, { liveMs: LIVE_MS }), [rows, now]);
  const active = rows.filter((row) => now - row.lastSeen <= LIVE_MS).length;

  return (
    <section className="view conflicts-view" aria-label="ARP conflicts">
      <div className="toolbar">
        <span className="toolbar-count">
          {plural(rows.length, 'conflict')}
          {active > 0 && <span className="count-failed"> · {formatCount(active)} active now</span>}
        </span>
        <span className="toolbar-spacer" />
        <span className="toolbar-hint">Another station answering for or announcing one of our addresses. Updated as frames arrive.</span>
      </div>
      {rows.length === 0 ? (
        <div className="empty" data-testid="conflicts-empty">
          <p className="empty-title">No ARP conflicts</p>
          <p>A station that claims one of the cluster&apos;s addresses shows up here within a second, with its MAC.</p>
        </div>
      ) : (
        <div className="conflicts-layout">
          <TimelineChart timeline={timeline} now={now} />
          <div className="table-scroll">
            <table className="plain-table" data-testid="conflict-table">
              <thead>
                <tr>
                  <th>Address</th>
                  <th>Seen by</th>
                  <th>VLAN</th>
                  <th>Our MAC</th>
                  <th>Their MAC</th>
                  <th>Vendor</th>
                  <th>First seen</th>
                  <th>Last seen</th>
                  <th className="numeric">Frames</th>
                  <th>Defended</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => {
                  const live = now - row.lastSeen <= LIVE_MS;
                  return (
                    <tr
                      key={`${row.node}|${row.address}|${row.theirMac}`}
                      className={live ? 'conflict-live' : undefined}
                      data-testid={`conflict-row-${row.address}-${row.theirMac}`}
                      data-node={row.node}
                    >
                      <td className="mono" data-testid="address">
                        {/* Hidden from screen readers: the cell reads as the address it shows (the toolbar counts the active ones). */}
                        {live && <span className="live-dot" title="active now" aria-hidden="true" />}
                        {row.address}
                      </td>
                      <td data-testid="node">{row.node}</td>
                      <td className="mono">{row.vlan ?? <span className="muted">—</span>}</td>
                      <td className="mono" data-testid="our-mac">
                        {row.ourMac ?? <span className="muted">unknown</span>}
                      </td>
                      <td className="mono strong" data-testid="their-mac">
                        {row.theirMac}
                      </td>
                      <td data-testid="their-vendor">{row.theirVendor ?? <span className="muted">unknown</span>}</td>
                      <td title={formatTimestamp(row.firstSeen)}>{formatClock(row.firstSeen, now)}</td>
                      <td title={formatTimestamp(row.lastSeen)} data-testid="last-seen">
                        {formatClock(row.lastSeen, now)} <span className="muted">({formatRelative(row.lastSeen, now)})</span>
                      </td>
                      <td className="numeric" data-testid="count">
                        {formatCount(row.count)}
                      </td>
                      <td data-testid="defended">
                        <span className={`badge ${row.defended ? 'defended-yes' : 'defended-no'}`}>
                          <span className="badge-dot" aria-hidden="true" />
                          {row.defended ? 'Defended' : 'Not defended'}
                        </span>
                        {row.muted && (
                          <span className="badge muted-alarm" data-testid="muted" title="under maintenance: recorded, not an alarm">
                            Muted
                          </span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}

const LANE_HEIGHT = 22;
const AXIS_HEIGHT = 20;

function TimelineChart({ timeline, now }: { timeline: Timeline; now: number }) {
  const height = timeline.bars.length * LANE_HEIGHT + AXIS_HEIGHT;
  const percent = (fraction: number): string => `${(Math.min(1, Math.max(0, fraction)) * 100).toFixed(3)}%`;
  const span = Math.max(1, timeline.to - timeline.from);
  return (
    <figure className="timeline" data-testid="conflict-timeline">
      <figcaption className="timeline-caption">
        Timeline <span className="muted">— {formatClock(timeline.from, now)} to now</span>
        <span className="timeline-legend">
          <span className="legend-swatch legend-undefended" aria-hidden="true" /> not defended
          <span className="legend-swatch legend-defended" aria-hidden="true" /> defended
        </span>
      </figcaption>
      <div className="timeline-body">
        <ul className="timeline-labels" aria-hidden="true">
          {timeline.bars.map((bar) => (
            <li key={bar.key} className="mono">
              {bar.label}
            </li>
          ))}
        </ul>
        <svg className="timeline-svg" width="100%" height={height} role="img" aria-label="Conflict episodes over time">
          {timeline.ticks.map((tick) => {
            const x = percent((tick - timeline.from) / span);
            return (
              <g key={tick} className="timeline-tick">
                <line x1={x} x2={x} y1={0} y2={height - AXIS_HEIGHT} />
                <text x={x} y={height - 6}>
                  {formatClock(tick, now)}
                </text>
              </g>
            );
          })}
          {timeline.bars.map((bar, lane) => {
            const y = lane * LANE_HEIGHT + 5;
            const width = Math.max(0.004, bar.end - bar.start);
            return (
              <g key={bar.key} className={`timeline-bar${bar.defended ? ' defended' : ''}${bar.live ? ' live' : ''}`}>
                <title>{`${bar.label}: ${plural(bar.count, 'frame')}${bar.defended ? ', defended' : ''}`}</title>
                <rect x={percent(bar.start)} y={y} width={percent(width)} height={LANE_HEIGHT - 10} rx={2} />
                <circle cx={percent(bar.end)} cy={y + (LANE_HEIGHT - 10) / 2} r={bar.live ? 4.5 : 3} />
              </g>
            );
          })}
          <line className="timeline-now" x1="100%" x2="100%" y1={0} y2={height - AXIS_HEIGHT} />
        </svg>
      </div>
    </figure>
  );
}
