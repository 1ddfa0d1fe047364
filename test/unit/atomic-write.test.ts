// main/fs/atomic-write.ts on a real file system: content and exact modes whatever the umask, parent
// directories with the asked mode, no temp file left after success or failure, the old content intact
// until the rename, fsync before the rename and of the directory after it, exclusive creation.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, afterEach, describe, mock, test } from 'node:test';
import { TEMP_MARK, createFileAtomically, replaceFileAtomically } from '../../main/fs/atomic-write';

const scratch = mkdtempSync(join(tmpdir(), 'ipfo-atomic-write-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => mock.restoreAll());

let counter = 0;
/** A fresh, empty directory for one case. */
function freshDir(): string {
  counter += 1;
  const dir = join(scratch, `case-${counter}`);
  mkdirSync(dir);
  return dir;
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

async function withUmask<T>(umask: number, run: () => Promise<T>): Promise<T> {
  const previous = process.umask(umask);
  try {
    return await run();
  } finally {
    process.umask(previous);
  }
}

/** Records the order of fsyncs, renames and links (the real calls still run unless `fail` says otherwise). */
async function traceDurability(fail: { sync?: () => Error; rename?: (from: string, to: string) => Error; link?: () => Error } = {}): Promise<string[]> {
  const trace: string[] = [];
  const probe = await fsPromises.open(join(scratch, 'probe'), 'w');
  const handlePrototype = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const realSync = handlePrototype.sync;
  mock.method(handlePrototype, 'sync', async function (this: fsPromises.FileHandle) {
    trace.push('sync');
    if (fail.sync !== undefined) throw fail.sync();
    return realSync.call(this);
  });
  const realRename = fsPromises.rename;
  mock.method(fsPromises, 'rename', async (from: string, to: string) => {
    trace.push('rename');
    if (fail.rename !== undefined) throw fail.rename(from, to);
    return realRename(from, to);
  });
  const realLink = fsPromises.link;
  mock.method(fsPromises, 'link', async (from: string, to: string) => {
    trace.push('link');
    if (fail.link !== undefined) throw fail.link();
    return realLink(from, to);
  });
  return trace;
}

describe('replaceFileAtomically', () => {
  test('writes the content with exactly the asked mode, whatever the umask, and leaves no temp file', async () => {
    const dir = freshDir();
    await withUmask(0o000, () => replaceFileAtomically(join(dir, 'private'), 'secret\n', { mode: 0o600 }));
    assert.equal(readFileSync(join(dir, 'private'), 'utf8'), 'secret\n');
    assert.equal(modeOf(join(dir, 'private')), 0o600, 'a permissive umask does not open up 0600');
    await withUmask(0o077, () => replaceFileAtomically(join(dir, 'public'), Buffer.from([0, 1, 2, 255]), { mode: 0o644 }));
    assert.deepEqual(readFileSync(join(dir, 'public')), Buffer.from([0, 1, 2, 255]));
    assert.equal(modeOf(join(dir, 'public')), 0o644, 'a strict umask does not narrow 0644');
    assert.deepEqual(readdirSync(dir).sort(), ['private', 'public']);
  });

  test('replaces an existing file with a new one (a new inode, the new mode), not by writing into it', async () => {
    const dir = freshDir();
    const file = join(dir, 'state.json');
    writeFileSync(file, 'old content that is longer than the new one', { mode: 0o644 });
    const before = statSync(file).ino;
    await replaceFileAtomically(file, 'new', { mode: 0o600 });
    assert.equal(readFileSync(file, 'utf8'), 'new');
    assert.notEqual(statSync(file).ino, before, 'renamed over, not rewritten in place');
    assert.equal(modeOf(file), 0o600);
    assert.deepEqual(readdirSync(dir), ['state.json']);
  });

  test('fsyncs the complete temp file before the rename and the directory after it', async () => {
    const dir = freshDir();
    const file = join(dir, 'state.json');
    writeFileSync(file, 'old');
    const trace = await traceDurability();
    await replaceFileAtomically(file, 'new', { mode: 0o600 });
    assert.deepEqual(trace, ['sync', 'rename', 'sync']);
    assert.equal(readFileSync(file, 'utf8'), 'new');
  });

  test('a rename that fails keeps the old content whole and removes the temp file; the error is the rename\'s', async () => {
    const dir = freshDir();
    const file = join(dir, 'state.json');
    writeFileSync(file, 'old content', { mode: 0o600 });
    let seen: { temp: string; tempContent: string; targetContent: string } | undefined;
    await traceDurability({
      rename: (from) => {
        // The moment before the switch: the new content is complete in the temp file, the target untouched.
        seen = { temp: from, tempContent: readFileSync(from, 'utf8'), targetContent: readFileSync(file, 'utf8') };
        return Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO', syscall: 'rename' });
      },
    });
    await assert.rejects(replaceFileAtomically(file, 'new content', { mode: 0o600 }), { code: 'EIO', syscall: 'rename' });
    assert.ok(seen !== undefined, 'the rename was reached');
    assert.equal(seen.tempContent, 'new content');
    assert.equal(seen.targetContent, 'old content');
    assert.equal(dirname(seen.temp), dir, 'the temp file is in the target\'s directory (a rename within one file system)');
    assert.ok(basename(seen.temp).includes(TEMP_MARK), 'a temp file left by a crash can be recognized');
    assert.equal(readFileSync(file, 'utf8'), 'old content');
    assert.deepEqual(readdirSync(dir), ['state.json'], 'no temp file left behind');
  });

  test('an fsync of the temp file that fails: that error, the old content, no temp file, no rename', async () => {
    const dir = freshDir();
    const file = join(dir, 'state.json');
    writeFileSync(file, 'old content', { mode: 0o600 });
    const trace = await traceDurability({ sync: () => Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', syscall: 'fsync' }) });
    await assert.rejects(replaceFileAtomically(file, 'new content', { mode: 0o600 }), { code: 'EIO', syscall: 'fsync' });
    assert.deepEqual(trace, ['sync'], 'never renamed');
    assert.equal(readFileSync(file, 'utf8'), 'old content');
    assert.deepEqual(readdirSync(dir), ['state.json'], 'no temp file left behind');
  });

  test('a target that is a directory: the rename fails, the directory keeps its content, no temp file', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'target'));
    writeFileSync(join(dir, 'target', 'keep'), 'old');
    await assert.rejects(replaceFileAtomically(join(dir, 'target'), 'new', { mode: 0o600 }), { syscall: 'rename' });
    assert.equal(readFileSync(join(dir, 'target', 'keep'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['target']);
  });

  test('a directory it may not write to: EACCES, the old file intact, nothing added', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'state.json'), 'old');
    if (process.getuid?.() === 0) {
      // Root writes anywhere: try as nobody (the scratch path must be searchable for that).
      chmodSync(scratch, 0o755);
      chmodSync(dir, 0o755);
      const helper = join(__dirname, '..', '..', 'main', 'fs', 'atomic-write.js');
      const script = `require(${JSON.stringify(helper)}).replaceFileAtomically(${JSON.stringify(join(dir, 'state.json'))}, 'new', { mode: 0o600 })
        .then(() => console.log('written'), (error) => console.log(error.code))`;
      const output = execFileSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
      assert.equal(output.trim(), 'EACCES');
    } else {
      chmodSync(dir, 0o555);
      try {
        await assert.rejects(replaceFileAtomically(join(dir, 'state.json'), 'new', { mode: 0o600 }), { code: 'EACCES' });
      } finally {
        chmodSync(dir, 0o755);
      }
    }
    assert.equal(readFileSync(join(dir, 'state.json'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['state.json']);
  });

  test('a reader never sees a partial file while it is replaced again and again', async () => {
    const dir = freshDir();
    const file = join(dir, 'big.json');
    const versions = ['a', 'b'].map((letter) => letter.repeat(512 * 1024));
    await replaceFileAtomically(file, versions[0]!, { mode: 0o600 });
    let writing = true;
    const writer = (async () => {
      try {
        for (let round = 1; round <= 30; round += 1) await replaceFileAtomically(file, versions[round % 2]!, { mode: 0o600 });
      } finally {
        writing = false;
      }
    })();
    let reads = 0;
    while (writing) {
      const text = await fsPromises.readFile(file, 'utf8');
      assert.ok(text === versions[0] || text === versions[1], `read ${text.length} bytes: a partial or mixed file`);
      reads += 1;
    }
    await writer;
    assert.ok(reads > 0);
    assert.equal(readFileSync(file, 'utf8'), versions[0]);
    assert.deepEqual(readdirSync(dir), ['big.json']);
  });

  test('creates missing parent directories with exactly the asked mode, and leaves an existing one alone', async () => {
    const dir = freshDir();
    chmodSync(dir, 0o711);
    const file = join(dir, 'a', 'b', 'c', 'connections.json');
    await withUmask(0o022, () => replaceFileAtomically(file, '{}\n', { mode: 0o600, directoryMode: 0o700 }));
    for (const created of [join(dir, 'a'), join(dir, 'a', 'b'), join(dir, 'a', 'b', 'c')]) assert.equal(modeOf(created), 0o700, created);
    assert.equal(modeOf(dir), 0o711, 'an existing directory keeps its mode');
    assert.equal(modeOf(file), 0o600);
    assert.equal(readFileSync(file, 'utf8'), '{}\n');

    const unit = join(dir, 'etc', 'systemd', 'system', 'ipfo-agent.service');
    await withUmask(0o077, () => replaceFileAtomically(unit, '[Unit]\n', { mode: 0o644, directoryMode: 0o755 }));
    assert.equal(modeOf(join(dir, 'etc')), 0o755, 'a strict umask does not narrow the directory mode');
    assert.equal(modeOf(join(dir, 'etc', 'systemd', 'system')), 0o755);
    assert.equal(modeOf(unit), 0o644);
    assert.deepEqual(readdirSync(join(dir, 'etc', 'systemd', 'system')), ['ipfo-agent.service']);
  });

  test('without directoryMode a missing directory is an error (ENOENT) and nothing is created', async () => {
    const dir = freshDir();
    await assert.rejects(replaceFileAtomically(join(dir, 'missing', 'state.json'), 'x', { mode: 0o600 }), { code: 'ENOENT' });
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('createFileAtomically', () => {
  test('creates the file (exact mode, new 0700 directory), fsynced before the link and the directory after', async () => {
    const dir = freshDir();
    const file = join(dir, 'new-dir', 'token');
    const trace = await traceDurability();
    const created = await withUmask(0o000, () => createFileAtomically(file, 'abc\n', { mode: 0o600, directoryMode: 0o700 }));
    assert.equal(created, true);
    assert.deepEqual(trace, ['sync', 'link', 'sync']);
    assert.equal(readFileSync(file, 'utf8'), 'abc\n');
    assert.equal(modeOf(file), 0o600);
    assert.equal(modeOf(join(dir, 'new-dir')), 0o700);
    assert.deepEqual(readdirSync(join(dir, 'new-dir')), ['token'], 'no temp file left behind');
  });

  test('never replaces an existing file: false, the old content stays, no temp file', async () => {
    const dir = freshDir();
    const file = join(dir, 'token');
    writeFileSync(file, 'first\n', { mode: 0o600 });
    assert.equal(await createFileAtomically(file, 'second\n', { mode: 0o600 }), false);
    assert.equal(readFileSync(file, 'utf8'), 'first\n');
    assert.deepEqual(readdirSync(dir), ['token']);
  });

  test('several creating at once: exactly one wins and the file holds its content', async () => {
    const dir = freshDir();
    const file = join(dir, 'token');
    const results = await Promise.all(Array.from({ length: 8 }, (_, index) => createFileAtomically(file, `writer ${index}\n`, { mode: 0o600 })));
    assert.equal(results.filter(Boolean).length, 1, String(results));
    assert.equal(readFileSync(file, 'utf8'), `writer ${results.indexOf(true)}\n`);
    assert.deepEqual(readdirSync(dir), ['token']);
  });

  test('a link that fails for another reason: that error, no file, no temp file', async () => {
    const dir = freshDir();
    await traceDurability({ link: () => Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM', syscall: 'link' }) });
    await assert.rejects(createFileAtomically(join(dir, 'token'), 'abc\n', { mode: 0o600 }), { code: 'EPERM', syscall: 'link' });
    assert.deepEqual(readdirSync(dir), []);
  });
});
