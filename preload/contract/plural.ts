// Counted nouns, said right: "1 resource", "2 resources", "1,000 addresses". One helper for the
// console and the CLI, so no screen says "1 resources" (Intl.PluralRules: the same in Node and the browser).
const PLURAL_RULES = new Intl.PluralRules('en-US');
const NUMBERS = new Intl.NumberFormat('en-US');

/** Every noun the console and the CLI count, with its plural. */
export const COUNTED_NOUNS = {
  resource: 'resources',
  address: 'addresses',
  node: 'nodes',
  conflict: 'conflicts',
  frame: 'frames',
  station: 'stations',
  user: 'users',
  entry: 'entries',
} as const;
export type CountedNoun = keyof typeof COUNTED_NOUNS;

/** The noun for `count` ("address" or "addresses"). */
export function nounFor(count: number, noun: CountedNoun): string {
  return PLURAL_RULES.select(count) === 'one' ? noun : COUNTED_NOUNS[noun];
}

/** "1 resource", "0 resources", "1,000 addresses". */
export function counted(count: number, noun: CountedNoun): string {
  return `${NUMBERS.format(count)} ${nounFor(count, noun)}`;
}
