// Issue 12 §2: an agent whose API port was taken joined the store, served no API and ignored SIGTERM
// (it had joined before opening the API): systemd never restarted it, and a SIGTERM stopped it without
// handing its addresses over. Now `ipfo agent` binds its API port and socket first: a port or socket
// that is taken ends the start at once with one line and exit 4, before the store is opened (nothing
// joined) and before the machine is looked at (no address touched). A real process, as systemd runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT } from '../../main/cli/exit-codes';
import { apiSocketFor } from '../../main/cli/commands/agent';
import { startTestServer } from './api-fixtures';

const ROOT = resolve(__dirname, '..', '..', '..');
let directory = '';

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ipfo-api-first-'));
});

after(async () => {
  await rm(directory, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runAgent(args: string[]): Promise<Exit> {
  const started = Date.now();
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'ipfo'), 'agent', ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Files under `dir`, recursively (none when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String);
}

describe('the agent binds its API before it joins (issue 12 §2)', () => {
  test('a program on the API port: exit 4 at once with one line; the store was never opened (no member), the token file is the only trace', async () => {
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((ready) => squatter.listen({ host: '127.0.0.1', port: 0 }, ready));
    const port = (squatter.address() as AddressInfo).port;
    const work = join(directory, 'port');
    try {
      const result = await runAgent([
        '--node', 'n1', '--store', `file:${join(work, 'store')}`, '--api', `127.0.0.1:${port}`, '--api-socket', 'none',
        '--token-file', join(work, 'token'), '--state-dir', join(work, 'state'),
      ]);
      assert.equal(result.code, EXIT.environment, result.stderr);
      assert.ok(result.ms < 10_000, `took ${result.ms} ms`);
      assert.deepEqual(result.stderr.trim().split('\n'), [`ipfo: the API port 127.0.0.1:${port} is in use (another agent running, or another program on it?)`]);
      assert.deepEqual(await filesUnder(join(work, 'store')), [], 'the store was opened');
      assert.deepEqual(await filesUnder(join(work, 'state')), [], 'the state directory was touched');
    } finally {
      await new Promise((closed) => squatter.close(closed));
    }
  });

  test('an agent socket in use (another agent on it): exit 4, nothing joined', async () => {
    const work = join(directory, 'socket');
    const socketPath = join(work, 'api', 'n1.sock');
    const other = await startTestServer({ socketPath });
    try {
      const result = await runAgent([
        '--node', 'n1', '--store', `file:${join(work, 'store')}`, '--api', '127.0.0.1:0', '--api-socket', socketPath,
        '--token-file', join(work, 'token'), '--state-dir', join(work, 'state'),
      ]);
      assert.equal(result.code, EXIT.environment, result.stderr);
      assert.match(result.stderr, new RegExp(`^ipfo: ${socketPath.replace(/[.]/g, '\\.')} is in use \\(another agent running\\?\\)\\n$`));
      assert.deepEqual(await filesUnder(join(work, 'store')), []);
    } finally {
      await other.server.close();
    }
  });

  test('the default socket: <dir>/<node>.sock for root on Linux, none otherwise or with --api-socket none', () => {
    assert.equal(apiSocketFor({ node: 'n1' }, 'linux', 0), '/run/ipfo/api/n1.sock');
    assert.equal(apiSocketFor({ node: 'n1' }, 'linux', 1000), null);
    assert.equal(apiSocketFor({ node: 'n1' }, 'win32', undefined), null);
    assert.equal(apiSocketFor({ node: 'n1', apiSocket: null }, 'linux', 0), null);
    assert.equal(apiSocketFor({ node: 'n1', apiSocket: '/x/y.sock' }, 'linux', 1000), '/x/y.sock');
    assert.match(apiSocketFor({ node: 'n'.repeat(128) }, 'linux', 0) ?? '', /^\/run\/ipfo\/api\/[0-9a-f]{32}\.sock$/);
  });
});
