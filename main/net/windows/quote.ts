// How an argument vector becomes a Windows command line. Pure.
//
// Windows has no argv at the system level: CreateProcessW takes ONE command line string and the child
// splits it again (MSVCRT's startup code, or CommandLineToArgvW; the same rules for every argument after
// the program name). Node (libuv, src/win/process.c: make_program_args + quote_cmd_arg) does the joining
// when `windowsVerbatimArguments` is false, which is the default for execFile/spawn without a shell:
//
//   - an empty argument becomes "";
//   - an argument with no space, tab or double quote is copied as it is (backslashes are literal there);
//   - an argument with space/tab but no quote and no backslash is wrapped in double quotes;
//   - otherwise it is wrapped in double quotes, every `"` gets a backslash, and every run of backslashes
//     that precedes a `"` or the closing quote is doubled (so "C:\dir\" stays a trailing backslash).
//
// `quoteWindowsArg` is exactly that algorithm, so `windowsCommandLine` is the string CreateProcessW gets
// from execFile(file, args). The backend lets Node do the quoting (no windowsVerbatimArguments: one
// implementation in production, not two); this copy exists to show in logs what runs and to prove, in
// test/unit/windows-quote.test.ts, that every argument survives the child's parse unchanged (hostile
// names and a seeded fuzz through a CommandLineToArgvW parser written from its documentation).
//
// What no quoting can carry: NUL (ends the string) and lone UTF-16 surrogates (libuv converts our UTF-8
// to UTF-16 and would turn them into U+FFFD). `windowsArgProblem` names those so callers refuse them.
// No cmd.exe is ever involved (no `shell: true`), so %VAR%, ^, &, |, <, > and ! mean nothing here.

/** libuv's quote_cmd_arg: the quoting Node applies to each argument on Windows. */
export function quoteWindowsArg(arg: string): string {
  if (arg.length === 0) return '""';
  if (!/[ \t"]/.test(arg)) return arg;
  if (!/["\\]/.test(arg)) return `"${arg}"`;
  let out = '"';
  let backslashes = 0;
  for (const char of arg) {
    if (char === '\\') {
      backslashes++;
      continue;
    }
    if (char === '"') {
      // 2n+1 backslashes then `"` read back as n backslashes and a literal quote.
      out += '\\'.repeat(backslashes * 2 + 1) + '"';
    } else {
      out += '\\'.repeat(backslashes) + char;
    }
    backslashes = 0;
  }
  // Backslashes before the closing quote are doubled so that they do not escape it.
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

/** The command line Node passes to CreateProcessW for execFile(file, args) on Windows. */
export function windowsCommandLine(file: string, args: readonly string[]): string {
  return [file, ...args].map(quoteWindowsArg).join(' ');
}

/** Why `arg` cannot reach a Windows program unchanged, or null. */
export function windowsArgProblem(arg: string): string | null {
  if (typeof arg !== 'string') return 'is not a string';
  if (arg.includes('\0')) return 'contains NUL, which cannot be part of a Windows command line or environment';
  if (/\p{Cs}/u.test(arg)) return 'contains a lone UTF-16 surrogate, which cannot be converted to UTF-8 and back';
  return null;
}
