// main/net/windows/quote.ts: the command line Node builds on Windows, checked against a
// CommandLineToArgvW parser (windows-fixtures.ts) and against a literal port of libuv's quote_cmd_arg.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { quoteWindowsArg, windowsArgProblem, windowsCommandLine } from '../../main/net/windows/quote';
import { commandLineToArgv, HOSTILE_ALIASES } from './windows-fixtures';
import { seededRandom } from '../seeded-random';

/** libuv src/win/process.c quote_cmd_arg, ported line by line (it builds the string reversed). */
function libuvQuote(source: string): string {
  if (source.length === 0) return '""';
  if (!/[ \t"]/.test(source)) return source;
  if (!/["\\]/.test(source)) return `"${source}"`;
  const reversed: string[] = [];
  let quoteHit = true;
  for (let i = source.length; i > 0; --i) {
    const c = source[i - 1]!;
    reversed.push(c);
    if (quoteHit && c === '\\') {
      reversed.push('\\');
    } else if (c === '"') {
      quoteHit = true;
      reversed.push('\\');
    } else {
      quoteHit = false;
    }
  }
  return `"${reversed.reverse().join('')}"`;
}

const PROGRAM = 'C:\\Windows\\System32\\netsh.exe';

function roundTrip(args: readonly string[]): void {
  const line = windowsCommandLine(PROGRAM, args);
  assert.deepEqual(commandLineToArgv(line), [PROGRAM, ...args], `command line ${JSON.stringify(line)}`);
}

describe('quoteWindowsArg', () => {
  test('the vectors in libuv quote_cmd_arg comments', () => {
    const vectors: [string, string][] = [
      ['hello"world', '"hello\\"world"'],
      ['hello""world', '"hello\\"\\"world"'],
      ['hello\\world', 'hello\\world'],
      ['hello\\\\world', 'hello\\\\world'],
      ['hello\\"world', '"hello\\\\\\"world"'],
      ['hello\\\\"world', '"hello\\\\\\\\\\"world"'],
      ['hello world\\', '"hello world\\\\"'],
      ['', '""'],
      ['a b', '"a b"'],
      ['name=Ethernet 2', '"name=Ethernet 2"'],
      ['name=%PATH%^&|<>', 'name=%PATH%^&|<>'],
      ['trailing\\', 'trailing\\'],
    ];
    for (const [arg, quoted] of vectors) {
      assert.equal(quoteWindowsArg(arg), quoted, JSON.stringify(arg));
      assert.equal(libuvQuote(arg), quoted, `port of libuv: ${JSON.stringify(arg)}`);
    }
  });

  test('hostile aliases survive the round trip, alone, as name=<alias>, and all together', () => {
    for (const alias of HOSTILE_ALIASES) {
      roundTrip([alias]);
      roundTrip(['interface', 'ipv4', 'add', 'address', `name=${alias}`, 'address=10.0.0.5']);
      assert.equal(quoteWindowsArg(alias), libuvQuote(alias));
    }
    roundTrip(HOSTILE_ALIASES);
    roundTrip(['', '', 'x', '']);
  });

  test('a trailing backslash inside quotes is doubled, so it cannot escape the closing quote', () => {
    assert.equal(windowsCommandLine(PROGRAM, ['name=a b\\', 'next']), `${PROGRAM} "name=a b\\\\" next`);
    assert.deepEqual(commandLineToArgv(`${PROGRAM} "name=a b\\\\" next`), [PROGRAM, 'name=a b\\', 'next']);
  });

  test('seeded fuzz: 20,000 random vectors round-trip and agree with the libuv port', () => {
    const alphabet = [' ', '\t', '"', '\\', '\\', 'a', 'Z', '=', 'é', '以', '🦊', '%', '^', '&', '|', '<', '>', "'", '‘', '’', '\n', '$', '`'];
    const random = seededRandom(0x1ad5eed);
    for (let round = 0; round < 20_000; round++) {
      const count = 1 + Math.floor(random() * 4);
      const args: string[] = [];
      for (let a = 0; a < count; a++) {
        const length = Math.floor(random() * 12);
        let arg = '';
        for (let c = 0; c < length; c++) arg += alphabet[Math.floor(random() * alphabet.length)]!;
        args.push(arg);
        assert.equal(quoteWindowsArg(arg), libuvQuote(arg), `seed round ${round}: ${JSON.stringify(arg)}`);
      }
      roundTrip(args);
    }
  });
});

describe('windowsArgProblem', () => {
  test('accepts every hostile alias, refuses NUL and lone surrogates with the reason', () => {
    for (const alias of HOSTILE_ALIASES) assert.equal(windowsArgProblem(alias), null, alias);
    assert.match(windowsArgProblem('a\0b') ?? '', /NUL/);
    assert.match(windowsArgProblem('a\ud800b') ?? '', /lone UTF-16 surrogate/);
    assert.match(windowsArgProblem('b\udc00') ?? '', /lone UTF-16 surrogate/);
    assert.equal(windowsArgProblem('🦊'), null);
  });
});
