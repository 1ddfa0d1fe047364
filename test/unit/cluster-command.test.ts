// The cluster commands end to end against the real agent API server backed by the recording fake
// handler (the unit here is the CLI: token file, connection, what is sent, what is printed, exit codes).
// A real agent and cluster are the lead's lab test.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCommand } from '../../main/cli/args';
import type { ClusterCommand } from '../../main/cli/cluster-args';
import { clusterCommand } from '../../main/cli/commands/cluster';
import type { ClusterIo } from '../../main/cli/commands/cluster/io';
import { EXIT } from '../../main/cli/exit-codes';
import { auditEntry, resourceView, startTestServer, TOKEN, type TestServer, withServer } from './api-fixtures';

let directory = '';
let tokenFile = '';

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ipfo-cli-test-'));
  tokenFile = join(directory, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
});

after(async () => {
  await rm(directory, { recursive: true, force: true });
});

interface Captured {
  io: ClusterIo;
  out: string[];
  err: string[];
  stop: () => void;
}

function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  return {
    out,
    err,
    stop: () => stop(),
    io: { stdout: (line) => out.push(line), stderr: (line) => err.push(line), now: () => 1_700_000_060_000, untilStopped: () => ({ stopped, dispose: () => undefined }) },
  };
}

function command(context: TestServer | { port: number }, ...argv: string[]): ClusterCommand {
  const port = 'server' in context ? context.server.port : context.port;
  const parsed = parseCommand([...argv, '--agent', `127.0.0.1:${port}`, '--token-file', tokenFile]);
  assert.equal(parsed.kind, 'cluster');
  return parsed;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 2000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('one-shot commands', () => {
  test('status --json prints one object with each resource state and owner', () =>
    withServer(async (context) => {
      const { io, out, err } = capture();
      assert.equal(await clusterCommand(command(context, 'status', '--json'), io), EXIT.ok);
      assert.equal(out.length, 1);
      const status = JSON.parse(out[0]!) as { resources: Array<{ name: string; state: string; owner: string }>; nodes: Array<{ name: string }> };
      assert.deepEqual(status.resources.map((r) => [r.name, r.state, r.owner]), [['web', 'online', 'n1']]);
      assert.deepEqual(status.nodes.map((n) => n.name), ['n1', 'n2']);
      assert.deepEqual(err, []);
      assert.deepEqual(context.handler.calls, []); // a read, not a command
    }));

  test('resource add sends the typed definition as root (the token) and prints the outcome', () =>
    withServer(async (context) => {
      const { io, out } = capture();
      const code = await clusterCommand(command(context, 'resource', 'add', 'web', '10.213.0.50/24', '--owners', 'n1,n2'), io);
      assert.equal(code, EXIT.ok);
      assert.deepEqual(context.handler.calls[0]?.command, { type: 'resource.add', spec: { name: 'web', ip: '10.213.0.50', prefix: 24, possibleOwners: ['n1', 'n2'] } });
      assert.equal(context.handler.calls[0]?.actor, 'root@127.0.0.1');
      assert.deepEqual(out, ['added web 10.213.0.50/24: online on n2 (02:00:00:00:00:01)']);
    }));

  test('resource add that ends failed on a conflict: exit 3 with the other MAC', () =>
    withServer(async (context) => {
      const failed = resourceView('web', '10.213.0.50', null);
      failed.status = { ...failed.status, state: 'failed', failure: { kind: 'conflict', mac: '02:00:00:00:00:66' } };
      context.handler.respond = () => ({ ok: true, result: { outcome: 'done', detail: null, auditSeq: 2, resource: failed, node: null, handoffMs: null, durationMs: 900 } });
      const { io, out } = capture();
      assert.equal(await clusterCommand(command(context, 'resource', 'add', 'web', '10.213.0.50/24'), io), EXIT.conflict);
      assert.deepEqual(out, ['added web 10.213.0.50/24: failed: conflict with MAC 02:00:00:00:00:66']);
    }));

  test("the agent's 'invalid': exit 2, one line per issue; with --json also the issues on stdout", () =>
    withServer(async (context) => {
      context.handler.respond = () => ({
        ok: false,
        error: { code: 'invalid', message: 'unknown node "n9"', field: 'spec.possibleOwners', issues: [{ field: 'spec.possibleOwners', message: 'unknown node "n9" (known nodes: n1, n2)' }, { field: 'spec.name', message: 'a resource named "web" already exists' }] },
      });
      const human = capture();
      assert.equal(await clusterCommand(command(context, 'resource', 'add', 'web', '10.213.0.50/24', '--owners', 'n9'), human.io), EXIT.badInput);
      assert.deepEqual(human.err, ['ipfo: --owners: unknown node "n9" (known nodes: n1, n2)', 'ipfo: <name>: a resource named "web" already exists']);
      assert.deepEqual(human.out, []);
      const json = capture();
      assert.equal(await clusterCommand(command(context, 'resource', 'add', 'web', '10.213.0.50/24', '--owners', 'n9', '--json'), json.io), EXIT.badInput);
      const printed = JSON.parse(json.out[0]!) as { error: { code: string; issues: Array<{ option: string }> } };
      assert.equal(printed.error.code, 'invalid');
      assert.deepEqual(printed.error.issues.map((issue) => issue.option), ['--owners', '<name>']);
    }));

  test('move: the handoff time; an abort on a conflict is exit 3, another failure exit 1', () =>
    withServer(async (context) => {
      const done = capture();
      assert.equal(await clusterCommand(command(context, 'move', 'web', 'n2'), done.io), EXIT.ok);
      assert.deepEqual(context.handler.calls[0]?.command, { type: 'resource.move', name: 'web', target: 'n2' });
      assert.deepEqual(done.out, ['web moved to n2 (handoff 2.5 ms)']);

      context.handler.respond = () => ({ ok: false, error: { code: 'failed', message: 'move of web to n2 failed: conflict with MAC 02:00:00:00:00:66' } });
      const conflict = capture();
      assert.equal(await clusterCommand(command(context, 'move', 'web', '--best'), conflict.io), EXIT.conflict);
      assert.deepEqual(context.handler.calls[1]?.command, { type: 'resource.move', name: 'web', target: 'best' });
      assert.deepEqual(conflict.err, ['ipfo: move of web to n2 failed: conflict with MAC 02:00:00:00:00:66']);

      context.handler.respond = () => ({ ok: false, error: { code: 'failed', message: 'move of web to n2 failed: n2 did not take it' } });
      const failed = capture();
      assert.equal(await clusterCommand(command(context, 'move', 'web', 'n2'), failed.io), EXIT.runtime);
    }));

  test('node pause, online, offline, rm, cleanup, edit reach the agent as their commands', () =>
    withServer(async (context) => {
      const runs: Array<[string[], unknown]> = [
        [['node', 'pause', 'n1'], { type: 'node.pause', name: 'n1' }],
        [['node', 'resume', 'n1'], { type: 'node.resume', name: 'n1' }],
        [['online', 'web'], { type: 'resource.online', name: 'web' }],
        [['offline', 'web'], { type: 'resource.offline', name: 'web' }],
        [['resource', 'rm', 'web'], { type: 'resource.remove', name: 'web' }],
        [['resource', 'cleanup', 'web'], { type: 'resource.cleanup', name: 'web' }],
        [['resource', 'edit', 'web', '--failback', '22-06'], { type: 'resource.edit', name: 'web', patch: { failback: { mode: 'window', startHour: 22, endHour: 6 } } }],
      ];
      for (const [argv, sent] of runs) {
        const { io } = capture();
        assert.equal(await clusterCommand(command(context, ...argv), io), EXIT.ok, argv.join(' '));
        assert.deepEqual(context.handler.calls.at(-1)?.command, sent);
      }
    }));

  test('events: the audit log, one JSON object per line with --json, the filter sent along', () =>
    withServer(async (context) => {
      const { io, out } = capture();
      assert.equal(await clusterCommand(command(context, 'events', '--json', '--limit', '5', '--target', 'web'), io), EXIT.ok);
      assert.deepEqual(context.handler.calls[0]?.command, { type: 'events.query', limit: 5, filter: { target: 'web' } });
      assert.deepEqual(out.map((line) => (JSON.parse(line) as { seq: number }).seq), [1, 2]);
    }));
});

describe('reaching the agent', () => {
  test('nobody listening: exit 4, "is `ipfo agent` running?"', async () => {
    const context = await startTestServer();
    const port = context.server.port;
    await context.server.close();
    const { io, err } = capture();
    assert.equal(await clusterCommand(command({ port }, 'status'), io), EXIT.environment);
    assert.match(err[0] ?? '', new RegExp(`^ipfo: cannot reach the agent at 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\): is \`ipfo agent\` running\\?$`));
  });

  test('wrong token: exit 4, "wrong token", nothing carried out', () =>
    withServer(async (context) => {
      const wrong = join(directory, 'wrong-token');
      await writeFile(wrong, `${'0'.repeat(64)}\n`, { mode: 0o600 });
      const parsed = parseCommand(['node', 'pause', 'n1', '--agent', `127.0.0.1:${context.server.port}`, '--token-file', wrong]) as ClusterCommand;
      const { io, err } = capture();
      assert.equal(await clusterCommand(parsed, io), EXIT.environment);
      assert.match(err[0] ?? '', /wrong token/);
      assert.deepEqual(context.handler.calls, []);
    }));

  test('no token file: exit 4 with the hint', async () => {
    const parsed = parseCommand(['status', '--token-file', join(directory, 'absent')]) as ClusterCommand;
    const { io, err } = capture();
    assert.equal(await clusterCommand(parsed, io), EXIT.environment);
    assert.match(err[0] ?? '', /does not exist: the agent creates it when it starts/);
  });
});

describe('events --follow', () => {
  test('history, then each new entry once, until stopped (exit 0)', () =>
    withServer(async (context) => {
      const { io, out, stop } = capture();
      const running = clusterCommand(command(context, 'events', '--follow', '--json'), io);
      await until(() => out.length === 2, 'the history');
      context.handler.emit({ kind: 'audit', entry: auditEntry(2) }); // already shown by the query
      context.handler.emit({ kind: 'resource-removed', name: 'db' }); // not an audit entry
      context.handler.emit({ kind: 'audit', entry: auditEntry(3) });
      await until(() => out.length === 3, 'the pushed entry');
      stop();
      assert.equal(await running, EXIT.ok);
      assert.deepEqual(out.map((line) => (JSON.parse(line) as { seq: number }).seq), [1, 2, 3]);
    }));

  test('--limit 0 and a filter: only new matching entries', () =>
    withServer(async (context) => {
      const { io, out, stop } = capture();
      const running = clusterCommand(command(context, 'events', '--follow', '--limit', '0', '--action', 'failover'), io);
      await until(() => context.handler.listeners.size > 0, 'the subscription');
      context.handler.emit({ kind: 'audit', entry: auditEntry(3) });
      context.handler.emit({ kind: 'audit', entry: { ...auditEntry(4, 'failover'), detail: 'n1 went silent' } });
      await until(() => out.length === 1, 'the failover entry');
      stop();
      assert.equal(await running, EXIT.ok);
      assert.match(out[0]!, /^\S+ #4 cli:test@127\.0\.0\.1 failover web ok \(handoff 3\.1 ms, took 12 ms\) n1 went silent$/);
      assert.ok(!context.handler.calls.some((call) => call.command.type === 'events.query'), 'no history asked for');
    }));

  test('the agent going away ends the follow with exit 1', async () => {
    const context = await startTestServer();
    const { io, out, err } = capture();
    const running = clusterCommand(command(context, 'events', '--follow'), io);
    await until(() => out.length === 2, 'the history');
    await context.server.close();
    assert.equal(await running, EXIT.runtime);
    assert.match(err[0] ?? '', /^ipfo: the agent closed the connection \(\d+/);
  });
});
