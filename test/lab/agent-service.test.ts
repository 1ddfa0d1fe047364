// `ipfo agent install|uninstall` for real, under a temporary root (--root: it never touches /etc or
// /lib/systemd), with systemd's own parser as the judge: `systemd-analyze verify` (Debian package
// `systemd`) must accept the unit it writes, also for an installation path full of characters that
// systemd treats specially. And `ipfo agent --config` starts an agent from a file.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AGENT_SYSCALL_FILTER, renderAgentUnit } from '../../main/service/systemd';
import { IPFO_BIN, ipfoArgv } from './ipfo';

const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((path) => existsSync(path)) ?? null;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(argv: readonly string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((done) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      done({ code, stdout, stderr });
    });
  });
}

const ipfo = (...args: string[]): Promise<Run> => run(ipfoArgv(args));

async function verify(unitFile: string): Promise<Run> {
  return run([SYSTEMD_ANALYZE!, 'verify', unitFile]);
}

/** Every file and directory under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((entry) => `${join(entry.parentPath, entry.name).slice(dir.length + 1)}${entry.isDirectory() ? '/' : ''}`).sort();
}

function records(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

const UNIT = 'etc/systemd/system/ipfo-agent.service';
const CONFIG = 'etc/ipfo/agent.json';

describe('ipfo agent install | uninstall --root', { skip: SYSTEMD_ANALYZE === null ? 'systemd-analyze is missing (Debian package systemd)' : false }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ipfo-agent-service-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('install writes a unit systemd accepts and a commented configuration; uninstall removes both', async () => {
    const root = join(work, 'plain');
    await mkdir(root);
    const installed = await ipfo('agent', 'install', '--root', root, '--json');
    assert.equal(installed.code, 0, installed.stderr);
    const events = records(installed.stdout);
    assert.deepEqual(events.map((event) => [event.event, event.file]), [['wrote', join(root, UNIT)], ['wrote', join(root, CONFIG)]]);
    assert.match(installed.stderr, /installed disabled/);
    assert.deepEqual(await tree(root), ['etc/', 'etc/ipfo/', CONFIG, 'etc/systemd/', 'etc/systemd/system/', UNIT]);

    const unit = await readFile(join(root, UNIT), 'utf8');
    // This process's runtime and this checkout's entry, on the real configuration path (not under --root).
    assert.ok(unit.includes(`ExecStart="${process.execPath}" ${IPFO_BIN} agent --config /etc/ipfo/agent.json\n`), unit);
    const verdict = await verify(join(root, UNIT));
    assert.equal(verdict.code, 0, `systemd-analyze verify: ${verdict.stderr}`);
    assert.doesNotMatch(verdict.stderr, /ipfo-agent/);

    // The default configuration is the commented one, and the agent refuses it (exit 2) until a node is named.
    const refused = await ipfo('agent', '--config', join(root, CONFIG));
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /no node name: set "node"/);

    const removed = await ipfo('agent', 'uninstall', '--root', root, '--json');
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(records(removed.stdout).map((event) => [event.event, event.file]), [['removed', join(root, UNIT)], ['removed', join(root, CONFIG)]]);
    // Everything install wrote is gone (the untouched default configuration too); only the empty systemd directories stay.
    assert.deepEqual(await tree(root), ['etc/', 'etc/systemd/', 'etc/systemd/system/']);
  });

  test('an administrator\'s configuration is never overwritten, and kept by uninstall unless --purge', async () => {
    const root = join(work, 'configured');
    await mkdir(join(root, 'etc', 'ipfo'), { recursive: true });
    const mine = '{ "node": "n1", "store": "etcd://10.0.0.1:2379" }\n';
    await writeFile(join(root, CONFIG), mine, { mode: 0o600 });
    await mkdir(join(root, 'var', 'lib', 'ipfo', 'store'), { recursive: true });
    await writeFile(join(root, 'var', 'lib', 'ipfo', 'token'), 'x\n');

    for (let round = 0; round < 2; round += 1) {
      const installed = await ipfo('agent', 'install', '--root', root);
      assert.equal(installed.code, 0, installed.stderr);
      assert.match(installed.stdout, /kept .*agent\.json/);
      assert.equal(await readFile(join(root, CONFIG), 'utf8'), mine);
    }
    assert.equal((await verify(join(root, UNIT))).code, 0);

    const kept = await ipfo('agent', 'uninstall', '--root', root);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(existsSync(join(root, UNIT)), false);
    assert.equal(await readFile(join(root, CONFIG), 'utf8'), mine);
    assert.equal(existsSync(join(root, 'var', 'lib', 'ipfo', 'token')), true);

    // Idempotent: a second uninstall finds nothing to do and succeeds.
    assert.equal((await ipfo('agent', 'uninstall', '--root', root)).code, 0);

    const purged = await ipfo('agent', 'uninstall', '--root', root, '--purge');
    assert.equal(purged.code, 0, purged.stderr);
    assert.deepEqual(await tree(root), ['etc/', 'etc/systemd/', 'etc/systemd/system/', 'var/', 'var/lib/']);
  });

  test('bad input changes nothing', async () => {
    const root = join(work, 'bad');
    await mkdir(root);
    for (const argv of [['--root', 'relative'], ['--root', root, '--enable'], ['--root', root, '--purge'], ['--root', root, 'extra']]) {
      const result = await ipfo('agent', 'install', ...argv);
      assert.equal(result.code, 2, argv.join(' '));
      assert.equal(result.stderr.split('\n').filter((line) => line !== '').length, 1, result.stderr);
    }
    assert.deepEqual(await tree(root), []);
  });

  test('systemd reads the quoted ExecStart= of a hostile installation path back to the real files', async () => {
    // The runtime and the entry under a directory with a space, %, $, quote-free punctuation and UTF-8.
    const dir = join(work, 'IP Failover Console 100% $HOME ${x} ; & jörg');
    await mkdir(join(dir, 'bin'), { recursive: true });
    await symlink(process.execPath, join(dir, 'node'));
    await writeFile(join(dir, 'bin', 'ipfo'), '#!/usr/bin/env node\n');
    await chmod(join(dir, 'bin', 'ipfo'), 0o755);
    const unitFile = join(work, 'hostile.service');
    await writeFile(unitFile, renderAgentUnit({ launch: { executable: join(dir, 'node'), args: [join(dir, 'bin', 'ipfo'), 'agent', '--config', '/etc/ipfo/agent.json'], env: { ELECTRON_RUN_AS_NODE: '1' } } }));
    const verdict = await verify(unitFile);
    assert.equal(verdict.code, 0, `systemd-analyze verify: ${verdict.stderr}\n${await readFile(unitFile, 'utf8')}`);

    // The control: verify does look at the executable (a missing one fails), so the pass above means
    // systemd found exactly our path after unquoting `%%` and the quotes.
    const missing = join(work, 'missing.service');
    await writeFile(missing, renderAgentUnit({ launch: { executable: join(dir, 'no-such-node'), args: ['x'], env: {} } }));
    const failed = await verify(missing);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /no-such-node/);
  });
});

describe('ipfo agent --config', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ipfo-agent-config-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('starts the agent from the file, with command-line options on top, and stops on SIGTERM', async () => {
    const config = join(work, 'agent.json');
    await writeFile(config, [
      '// test configuration',
      '{',
      '  "node": "svc1",',
      `  "store": ${JSON.stringify(`file:${join(work, 'store')}`)},`,
      `  "token-file": ${JSON.stringify(join(work, 'token'))},`,
      `  "state-dir": ${JSON.stringify(join(work, 'run'))},`,
      '  "api": "127.0.0.1:1",',
      '}',
    ].join('\n'), { mode: 0o644 });
    const [program, ...args] = ipfoArgv(['agent', '--config', config, '--api', '127.0.0.1:0', '--json']);
    const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" within 20 s: ${stdout} ${stderr}`)), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const found = records(stdout.slice(0, stdout.lastIndexOf('\n') + 1)).find((record) => record.event === 'listening');
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${String(code)}: ${stderr}`)));
    });
    assert.equal(listening.node, 'svc1');
    assert.match(String(listening.url), /^ws:\/\/127\.0\.0\.1:\d+\/api$/);
    assert.doesNotMatch(String(listening.url), /:1\//, '--api on the command line wins over the file');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.equal(existsSync(join(work, 'token')), true);
  });

  test('a configuration others may change is refused', async () => {
    const config = join(work, 'open.json');
    await writeFile(config, '{ "node": "n1" }');
    await chmod(config, 0o666);
    const result = await ipfo('agent', '--config', config);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /writable by group or others/);
  });
});

const STRACE = ['/usr/bin/strace', '/bin/strace'].find((path) => existsSync(path)) ?? null;

/** Every system call `systemd-analyze syscall-filter` puts in the groups of `filter` (nested ones expanded), and @default's (always allowed). */
async function filterSet(filter: string): Promise<Set<string>> {
  const listing = await run([SYSTEMD_ANALYZE!, 'syscall-filter']);
  const groups = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of listing.stdout.split('\n')) {
    const name = /^(@[a-z0-9-]+)$/.exec(line.trim());
    if (name !== null && !line.startsWith(' ')) {
      current = [];
      groups.set(name[1]!, current);
    } else if (current !== null && /^\s+[@a-z0-9_-]+$/.test(line)) {
      current.push(line.trim());
    }
  }
  const out = new Set<string>();
  const add = (entry: string): void => {
    if (!entry.startsWith('@')) {
      out.add(entry);
      return;
    }
    for (const member of groups.get(entry) ?? []) add(member);
  };
  add('@default');
  for (const entry of filter.split(' ')) add(entry);
  return out;
}

