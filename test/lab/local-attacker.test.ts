// Issue 12's reproductions with the real `ipfo agent` run as root: a directory another user prepared
// (`--store file:/tmp/evil/store --token-file /tmp/evil/token`) made the root agent truncate a
// root-owned file through a link in the store directory and serve with the planted token; and its
// `--json` log printed the full token in the console URL (which reaches the journal). "Another user"
// is a uid with no passwd entry (chown 42424): nothing to create or remove but the files.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, lchownSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateToken } from '../../main/api/auth';
import { ipfoArgv } from './ipfo';

const ROOT = process.getuid?.() === 0;
const STRANGER = 42424;
const VICTIM_TEXT = 'root:x:0:0:root:/root:/bin/bash\n';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(argv: readonly string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((done) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** `ipfo args`, from this repository or from the entry `bin`. */
function ipfo(args: readonly string[], timeoutMs = 20_000, bin?: string): Promise<Run> {
  return bin === undefined ? run(ipfoArgv(args), timeoutMs) : run([process.execPath, bin, ...args], timeoutMs);
}

describe('a root agent on paths another user prepared', { skip: ROOT ? false : 'needs root (chown to another uid, a root agent)' }, () => {
  let work: string;
  let evil: string;
  let victim: string;
  before(async () => {
    work = await realpath(await mkdtemp(join(tmpdir(), 'ipfo-local-attacker-')));
    await chmod(work, 0o755);
    victim = join(work, 'victim');
    await writeFile(victim, VICTIM_TEXT, { mode: 0o644 });
    // What the other user prepares: their directory, their store with a link to a file of root's, their token.
    evil = join(work, 'evil');
    await mkdir(join(evil, 'store'), { recursive: true, mode: 0o755 });
    await symlink(victim, join(evil, 'store', 'audit.jsonl'));
    await writeFile(join(evil, 'token'), `${generateToken()}\n`, { mode: 0o600 });
    for (const path of [evil, join(evil, 'store'), join(evil, 'token')]) await chown(path, STRANGER, STRANGER);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const agent = (store: string, tokenFile: string, extra: string[] = []): string[] => [
    'agent', '--node', 'n1', '--store', `file:${store}`, '--token-file', tokenFile, '--state-dir', join(work, 'run'), '--api', '127.0.0.1:0', '--json', ...extra,
  ];

  test('their store directory is refused (exit 2) and the file their link points to stays intact', async () => {
    const result = await ipfo(agent(join(evil, 'store'), join(work, 'own-token')));
    assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
    assert.match(result.stderr, new RegExp(`--store file:${evil}/store: ${evil} belongs to uid ${STRANGER}`));
    assert.equal(await readFile(victim, 'utf8'), VICTIM_TEXT, 'truncated through the link');
    assert.doesNotMatch(result.stdout, /"listening"/);
  });

  test('even in a store directory of root\'s, a link planted among its files is not followed', async () => {
    const store = join(work, 'root-store');
    await mkdir(store, { mode: 0o700 });
    await symlink(victim, join(store, 'audit.jsonl'));
    const result = await ipfo(agent(store, join(work, 'own-token')));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /audit\.jsonl is a symbolic link/);
    assert.equal(await readFile(victim, 'utf8'), VICTIM_TEXT);
  });

  test('their token file is refused (exit 2): the agent does not serve with a token they know', async () => {
    const result = await ipfo(agent(join(work, 'store'), join(evil, 'token')));
    assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
    assert.match(result.stderr, new RegExp(`--token-file ${evil}/token: ${evil} belongs to uid ${STRANGER}`));
    assert.doesNotMatch(result.stdout, /"listening"/);
  });

  test('a state directory in theirs is refused (exit 2)', async () => {
    const result = await ipfo(['agent', '--node', 'n1', '--store', `file:${join(work, 'store')}`, '--token-file', join(work, 'own-token'), '--state-dir', join(evil, 'run'), '--api', '127.0.0.1:0']);
    assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /--state-dir .*belongs to uid 42424/);
  });

  test('the --json log names the token file, never the token', async () => {
    const tokenFile = join(work, 'own-token');
    const [program, ...args] = ipfoArgv(agent(join(work, 'store'), tokenFile));
    const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      await new Promise<void>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no "listening" within 20 s: ${stdout} ${stderr}`)), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('"listening"') && stdout.slice(stdout.indexOf('"listening"')).includes('\n')) {
            clearTimeout(timer);
            done();
          }
        });
        void exited.then((code) => fail(new Error(`exited ${String(code)}: ${stderr}`)));
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const token = (await readFile(tokenFile, 'utf8')).trim();
    assert.ok(existsSync(tokenFile));
    assert.ok(!stdout.includes(token) && !stderr.includes(token), 'the token is in the log');
    const listening = stdout.split('\n').filter((line) => line.includes('"listening"')).map((line) => JSON.parse(line) as Record<string, unknown>)[0]!;
    assert.equal(listening.tokenFile, tokenFile);
  });
});

/** The repository this test was built from (build/test/lab/../../..). */
const REPO = resolve(__dirname, '..', '..', '..');

describe('root code from a checkout another user owns', { skip: ROOT ? false : 'needs root (chown, install)' }, () => {
  let work: string;
  let checkout: string;
  before(async () => {
    work = await realpath(await mkdtemp(join(tmpdir(), 'ipfo-user-checkout-')));
    await chmod(work, 0o755);
    // What the installer and the launcher load: bin/, build/, package.json, the native addons, node_modules (a link to root's).
    checkout = join(work, 'checkout');
    for (const part of ['bin', 'build', 'package.json', join('main', 'native', 'build')]) {
      cpSync(join(REPO, part), join(checkout, part), { recursive: true, verbatimSymlinks: true });
    }
    await symlink(await realpath(join(REPO, 'node_modules')), join(checkout, 'node_modules'));
    lchownSync(checkout, STRANGER, STRANGER);
    for (const entry of readdirSync(checkout, { recursive: true }) as string[]) lchownSync(join(checkout, entry), STRANGER, STRANGER);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** Runs `argv` in a mount namespace whose /etc is a throw-away copy: nothing a regression writes reaches the host. */
  function sandboxed(argv: readonly string[]): Promise<Run> {
    const scratch = join(work, 'scratch');
    const script = 'mkdir -p "$1" && mount -t tmpfs tmpfs "$1" && cp -a /etc "$1/etc" && mount --bind "$1/etc" /etc && shift && exec "$@"';
    return new Promise((done) => {
      execFile('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', scratch, ...argv], { timeout: 30_000 }, (error, stdout, stderr) => {
        done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
      });
    });
  }

  test('ipfo agent install from it is refused (exit 2) and writes nothing', async () => {
    const result = await sandboxed([process.execPath, join(checkout, 'bin', 'ipfo'), 'agent', 'install', '--json']);
    assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
    assert.match(result.stderr, new RegExp(`the service ipfo-agent\\.service would run as root code that others can change \\(the installation ${checkout}: ${checkout} belongs to uid ${STRANGER}`));
    assert.doesNotMatch(result.stdout, /"wrote"/);
  });

  test('ipfo agent install --root (packaging) from it warns', async () => {
    const root = join(work, 'root');
    const result = await ipfo(['agent', 'install', '--root', root, '--json'], 30_000, join(checkout, 'bin', 'ipfo'));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^warning: the service ipfo-agent\.service would run as root code that others can change/m);
  });

  test('the launcher the password prompt runs as root refuses to start the agent from it', async () => {
    const port = 17_000 + Math.floor(Math.random() * 1000);
    const args = ['--node', 'n1', '--store', `file:${join(work, 'local-store')}`, '--api', `127.0.0.1:${port}`, '--token-file', join(work, 'local', 'token')];
    const result = await run([process.execPath, join(checkout, 'build', 'main', 'console', 'launch-agent.js'), ...args]);
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { outcome?: string; detail?: string; pid?: number };
    if (typeof report.pid === 'number') process.kill(report.pid, 'SIGTERM'); // today's code started it: stop it
    assert.equal(report.outcome, 'failed', result.stdout);
    assert.match(String(report.detail), /^the agent would run as root code that others can change/);
    assert.equal(existsSync(join(work, 'local-store')), false, 'nothing was created');
  });
});
