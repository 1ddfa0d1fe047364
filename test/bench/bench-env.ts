// BENCH_* settings read from the environment, shared by the benchmark scripts: a bad value stops the
// run at once with the setting's name, rather than a long run on a setting nobody asked for.

export function intEnv(name: string, fallback: number, min = 1): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${text}"`);
  return value;
}

/** A comma list of names out of `known`, in `known`'s order; unset or empty: all of them. */
export function choiceListEnv<T extends string>(name: string, known: readonly T[]): T[] {
  const text = process.env[name];
  if (text === undefined || text === '') return [...known];
  const wanted = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = wanted.filter((w) => !(known as readonly string[]).includes(w));
  if (unknown.length > 0) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return known.filter((s) => wanted.includes(s));
}
