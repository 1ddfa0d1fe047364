// What `npm start` does (main/console/start-decision.ts), how it finds the Electron binary without
// triggering the electron package's download (electron-binary.ts), and the local agent's settings
// (local-agent.ts).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { electronPackageDir, findElectronBinary } from '../../main/console/electron-binary';
import { localAgentSettings, localNodeName } from '../../main/console/local-agent';
import {
  decideStart,
  ELECTRON_AS_ROOT_REASON,
  ELECTRON_MISSING_REASON,
  hasDisplay,
  NO_DISPLAY_REASON,
  type StartFacts,
} from '../../main/console/start-decision';

const scratch = mkdtempSync(join(tmpdir(), 'ipfo-start-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('decideStart', () => {
  test('every combination of the four facts', () => {
    const seen = new Set<string>();
    for (const electronInstalled of [false, true]) {
      for (const display of [false, true]) {
        for (const agentAnswers of [false, true]) {
          for (const isRoot of [false, true]) {
            const facts: StartFacts = { electronInstalled, display, agentAnswers, isRoot };
            const decision = decideStart(facts);
            const label = JSON.stringify(facts);
            seen.add(decision.kind);
            if (electronInstalled && display && !isRoot) {
              assert.deepEqual(decision, { kind: 'electron' }, label);
              continue;
            }
            assert.ok(decision.kind !== 'electron', label);
            assert.match(decision.why, /; serving the web console instead$/, label);
            assert.doesNotMatch(decision.why, /\n/, 'one line');
            if (agentAnswers) assert.equal(decision.kind, 'show-web-console', label);
            else if (isRoot) assert.equal(decision.kind, 'start-agent', label);
            else assert.deepEqual(decision, { kind: 'need-root', why: decision.why, exitCode: 4 }, label);
          }
        }
      }
    }
    assert.deepEqual([...seen].sort(), ['electron', 'need-root', 'show-web-console', 'start-agent']);
  });

  test('the reason names the first blocker: a missing binary, then root, then the display', () => {
    const why = (facts: StartFacts): string => {
      const decision = decideStart(facts);
      return decision.kind === 'electron' ? '' : decision.why;
    };
    assert.ok(why({ electronInstalled: false, display: false, agentAnswers: false, isRoot: true }).startsWith(ELECTRON_MISSING_REASON));
    assert.ok(why({ electronInstalled: true, display: true, agentAnswers: false, isRoot: true }).startsWith(ELECTRON_AS_ROOT_REASON));
    assert.ok(why({ electronInstalled: true, display: false, agentAnswers: true, isRoot: false }).startsWith(NO_DISPLAY_REASON));
    assert.match(ELECTRON_MISSING_REASON, /github\.com/);
  });

  test('a display is DISPLAY or WAYLAND_DISPLAY on Linux; Windows and macOS always have one', () => {
    assert.equal(hasDisplay('linux', {}), false);
    assert.equal(hasDisplay('linux', { DISPLAY: '' }), false);
    assert.equal(hasDisplay('linux', { DISPLAY: ':0' }), true);
    assert.equal(hasDisplay('linux', { WAYLAND_DISPLAY: 'wayland-0' }), true);
    assert.equal(hasDisplay('win32', {}), true);
    assert.equal(hasDisplay('darwin', {}), true);
  });
});

describe('findElectronBinary', () => {
  function fakePackage(name: string, options: { pathTxt?: string; binary?: boolean }): string {
    const directory = join(scratch, name);
    mkdirSync(join(directory, 'dist'), { recursive: true });
    if (options.pathTxt !== undefined) writeFileSync(join(directory, 'path.txt'), options.pathTxt);
    if (options.binary === true) {
      writeFileSync(join(directory, 'dist', 'electron'), '#!/bin/sh\n');
      chmodSync(join(directory, 'dist', 'electron'), 0o755);
    }
    return directory;
  }

  test('no package, no path.txt, or a missing binary: not installed, with the reason', () => {
    assert.equal(findElectronBinary(null, {}).installed, false);
    const noPath = findElectronBinary(fakePackage('no-path', {}), {});
    assert.ok(!noPath.installed && /path\.txt/.test(noPath.reason));
    const noBinary = findElectronBinary(fakePackage('no-binary', { pathTxt: 'electron' }), {});
    assert.ok(!noBinary.installed && /missing/.test(noBinary.reason));
  });

  test('an executable binary where path.txt says, or under ELECTRON_OVERRIDE_DIST_PATH', () => {
    const directory = fakePackage('installed', { pathTxt: 'electron\n', binary: true });
    assert.deepEqual(findElectronBinary(directory, {}), { installed: true, path: join(directory, 'dist', 'electron') });
    const override = fakePackage('override', { binary: true });
    assert.deepEqual(findElectronBinary(fakePackage('empty', {}), { ELECTRON_OVERRIDE_DIST_PATH: join(override, 'dist') }), {
      installed: true,
      path: join(override, 'dist', 'electron'),
    });
  });

  test('this checkout: answered without running the electron package\'s installer', () => {
    // require('electron') would download a missing binary from github.com and write path.txt and dist/.
    const packageDir = electronPackageDir();
    const before = packageDir === null ? [] : readdirSync(packageDir).sort();
    const found = findElectronBinary();
    assert.deepEqual(packageDir === null ? [] : readdirSync(packageDir).sort(), before, 'the package directory is unchanged');
    assert.equal(found.installed, packageDir !== null && existsSync(join(packageDir, 'dist')));
  });
});

describe('the local agent\'s settings', () => {
  test('defaults are the agent\'s own', () => {
    assert.deepEqual(localAgentSettings({}, 'desk-1.example.net'), {
      ok: true,
      settings: { host: '127.0.0.1', port: 7790, tokenFile: '/var/lib/ipfo/token', storeDir: '/var/lib/ipfo/store', node: 'desk-1.example.net' },
    });
  });

  test('overrides for tests: loopback API only, paths fit for the elevated command', () => {
    const parsed = localAgentSettings({ IPFO_CONSOLE_API: '127.0.0.1:17790', IPFO_CONSOLE_TOKEN_FILE: '/tmp/t/token', IPFO_CONSOLE_STORE_DIR: '/tmp/t/store' }, 'h');
    assert.ok(parsed.ok && parsed.settings.port === 17790 && parsed.settings.tokenFile === '/tmp/t/token');
    for (const env of [
      { IPFO_CONSOLE_API: '0.0.0.0:7790' },
      { IPFO_CONSOLE_API: '10.213.0.1:7790' },
      { IPFO_CONSOLE_API: '127.0.0.1:99999' },
      { IPFO_CONSOLE_API: '127.0.0.1' },
      { IPFO_CONSOLE_TOKEN_FILE: '/tmp/$(id)/token' },
      { IPFO_CONSOLE_STORE_DIR: 'relative/store' },
    ]) {
      assert.equal(localAgentSettings(env, 'h').ok, false, JSON.stringify(env));
    }
  });

  test('the node name is the host name when valid, else its first label, else "local"', () => {
    assert.equal(localNodeName('desk-1'), 'desk-1');
    assert.equal(localNodeName('desk-1.example.net'), 'desk-1.example.net');
    assert.equal(localNodeName('best'), 'local');
    assert.equal(localNodeName('pc_jörg.lan'), 'local');
    assert.equal(localNodeName(`${'a'.repeat(70)}.example`), 'local');
  });
});
