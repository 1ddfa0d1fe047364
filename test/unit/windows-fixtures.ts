// Shared by the windows-*.test.ts files: hostile interface aliases, the recorded outputs in
// fixtures/windows/, and a CommandLineToArgvW parser to check what a Windows program would receive.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const FIXTURES = resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures', 'windows');

/** A recorded output, as the bytes were saved (UTF-8, some with a BOM, CRLF). */
export function fixture(name: string): string {
  return readFileSync(resolve(FIXTURES, name), 'utf8');
}

/** Aliases Windows lets an administrator set, each one a trap for some quoting scheme. */
export const HOSTILE_ALIASES: readonly string[] = [
  'Ethernet 2',
  `Büro "LAN" 'A'`,
  'C:\\Temp\\"x',
  '%PATH% ^&|<> !x!',
  'Ethernet – Büro',
  '以太网',
  'trailing\\',
  'Wi‘Fi’ ‚x‛',
  '[vEthernet] (Default Switch)',
  '"',
  '\\\\"\\',
  ' leading and trailing ',
  '$(Remove-Item C:\\*) `whoami` ; & calc',
  "'; Remove-NetIPAddress -Confirm:$false; '",
  'tab\there',
  '🦊 fox',
];

/**
 * How a Windows program splits its command line (CommandLineToArgvW / the MSVCRT startup code,
 * as documented in "Parsing C++ command-line arguments"): the program name ends at the next quote
 * if it starts with one, else at white space, with no escapes; after it, arguments are separated by
 * space or tab outside quotes; 2n backslashes + `"` give n backslashes and toggle quoting; 2n+1
 * backslashes + `"` give n backslashes and a literal `"`; backslashes not before `"` are literal;
 * `""` inside quotes is a literal `"` (MSVCRT since 2008).
 */
export function commandLineToArgv(line: string): string[] {
  const argv: string[] = [];
  let i = 0;
  let program = '';
  if (line.startsWith('"')) {
    const end = line.indexOf('"', 1);
    program = end < 0 ? line.slice(1) : line.slice(1, end);
    i = end < 0 ? line.length : end + 1;
  } else {
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') program += line[i++];
  }
  argv.push(program);
  for (;;) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= line.length) break;
    let arg = '';
    let quoted = false;
    while (i < line.length) {
      const c = line[i]!;
      if (!quoted && (c === ' ' || c === '\t')) break;
      if (c === '\\') {
        let count = 0;
        while (line[i] === '\\') {
          count++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(count / 2));
          if (count % 2 === 1) {
            arg += '"';
            i++;
          }
        } else {
          arg += '\\'.repeat(count);
        }
        continue;
      }
      if (c === '"') {
        if (quoted && line[i + 1] === '"') {
          arg += '"';
          i += 2;
          continue;
        }
        quoted = !quoted;
        i++;
        continue;
      }
      arg += c;
      i++;
    }
    argv.push(arg);
  }
  return argv;
}