describe('the unit\'s hardening (issue 12)', { skip: SYSTEMD_ANALYZE === null ? 'systemd-analyze is missing' : false }, () => {
  test('systemd-analyze security rates the shipped unit better than before SystemCallFilter, ProtectProc and PrivateMounts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ipfo-unit-security-'));
    try {
      const unit = join(dir, 'ipfo-agent.service');
      await writeFile(unit, await readFile(join(__dirname, '..', '..', '..', 'resources', 'linux', 'ipfo-agent.service'), 'utf8'));
      const result = await run([SYSTEMD_ANALYZE!, 'security', '--offline=true', '--no-pager', unit]);
      const exposure = Number(/Overall exposure level for ipfo-agent\.service: ([0-9.]+)/.exec(result.stdout)?.[1]);
      assert.ok(exposure <= 3.5, `exposure ${exposure} (4.3 before): ${result.stdout}`);
      for (const setting of ['SystemCallFilter=~@mount', 'SystemCallFilter=~@debug', 'SystemCallFilter=~@raw-io', 'ProtectProc=', 'PrivateMounts=']) {
        assert.match(result.stdout, new RegExp(`✓ ${setting.replace(/[~@]/g, (c) => `\\${c}`)}`), setting);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('every system call a real agent makes (start, take an address with ARP, hand it over on SIGTERM) is in the unit\'s SystemCallFilter', { skip: STRACE === null ? 'strace is missing' : false, timeout: 180_000 }, async () => {
    const allowed = await filterSet(AGENT_SYSCALL_FILTER);
    const { createLab } = await import('./lab.js');
    const { LabCluster } = await import('./cluster.js');
    const lab = await createLab({ nodes: 1, clients: 0, rogue: false, name: 'agent-service syscalls' });
    const trace = join(await mkdtemp(join(tmpdir(), 'ipfo-strace-')), 'agent.trace');
    let cluster: Awaited<ReturnType<typeof LabCluster.start>> | null = null;
    try {
      cluster = await LabCluster.start(lab, { nodes: ['n1'], etcdHost: null, agentTrace: () => trace });
      const add = await cluster.cli('n1', ['resource', 'add', 'web', `${lab.vip(1)}/24`, '--owners', 'n1']);
      assert.equal(add.code, 0, add.stderr);
      await cluster.waitOwner('n1', 'web', 'n1');
      // SIGTERM to the agent itself (strace passes it on only to a process it started... and then detaches).
      const agentPid = Number(/^(\d+)\s+execve\(/m.exec(await readFile(trace, 'utf8'))?.[1]);
      assert.ok(agentPid > 0, 'the traced agent\'s pid');
      const agent = cluster.agents.get('n1')!;
      process.kill(agentPid, 'SIGTERM');
      await agent.exited;
    } finally {
      await cluster?.destroy();
      await lab.destroy();
    }
    const used = new Set<string>();
    for (const line of (await readFile(trace, 'utf8')).split('\n')) {
      const call = /^\d+\s+([a-z0-9_]+)\(/.exec(line);
      if (call !== null) used.add(call[1]!);
    }
    await rm(join(trace, '..'), { recursive: true, force: true });
    const outside = [...used].filter((call) => !allowed.has(call)).sort();
    assert.ok(used.has('socket') && used.size > 40, `traced ${used.size} calls`);
    assert.deepEqual(outside, [], `outside ${AGENT_SYSCALL_FILTER} (they would fail with EPERM under the unit): ${outside.join(' ')}; used: ${[...used].sort().join(' ')}`);
  });
});
