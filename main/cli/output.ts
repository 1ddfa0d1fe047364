// How the CLI talks: one JSON object per line with --json (for scripts), short lines for people.
export interface Output {
  /** A record: printed as JSON with --json, else through `human`. */
  record(object: Record<string, unknown>, human: string): void;
  /** A message for people only (stderr with --json so that stdout stays parseable). */
  note(text: string): void;
}

export function createOutput(json: boolean, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Output {
  return {
    record(object, human) {
      write(json ? JSON.stringify(object) : human);
    },
    note(text) {
      if (json) process.stderr.write(`${text}\n`);
      else write(text);
    },
  };
}

/** ISO time for a wall-clock millisecond timestamp. */
export const isoTime = (epochMs: number): string => new Date(epochMs).toISOString();
