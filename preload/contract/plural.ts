// Counts with their noun, as English reads them: "0 resources", "1 resource", "1,000 addresses". One
// helper for the console and the CLI, so no place writes "1 resources" again: Intl.PluralRules picks
// the form, and the plural of every noun the UI counts is spelled out here (English has irregular ones).
const RULES = new Intl.PluralRules('en');

/** Every counted noun, singular → plural. */
const PLURALS = {
  address: 'addresses',
  conflict: 'conflicts',
  event: 'events',
  'failover mark': 'failover marks',
  frame: 'frames',
  node: 'nodes',
  owner: 'owners',
  pass: 'passes',
  resource: 'resources',
  station: 'stations',
  'store record': 'store records',
  hook: 'hooks',
} as const;

export type CountedNoun = keyof typeof PLURALS;
export const COUNTED_NOUNS = Object.keys(PLURALS) as readonly CountedNoun[];

/** "1,234" with a plain comma, whatever the locale (stable in screenshots, tests and scripts). */
export function formatCount(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The noun alone in the form `count` takes: "resource" for 1, "resources" for 0, 2, 1,000. */
export function nounFor(count: number, noun: CountedNoun): string {
  return RULES.select(count) === 'one' ? noun : PLURALS[noun];
}

/** "1 resource", "2 resources", "1,000 resources". */
export function plural(count: number, noun: CountedNoun): string {
  return `${formatCount(count)} ${nounFor(count, noun)}`;
}
