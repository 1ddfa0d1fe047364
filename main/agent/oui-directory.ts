// The shipped OUI vendor table (resources/oui/oui.tsv, "AABBCC<TAB>Vendor" per line, made by
// scripts/gen-oui.ts from the IEEE registry), read once, on the first lookup that needs it, so a
// watch that never shows vendors never pays the ~1 MB read.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseOuiTable, vendorLookup, type VendorLookup } from '../watch/oui';

/** Compiled to build/main/agent/oui-directory.js; resources/ sits at the package root, three levels up. */
export const DEFAULT_OUI_PATH = resolve(__dirname, '..', '..', '..', 'resources', 'oui', 'oui.tsv');

export class OuiDirectory {
  private table: Map<number, string> | null = null;

  constructor(private readonly path: string = DEFAULT_OUI_PATH) {}

  /** See vendorLookup; throws on the first lookup that needs the table if it cannot be read. */
  readonly vendorOf: VendorLookup = vendorLookup(() => this.load());

  /** Number of vendor entries (loads the table). */
  get size(): number {
    return this.load().size;
  }

  private load(): Map<number, string> {
    if (this.table === null) {
      let text: string;
      try {
        text = readFileSync(this.path, 'utf8');
      } catch (error) {
        throw new Error(`OUI vendor table not readable at ${this.path} (regenerate with scripts/gen-oui.ts)`, { cause: error });
      }
      this.table = parseOuiTable(text);
    }
    return this.table;
  }
}

let shared: OuiDirectory | null = null;

/** The packaged table, shared by every tracker in the process. */
export function defaultOuiDirectory(): OuiDirectory {
  return (shared ??= new OuiDirectory());
}
