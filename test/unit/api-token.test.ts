// The API token and its file: creation (0600, atomic, one token when two agents race), the checks
// on reading, and constant-time comparison.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateToken, isTokenFormat, tokensEqual } from '../../main/api/auth';
import { loadOrCreateToken, readTokenFile, TokenFileError } from '../../main/api/token';

let directory: string;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ipfo-api-token-'));
});

after(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('tokens', () => {
  test('a token is 32 random bytes in hex, different every time', () => {
    const a = generateToken();
    const b = generateToken();
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(a, b);
    assert.ok(isTokenFormat(a));
    assert.ok(!isTokenFormat(a.toUpperCase()));
    assert.ok(!isTokenFormat(a.slice(1)));
  });

  test('tokensEqual compares whole values, whatever their lengths', () => {
    const token = generateToken();
    assert.ok(tokensEqual(token, token));
    assert.ok(!tokensEqual(token.slice(0, 63), token));
    assert.ok(!tokensEqual(`${token}0`, token));
    assert.ok(!tokensEqual('', token));
    assert.ok(!tokensEqual(generateToken(), token));
  });
});

describe('token file', () => {
  test('is created with mode 0600 (in a new 0700 directory) and read back unchanged', async () => {
    const file = join(directory, 'new-dir', 'token');
    const token = await loadOrCreateToken(file);
    assert.ok(isTokenFormat(token));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(directory, 'new-dir'))).mode & 0o777, 0o700);
    assert.equal(await readFile(file, 'utf8'), `${token}\n`);
    assert.equal(await loadOrCreateToken(file), token);
    assert.equal(await readTokenFile(file), token);
    assert.deepEqual(await readdir(join(directory, 'new-dir')), ['token'], 'no temp file left behind');
  });

  test('agents starting together agree on one token', async () => {
    const file = join(directory, 'race', 'token');
    const tokens = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateToken(file)));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(await readTokenFile(file), tokens[0]);
    assert.deepEqual(await readdir(join(directory, 'race')), ['token']);
  });

  test('a file other users can read is refused by the agent, with the fix in the message', async () => {
    const file = join(directory, 'open-token');
    await writeFile(file, `${generateToken()}\n`, { mode: 0o644 });
    await chmod(file, 0o644);
    await assert.rejects(loadOrCreateToken(file), (error: unknown) => {
      assert.ok(error instanceof TokenFileError);
      assert.match(error.message, /chmod 600/);
      return true;
    });
    // A client only needs the value.
    assert.ok(isTokenFormat(await readTokenFile(file)));
  });

  test('a file that holds no token is refused, not replaced', async () => {
    const file = join(directory, 'bad-token');
    await writeFile(file, 'hello\n', { mode: 0o600 });
    await assert.rejects(loadOrCreateToken(file), /does not hold a token/);
    assert.equal(await readFile(file, 'utf8'), 'hello\n');
  });

  test('an empty file is refused', async () => {
    const file = join(directory, 'empty-token');
    await writeFile(file, '', { mode: 0o600 });
    await assert.rejects(readTokenFile(file), /does not hold a token/);
  });

  test('a symbolic link at the token path is refused', async () => {
    const real = join(directory, 'real-token');
    await writeFile(real, `${generateToken()}\n`, { mode: 0o600 });
    const link = join(directory, 'linked-token');
    await symlink(real, link);
    await assert.rejects(loadOrCreateToken(link), /symbolic link/);
  });

  test('a directory at the token path is refused', async () => {
    await assert.rejects(readTokenFile(directory), TokenFileError);
  });

  test('a missing file is reported as such to a client', async () => {
    await assert.rejects(readTokenFile(join(directory, 'absent')), /does not exist/);
  });
});
