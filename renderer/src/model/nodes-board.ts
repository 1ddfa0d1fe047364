// The Nodes view's columns: every node with the resources it holds, plus the resources nobody holds.
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import { compareIpAddresses } from '../../../preload/contract/ip-address';
import { matchesResource, parseResourceQuery } from './resource-table';

export interface NodeColumn {
  node: NodeRecord;
  resources: ResourceView[];
}

export interface Board {
  columns: NodeColumn[];
  /** Resources with no owner (offline, failed, or owned by a node the cluster no longer lists). */
  unowned: ResourceView[];
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function buildBoard(nodes: Iterable<NodeRecord>, resources: Iterable<ResourceView>, filterText = ''): Board {
  const query = parseResourceQuery(filterText);
  const columns = [...nodes].sort((a, b) => compareNames(a.name, b.name)).map((node) => ({ node, resources: [] as ResourceView[] }));
  const byName = new Map(columns.map((column) => [column.node.name, column]));
  const unowned: ResourceView[] = [];
  for (const resource of resources) {
    if (query.terms.length > 0 && !matchesResource(resource, query)) continue;
    const owner = resource.status.owner;
    const column = owner === null ? undefined : byName.get(owner);
    if (column === undefined) unowned.push(resource);
    else column.resources.push(resource);
  }
  const byAddress = (a: ResourceView, b: ResourceView): number => compareIpAddresses(a.ip, b.ip) || compareNames(a.name, b.name);
  for (const column of columns) column.resources.sort(byAddress);
  unowned.sort(byAddress);
  return { columns, unowned };
}

/** A card on the board: an address alone, or the members of one group a column holds (they drag as one). */
export type BoardCard = { kind: 'resource'; resource: ResourceView } | { kind: 'group'; name: string; members: ResourceView[] };

/**
 * A column's cards: its resources in their order, the members of each group gathered into one group
 * card at the place of the first of them. A split group has a card in each column holding members.
 */
export function boardCards(resources: readonly ResourceView[]): BoardCard[] {
  const cards: BoardCard[] = [];
  const groups = new Map<string, ResourceView[]>();
  for (const resource of resources) {
    const group = resource.group;
    if (group === undefined) {
      cards.push({ kind: 'resource', resource });
      continue;
    }
    const members = groups.get(group);
    if (members !== undefined) {
      members.push(resource);
      continue;
    }
    const card = { kind: 'group' as const, name: group, members: [resource] };
    groups.set(group, card.members);
    cards.push(card);
  }
  return cards;
}

/**
 * The first `max` cards of a column and how many addresses the rest hold: cards, not addresses, are
 * limited, so a group's card always lists every member the column holds.
 */
export function limitCards(cards: readonly BoardCard[], max: number): { shown: BoardCard[]; hiddenAddresses: number } {
  const shown = cards.slice(0, max);
  let hiddenAddresses = 0;
  for (const card of cards.slice(max)) hiddenAddresses += card.kind === 'group' ? card.members.length : 1;
  return { shown, hiddenAddresses };
}
