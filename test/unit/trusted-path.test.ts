// Paths another user controls are refused (main/fs/trusted-path.ts), by the file store and the token
// file too, and the store never follows a link planted among its files (issue 12: a root agent on
// `--store file:/tmp/evil/store --token-file /tmp/evil/token` truncated a root-owned file through a
// link in the store directory and accepted the planted token). Run as root, a "foreign" owner is a
// numeric uid without a passwd entry (chown); as another user, the same files are foreign to an agent
// said to run as that uid.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateToken } from '../../main/api/auth';
import { loadOrCreateToken } from '../../main/api/token';
import { checkTrustedPath, UntrustedPathError } from '../../main/fs/trusted-path';
import { FileStore } from '../../main/store/file-store';
import { exitCodeFor } from '../../main/cli/errors';
import { untrustedProgramProblems, untrustedProgramText } from '../../main/service/program-trust';
import { EXIT } from '../../main/cli/exit-codes';

const POSIX = process.platform !== 'win32';
const ROOT = process.getuid?.() === 0;
/** A uid with no passwd entry: "another user". */
const STRANGER = 42424;

let base: string;

before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'ipfo-trusted-')));
});

after(() => {
  rmSync(base, { recursive: true, force: true });
});

function fresh(name: string): string {
  const dir = join(base, name);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** Makes `path` another user's: chown as root, else the check is told the agent is STRANGER. */
function foreign(path: string, link = false): { uid?: number } {
  if (ROOT) {
    (link ? lchownSync : chownSync)(path, STRANGER, STRANGER);
    return {};
  }
  return { uid: STRANGER };
}

describe('checkTrustedPath', { skip: POSIX ? false : 'POSIX owners and modes (Windows: ACLs)' }, () => {
  test('a private directory of the agent\'s own is trusted, through a sticky /tmp; a missing tail is trusted up to its first missing part', () => {
    const dir = fresh('own');
    assert.equal(checkTrustedPath(dir).resolved, dir);
    const missing = checkTrustedPath(join(dir, 'a', 'b'));
    assert.equal(missing.stats, null);
    assert.equal(missing.resolved, join(dir, 'a', 'b'));
  });

  test('a directory (or file) writable by group or others is refused, a sticky one only above the path', () => {
    const dir = fresh('open');
    chmodSync(dir, 0o777);
    assert.throws(() => checkTrustedPath(join(dir, 'store')), (error: unknown) => error instanceof UntrustedPathError && /open is writable by group or others \(mode 0777\).*chmod go-w/.test(error.message));
    chmodSync(dir, 0o1777);
    assert.doesNotThrow(() => checkTrustedPath(join(dir, 'store')), 'sticky above: others cannot replace what is not theirs');
    assert.throws(() => checkTrustedPath(dir), /writable by group or others \(mode 1777\)/, 'sticky as the store itself: others could create its files');
    const file = join(fresh('files'), 'token');
    writeFileSync(file, 'x', { mode: 0o620 });
    chmodSync(file, 0o620);
    assert.throws(() => checkTrustedPath(file), /token is writable by group or others \(mode 0620\)/);
  });

  test('a directory above the path, or the path itself, that another user owns is refused', () => {
    const evil = fresh('evil');
    const store = join(evil, 'store');
    mkdirSync(store, { mode: 0o700 });
    const as = foreign(evil);
    assert.throws(() => checkTrustedPath(store, { ...as, label: '--store file:x' }), (error: unknown) => error instanceof UntrustedPathError && new RegExp(`--store file:x: ${evil} belongs to uid \\d+, not to root or the agent's user`).test(error.message));
    assert.equal(exitCodeFor(new UntrustedPathError(store, 'x')), EXIT.badInput, 'exit 2: the path is wrong, a restart cannot help');
    const own = fresh('own-dir-foreign-file');
    const token = join(own, 'token');
    writeFileSync(token, 'x', { mode: 0o600 });
    assert.throws(() => checkTrustedPath(token, foreign(token)), /token belongs to uid/);
  });

  test('symbolic links are followed only when root or the agent made them, and their targets are checked too', () => {
    const dir = fresh('links');
    const real = fresh('links-real');
    symlinkSync(real, join(dir, 'good'));
    assert.equal(checkTrustedPath(join(dir, 'good', 'x')).resolved, join(real, 'x'));
    symlinkSync('../links-real', join(dir, 'relative'));
    assert.equal(checkTrustedPath(join(dir, 'relative')).resolved, real);
    const open = fresh('links-open');
    chmodSync(open, 0o777);
    symlinkSync(open, join(dir, 'to-open'));
    assert.throws(() => checkTrustedPath(join(dir, 'to-open', 'store')), /links-open is writable by group or others/);
    symlinkSync(real, join(dir, 'planted'));
    assert.throws(() => checkTrustedPath(join(dir, 'planted'), foreign(join(dir, 'planted'), true)), /planted belongs to uid/);
    symlinkSync('loop', join(dir, 'loop'));
    assert.throws(() => checkTrustedPath(join(dir, 'loop')), /too many symbolic links/);
  });
});

describe('the file store and the token file refuse what others control', { skip: POSIX ? false : 'POSIX owners and modes' }, () => {
  test('a link planted in the store directory is never followed: the file it points to is neither read nor truncated', async () => {
    const dir = fresh('store-links');
    const victim = join(fresh('victim'), 'passwd');
    const text = 'root:x:0:0:root:/root:/bin/bash\n';
    writeFileSync(victim, text, { mode: 0o644 });
    symlinkSync(victim, join(dir, 'audit.jsonl'));
    await assert.rejects(FileStore.open({ dir }), /audit\.jsonl is a symbolic link/);
    assert.equal(readFileSync(victim, 'utf8'), text, 'the target of the link is intact (today: truncated to 0 bytes)');
    rmSync(join(dir, 'audit.jsonl'));
    symlinkSync(victim, join(dir, 'state.json'));
    await assert.rejects(FileStore.open({ dir }), /state\.json is a symbolic link/);
    assert.equal(readFileSync(victim, 'utf8'), text);
  });

  test('a store directory others may write, or inside one of theirs, is refused before anything is created', async () => {
    const open = fresh('store-open');
    chmodSync(open, 0o777);
    await assert.rejects(FileStore.open({ dir: open }), (error: unknown) => error instanceof UntrustedPathError && /--store file:.*store-open is writable by group or others/.test(error.message));
    if (ROOT) {
      const evil = fresh('store-evil');
      chownSync(evil, STRANGER, STRANGER);
      await assert.rejects(FileStore.open({ dir: join(evil, 'store') }), /store-evil belongs to uid 42424/);
      assert.throws(() => readFileSync(join(evil, 'store', 'lock')), /ENOENT/, 'nothing was created there');
    }
    const own = fresh('store-own');
    const store = await FileStore.open({ dir: join(own, 'store') });
    await store.close();
  });

  test('a token file another user planted (or in a directory of theirs) is refused; the agent\'s own is used', async () => {
    const evil = fresh('token-evil');
    const planted = generateToken();
    const file = join(evil, 'token');
    writeFileSync(file, `${planted}\n`, { mode: 0o600 });
    if (ROOT) {
      chownSync(file, STRANGER, STRANGER);
      await assert.rejects(loadOrCreateToken(file), /--token-file .*token-evil\/token: .*token-evil\/token belongs to uid 42424/);
      chownSync(file, 0, 0);
      chownSync(evil, STRANGER, STRANGER);
      await assert.rejects(loadOrCreateToken(file), /token-evil belongs to uid 42424/, 'root\'s file in a directory of theirs: they can swap it');
    }
    const open = fresh('token-open');
    chmodSync(open, 0o777);
    await assert.rejects(loadOrCreateToken(join(open, 'token')), /--token-file .*token-open is writable by group or others/);
    const own = fresh('token-own');
    const token = await loadOrCreateToken(join(own, 'token'));
    assert.equal(await loadOrCreateToken(join(own, 'token')), token);
  });
});

describe('the program a root service or the password prompt would run', { skip: POSIX ? false : 'POSIX owners and modes (Windows: ACLs)' }, () => {
  /** A tree like a checkout: bin/ipfo, build/, node_modules as a link to a directory elsewhere. */
  function tree(name: string): { appRoot: string; modules: string } {
    const appRoot = fresh(name);
    chmodSync(appRoot, 0o755);
    mkdirSync(join(appRoot, 'bin'));
    writeFileSync(join(appRoot, 'bin', 'ipfo'), '#!/usr/bin/env node\n', { mode: 0o755 });
    mkdirSync(join(appRoot, 'build', 'main'), { recursive: true });
    writeFileSync(join(appRoot, 'build', 'main', 'ipfo.js'), '', { mode: 0o644 });
    mkdirSync(join(appRoot, '.git'));
    writeFileSync(join(appRoot, '.git', 'config'), '', { mode: 0o666 });
    chmodSync(join(appRoot, '.git', 'config'), 0o666);
    const modules = fresh(`${name}-modules`);
    chmodSync(modules, 0o755);
    writeFileSync(join(modules, 'index.js'), '', { mode: 0o644 });
    symlinkSync(modules, join(appRoot, 'node_modules'));
    return { appRoot, modules };
  }
  const me = { uid: ROOT ? 0 : process.getuid!() };

  test('a tree only root (here: this user) can change passes; .git is not loaded and not looked at', () => {
    const { appRoot } = tree('program-good');
    assert.deepEqual(untrustedProgramProblems({ executable: process.execPath, appRoot }, me), []);
  });

  test('a file others may write, in the tree or behind one of its links, is named', () => {
    const { appRoot, modules } = tree('program-open');
    chmodSync(join(appRoot, 'build', 'main', 'ipfo.js'), 0o664);
    chmodSync(join(modules, 'index.js'), 0o646);
    const problems = untrustedProgramProblems({ executable: process.execPath, appRoot }, me);
    assert.deepEqual(problems, [`${join(appRoot, 'build', 'main', 'ipfo.js')} is writable by group or others (mode 0664)`, `${join(modules, 'index.js')} is writable by group or others (mode 0646)`]);
    assert.match(untrustedProgramText({ executable: process.execPath, appRoot }, problems, 'the service'), /^the service would run as root code that others can change \(.*\): install the package .*chown -R root:root /);
  });

  test('a checkout another user owns is refused at its root; a file of theirs inside root\'s tree is named', { skip: ROOT ? false : 'needs root (chown)' }, () => {
    const { appRoot } = tree('program-theirs');
    chownSync(appRoot, STRANGER, STRANGER);
    assert.deepEqual(untrustedProgramProblems({ executable: process.execPath, appRoot }), [`the installation ${appRoot}: ${appRoot} belongs to uid ${STRANGER}, not to root or the agent's user`]);
    chownSync(appRoot, 0, 0);
    chownSync(join(appRoot, 'bin', 'ipfo'), STRANGER, STRANGER);
    assert.deepEqual(untrustedProgramProblems({ executable: process.execPath, appRoot }), [`${join(appRoot, 'bin', 'ipfo')} belongs to uid ${STRANGER}`]);
    assert.match(untrustedProgramProblems({ executable: join(appRoot, 'bin', 'ipfo'), appRoot })[0]!, /^the runtime .*belongs to uid 42424/);
  });

  test('the walk stops after `limit` problems', () => {
    const { appRoot } = tree('program-many');
    for (let i = 0; i < 8; i += 1) {
      writeFileSync(join(appRoot, 'build', `f${i}.js`), '', { mode: 0o666 });
      chmodSync(join(appRoot, 'build', `f${i}.js`), 0o666);
    }
    assert.equal(untrustedProgramProblems({ executable: process.execPath, appRoot }, { ...me, limit: 3 }).length, 3);
  });
});
