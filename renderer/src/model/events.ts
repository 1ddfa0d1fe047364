// The Events view's local filter over the audit entries the console holds.
import type { AuditEntry, AuditOutcome } from '../../../preload/contract/domain';

export interface EventFilter {
  /** Case-insensitive substring of actor, action, target or detail. */
  text: string;
  outcome: AuditOutcome | 'any';
}

export const ALL_EVENTS: EventFilter = { text: '', outcome: 'any' };

export function matchesEvent(entry: AuditEntry, filter: EventFilter): boolean {
  if (filter.outcome !== 'any' && entry.outcome !== filter.outcome) return false;
  const words = filter.text.trim().toLowerCase().split(/\s+/).filter((word) => word !== '');
  if (words.length === 0) return true;
  const haystack = [entry.actor, entry.action, entry.target ?? '', entry.detail ?? ''].join('\n').toLowerCase();
  return words.every((word) => haystack.includes(word));
}

export function filterEvents(entries: readonly AuditEntry[], filter: EventFilter): AuditEntry[] {
  return entries.filter((entry) => matchesEvent(entry, filter));
}
