// The audit log: who did what, when, to what, how it went and how long it took. Follows live (the
// newest at the bottom, like a tail) until the operator scrolls up; a search runs over the agent's
// whole log, beyond the entries the console holds.
import { useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { AUDIT_OUTCOMES, type AuditEntry, type AuditOutcome } from '../../../preload/contract/domain';
import { MAX_EVENTS_QUERY_LIMIT } from '../../../preload/contract/protocol';
import type { ConsoleApi } from '../api/console-api';
import { errorMessage } from '../model/errors';
import { filterEvents, type EventFilter } from '../model/events';
import { formatClock, formatCount, formatDuration, formatTimestamp, plural } from '../model/format';
import { SearchIcon } from './ResourcesView';

interface Search {
  entries: AuditEntry[];
  query: string;
}

export function EventsView({ api, events, now }: { api: ConsoleApi; events: readonly AuditEntry[]; now: number }) {
  const [filter, setFilter] = useState<EventFilter>({ text: '', outcome: 'any' });
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState<Search | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<string | null>(null);
  const deferredFilter = useDeferredValue(filter);
  const source = search?.entries ?? events;
  const rows = useMemo(() => filterEvents(source, deferredFilter), [source, deferredFilter]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);

  useLayoutEffect(() => {
    const scroller = scrollRef.current;
    if (follow && search === null && scroller !== null) scroller.scrollTop = scroller.scrollHeight;
  }, [rows, follow, search]);

  useEffect(() => setSearchError(null), [filter]);

  const runSearch = async (): Promise<void> => {
    setSearching(true);
    setSearchError(null);
    try {
      const text = filter.text.trim();
      const { entries } = await api.request('events.query', {
        limit: MAX_EVENTS_QUERY_LIMIT,
        filter: { ...(text === '' ? {} : { text }), ...(filter.outcome === 'any' ? {} : { outcome: filter.outcome }) },
      });
      setSearch({ entries, query: text });
      setFollow(false);
    } catch (error) {
      setSearchError(errorMessage(error));
    } finally {
      setSearching(false);
    }
  };

  return (
    <section className="view events-view" aria-label="Events">
      <div className="toolbar">
        <div className="search">
          <SearchIcon />
          <input
            type="search"
            className="input search-input"
            placeholder="Filter: actor, action, target, detail…"
            aria-label="Filter events"
            data-testid="events-filter"
            value={filter.text}
            onChange={(event) => setFilter((current) => ({ ...current, text: event.target.value }))}
            onKeyDown={(event) => {
              if (event.key === 'Enter') void runSearch();
            }}
          />
        </div>
        <select
          className="input input-compact"
          aria-label="Outcome"
          data-testid="events-outcome"
          value={filter.outcome}
          onChange={(event) => setFilter((current) => ({ ...current, outcome: event.target.value as AuditOutcome | 'any' }))}
        >
          <option value="any">Any outcome</option>
          {AUDIT_OUTCOMES.map((outcome) => (
            <option key={outcome} value={outcome}>
              {outcome}
            </option>
          ))}
        </select>
        <button type="button" className="button" data-testid="events-search" disabled={searching} onClick={() => void runSearch()} title="Search the agent's whole audit log (Enter)">
          {searching ? 'Searching…' : 'Search full log'}
        </button>
        {search !== null && (
          <button
            type="button"
            className="button"
            data-testid="events-live"
            onClick={() => {
              setSearch(null);
              setFollow(true);
            }}
          >
            Back to live
          </button>
        )}
        <span className="toolbar-count">
          {search === null ? `${formatCount(rows.length)} of the latest ${plural(events.length, 'event')}` : `${plural(rows.length, 'event')} found in the agent's log`}
        </span>
        <span className="toolbar-spacer" />
        <label className="checkbox checkbox-inline">
          <input type="checkbox" data-testid="events-follow" checked={follow && search === null} disabled={search !== null} onChange={(event) => setFollow(event.target.checked)} />
          <span>Follow live</span>
        </label>
      </div>
      {searchError !== null && (
        <p className="callout callout-bad inline-callout" role="alert">
          {searchError}
        </p>
      )}
      <div
        ref={scrollRef}
        className="table-scroll events-scroll"
        data-testid="events-table"
        onScroll={(event) => {
          const scroller = event.currentTarget;
          const bottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 8;
          if (atBottom.current && !bottom && follow) setFollow(false);
          atBottom.current = bottom;
        }}
      >
        <table className="plain-table events-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Target</th>
              <th>Outcome</th>
              <th className="numeric">Duration</th>
              <th className="numeric">Handoff</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((entry) => (
              <tr key={entry.seq} data-testid={`event-row-${entry.seq}`} data-outcome={entry.outcome}>
                <td className="mono nowrap" title={`#${entry.seq} · ${formatTimestamp(entry.at)}`}>
                  {formatClock(entry.at, now)}
                </td>
                <td className="nowrap">{entry.actor}</td>
                <td className="mono nowrap">{entry.action}</td>
                <td className="nowrap">{entry.target ?? <span className="muted">—</span>}</td>
                <td>
                  <span className={`badge outcome-${entry.outcome}`}>
                    <span className="badge-dot" aria-hidden="true" />
                    {entry.outcome}
                  </span>
                </td>
                <td className="numeric nowrap">{formatDuration(entry.durationMs)}</td>
                <td className="numeric nowrap">{formatDuration(entry.handoffMs)}</td>
                <td className="detail-cell" title={entry.detail ?? undefined}>
                  {entry.detail ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && <div className="empty">{source.length === 0 ? 'No events yet.' : 'No event matches the filter.'}</div>}
      </div>
    </section>
  );
}
