// Event hooks (issue 15 §2): the pure parts — which events a hook wants, its records checked (hostile
// ones refused), the delivery plan on a fake clock (order, skips, retries with bounded backoff, entries
// lost to retention), the payload, the HMAC against RFC 4231's vector, the RFC 5424 message — then the
// effects on loopback (a program with its stdin and environment, a timeout that kills, a signed POST, a
// UDP syslog datagram), and the sender on a file store: elected by its lease, in order, at least once,
// retried, and taken over from the stored cursor when the sender's lease ends.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { createSocket } from 'node:dgram';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { eventNameOf, hookMatches, HookRecordSchema, HookSpecSchema, type HookRecord, type HookTarget } from '../../preload/contract/hooks';
import { checkRecord } from '../../main/store/record-check';
import { afterAdvanced, afterDelivered, afterFailed, backoffMs, initialState, nextStep, pendingOf } from '../../main/hooks/delivery-plan';
import { buildPayload, execEnvironment, payloadBody, type HookEventEntry } from '../../main/hooks/payload';
import { secretFromFile, signBody, webhookHeaders } from '../../main/hooks/sign';
import { sdValue, syslogMessage } from '../../main/hooks/syslog';
import { deliver, type Deliver } from '../../main/hooks/deliver';
import { FileStore } from '../../main/store/file-store';
import { HookSender } from '../../main/agent/hook-sender';
import { HookCommands } from '../../main/agent/hook-commands';
import { isStoreError, type AuditEntry, type ClusterStore, type Membership, type StoreChange } from '../../main/store/store';
import { nodeRecord } from '../fixtures/records';
import { parseClusterCommand } from '../../main/cli/cluster-args';
import { UsageError } from '../../main/cli/usage';

const hook = (events: string[], target: HookTarget = { kind: 'syslog', target: 'udp://127.0.0.1:514' }, afterSeq = 0): HookRecord => ({ name: 'h1', events, target, afterSeq, createdAt: 1, createdBy: 'root' });
const entry = (seq: number, action: string): HookEventEntry => ({ seq, at: 1_700_000_000_000 + seq, actor: 'agent:n1', action, target: 'web', outcome: 'ok', detail: null, handoffMs: null });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('hooks: events and records', () => {
  test('event names are the action up to its first blank; wildcards', () => {
    assert.equal(eventNameOf('failover from n1'), 'failover');
    assert.equal(eventNameOf('arp.conflict'), 'arp.conflict');
    assert.ok(hookMatches(['move'], 'move'));
    assert.ok(!hookMatches(['move'], 'resource.move'));
    assert.ok(hookMatches(['failover'], 'failover from n2'));
    assert.ok(hookMatches(['arp.*'], 'arp.conflict'));
    assert.ok(!hookMatches(['arp.*'], 'arpx'));
    assert.ok(hookMatches(['*'], 'anything at all'));
    assert.ok(hookMatches(['online', 'resource.*'], 'resource.offline'));
  });

  test('a good spec passes; hostile ones are refused with the field', () => {
    const good = { name: 'ops', events: ['move', 'arp.*', '*'], target: { kind: 'exec', path: '/usr/local/bin/notify', args: ['--x', '; rm -rf /'], timeoutMs: 5000 } };
    assert.ok(HookSpecSchema.safeParse(good).success);
    const bad: Array<[string, unknown]> = [
      ['relative exec path', { ...good, target: { ...good.target, path: 'bin/notify' } }],
      ['dot-dot in the path', { ...good, target: { ...good.target, path: '/usr/../tmp/x' } }],
      ['unknown event', { ...good, events: ['mvoe'] }],
      ['unknown wildcard prefix', { ...good, events: ['nothing.*'] }],
      ['no events', { ...good, events: [] }],
      ['too many args', { ...good, target: { ...good.target, args: Array.from({ length: 33 }, () => 'a') } }],
      ['huge arg', { ...good, target: { ...good.target, args: ['a'.repeat(5000)] } }],
      ['NUL in an arg', { ...good, target: { ...good.target, args: ['a\0b'] } }],
      ['timeout too long', { ...good, target: { ...good.target, timeoutMs: 10_000_000 } }],
      ['ftp url', { ...good, target: { kind: 'webhook', url: 'ftp://example.org/x', secretFile: null, timeoutMs: 1000 } }],
      ['file url', { ...good, target: { kind: 'webhook', url: 'file:///etc/passwd', secretFile: null, timeoutMs: 1000 } }],
      ['credentials in the url', { ...good, target: { kind: 'webhook', url: 'http://u:p@example.org/', secretFile: null, timeoutMs: 1000 } }],
      ['relative secret file', { ...good, target: { kind: 'webhook', url: 'https://example.org/', secretFile: 'secret', timeoutMs: 1000 } }],
      ['syslog not udp', { ...good, target: { kind: 'syslog', target: 'tcp://127.0.0.1:514' } }],
      ['unknown kind', { ...good, target: { kind: 'shell', command: 'echo hi' } }],
      ['extra field', { ...good, shell: true }],
      ['bad name', { ...good, name: '../x' }],
    ];
    for (const [why, spec] of bad) assert.ok(!HookSpecSchema.safeParse(spec).success, why);
  });

  test('a stored hook record is checked in full when read: hostile ones are left out with a reason', () => {
    const record = hook(['move'], { kind: 'exec', path: '/bin/true', args: [], timeoutMs: 1000 });
    assert.ok(HookRecordSchema.safeParse(record).success);
    assert.ok(checkRecord('hooks', 'h1', record).ok);
    const named = checkRecord('hooks', 'other', record);
    assert.ok(!named.ok && /key's name/.test(named.reason));
    const relative = checkRecord('hooks', 'h1', { ...record, target: { kind: 'exec', path: 'true', args: [], timeoutMs: 1000 } });
    assert.ok(!relative.ok && /target\.path/.test(relative.reason), JSON.stringify(relative));
    const huge = checkRecord('hooks', 'h1', { ...record, createdBy: 'x'.repeat(100_000) });
    assert.ok(!huge.ok);
    assert.ok(!checkRecord('hookstate', 'h1', { ...initialState(record, 'n1'), cursor: -1 }).ok);
  });
});

describe('hooks: ipfo hook', () => {
  const parse = (...argv: string[]) => parseClusterCommand('hook', argv).op;
  test('add: exec with arguments, webhook, syslog; list, rm, test', () => {
    assert.deepEqual(parse('add', 'h', '--on', 'move,arp.*', '--exec', '/usr/bin/tee', '--arg=-a', '--arg', '/tmp/x'), { kind: 'hook-add', spec: { name: 'h', events: ['move', 'arp.*'], target: { kind: 'exec', path: '/usr/bin/tee', args: ['-a', '/tmp/x'], timeoutMs: 10_000 } } });
    assert.deepEqual(parse('add', 'h', '--on', '*', '--exec', '/bin/logger', 'one', 'two', '--timeout', '2.5'), { kind: 'hook-add', spec: { name: 'h', events: ['*'], target: { kind: 'exec', path: '/bin/logger', args: ['one', 'two'], timeoutMs: 2500 } } });
    assert.deepEqual(parse('add', 'w', '--on', 'failover', '--webhook', 'https://hooks.example/x', '--secret-file', '/etc/ipfo/hook.secret'), { kind: 'hook-add', spec: { name: 'w', events: ['failover'], target: { kind: 'webhook', url: 'https://hooks.example/x', secretFile: '/etc/ipfo/hook.secret', timeoutMs: 10_000 } } });
    assert.deepEqual(parse('add', 's', '--on', 'move', '--syslog'), { kind: 'hook-add', spec: { name: 's', events: ['move'], target: { kind: 'syslog', target: 'udp://127.0.0.1:514' } } });
    assert.deepEqual(parse('add', 's', '--on', 'move', '--syslog', '--syslog-target', 'udp://10.0.0.1:5514'), { kind: 'hook-add', spec: { name: 's', events: ['move'], target: { kind: 'syslog', target: 'udp://10.0.0.1:5514' } } });
    assert.deepEqual(parse('list'), { kind: 'hook-list' });
    assert.deepEqual(parse('rm', 'h'), { kind: 'hook-remove', name: 'h' });
    assert.deepEqual(parse('test', 'h'), { kind: 'hook-test', name: 'h' });
  });
  test('bad input is a usage error before any connection', () => {
    const bad: Array<[string[], RegExp]> = [
      [['add', 'h', '--exec', '/bin/true'], /missing --on/],
      [['add', 'h', '--on', 'move'], /exactly one of/],
      [['add', 'h', '--on', 'move', '--exec', '/bin/true', '--syslog'], /exactly one of/],
      [['add', 'h', '--on', 'mvoe', '--syslog'], /--on "mvoe" is not an event/],
      [['add', 'h', '--on', 'move', '--exec', 'true'], /--exec must be an absolute path/],
      [['add', 'h', '--on', 'move', '--webhook', 'ftp://x/'], /--webhook must be an http/],
      [['add', 'h', '--on', 'move', '--webhook', 'http://x/', '--secret-file', 'rel'], /--secret-file must be an absolute/],
      [['add', 'h', '--on', 'move', '--syslog', 'extra'], /unexpected argument "extra"/],
      [['add', 'h', '--on', 'move', '--syslog', '--timeout', '9999'], /--timeout/],
      [['add', 'H!', '--on', 'move', '--syslog'], /hook name/],
      [['rm'], /missing <name>/],
      [['frob'], /unknown subcommand/],
    ];
    for (const [argv, message] of bad) assert.throws(() => parse(...argv), (error: unknown) => error instanceof UsageError && message.test(error.message), argv.join(' '));
  });
});

describe('hooks: the delivery plan (fake clock)', () => {
  const h = hook(['move']);
  test('in audit order: entries the hook does not want are passed, the first it wants is delivered', () => {
    let state = initialState(h, 'n1');
    const entries = [entry(1, 'online'), entry(2, 'move'), entry(3, 'release'), entry(4, 'move')];
    assert.equal(pendingOf(h, entries), 2);
    const step = nextStep(h, state, entries, 1000);
    assert.deepEqual(step, { kind: 'deliver', entry: entries[1] });
    state = afterDelivered(state, 2, 1000, 1);
    assert.equal(state.cursor, 2);
    assert.equal(state.lastDeliveredSeq, 2);
    assert.deepEqual(nextStep(h, state, entries.slice(2), 1001), { kind: 'deliver', entry: entries[3] });
    assert.deepEqual(nextStep(h, state, [entry(3, 'release')], 1001), { kind: 'advance', cursor: 3 });
    assert.deepEqual(nextStep(h, state, [], 1001), { kind: 'idle' });
  });

  test('a failed entry is retried after a doubling, bounded wait, before anything after it', () => {
    assert.deepEqual([1, 2, 3, 4, 8, 20, 100].map((n) => backoffMs(n, { baseMs: 500, maxMs: 60_000 })), [500, 1000, 2000, 4000, 60_000, 60_000, 60_000]);
    let state = initialState(h, 'n1');
    const entries = [entry(1, 'move'), entry(2, 'move')];
    let now = 10_000;
    state = afterFailed(state, 1, now, 'HTTP 503', 2, { baseMs: 500, maxMs: 2000 });
    assert.equal(state.cursor, 0);
    assert.equal(state.failures, 1);
    assert.equal(state.lastError, 'seq 1: HTTP 503');
    assert.equal(state.nextAttemptAt, 10_500);
    assert.deepEqual(nextStep(h, state, entries, 10_499), { kind: 'wait', untilMs: 10_500, entry: entries[0] });
    assert.deepEqual(nextStep(h, state, entries, 10_500), { kind: 'deliver', entry: entries[0] });
    for (const wait of [1000, 2000, 2000]) {
      now = state.nextAttemptAt!;
      state = afterFailed(state, 1, now, 'timeout', 2, { baseMs: 500, maxMs: 2000 });
      assert.equal(state.nextAttemptAt! - now, wait);
    }
    state = afterDelivered(state, 1, now + 2000, 1);
    assert.equal(state.failures, 0);
    assert.equal(state.lastError, null);
    assert.equal(state.nextAttemptAt, null);
    assert.deepEqual(nextStep(h, state, [entries[1]!], now + 2000), { kind: 'deliver', entry: entries[1] });
  });

  test('entries the audit log no longer holds are reported, not waited for', () => {
    const state = { ...initialState(h, 'n1'), cursor: 5 };
    assert.deepEqual(nextStep(h, state, [entry(9, 'move')], 0), { kind: 'lost', cursor: 8, from: 6, to: 8 });
    assert.equal(afterAdvanced(state, 8, 1, 'lost').cursor, 8);
    assert.equal(afterAdvanced(state, 3, 1).cursor, 5, 'a cursor never goes back');
  });

  test('a new hook starts after the audit entry that was newest when it was added', () => {
    const state = initialState(hook(['*'], undefined, 41), 'n2');
    assert.equal(state.cursor, 41);
    assert.equal(state.sender, 'n2');
  });
});

describe('hooks: payload, signature, syslog', () => {
  test('payload and a program\'s environment', () => {
    const payload = buildPayload('ops', entry(7, 'failover from n1'));
    assert.deepEqual(JSON.parse(payloadBody(payload)), { version: 1, hook: 'ops', seq: 7, event: 'failover', action: 'failover from n1', at: new Date(1_700_000_000_007).toISOString(), actor: 'agent:n1', target: 'web', outcome: 'ok', detail: null, handoffMs: null, test: false });
    const env = execEnvironment({ ...payload, target: 'a\nb' });
    assert.equal(env.IPFO_EVENT, 'failover');
    assert.equal(env.IPFO_SEQ, '7');
    assert.equal(env.IPFO_HOOK, 'ops');
    assert.equal(env.IPFO_TARGET, 'a b');
    assert.deepEqual(Object.keys(env).filter((key) => !key.startsWith('IPFO_')), ['PATH']);
  });

  test('HMAC-SHA256: RFC 4231 test case 2, and the headers of a webhook', () => {
    assert.equal(signBody('Jefe', 'what do ya want for nothing?'), 'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    const key = Buffer.alloc(20, 0x0b);
    assert.equal(signBody(key, 'Hi There'), 'sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    const payload = buildPayload('ops', entry(12, 'move'));
    const body = payloadBody(payload);
    const headers = webhookHeaders(payload, body, Buffer.from('s3cret'));
    assert.equal(headers['X-Ipfo-Seq'], '12');
    assert.equal(headers['X-Ipfo-Event'], 'move');
    assert.equal(headers['X-Ipfo-Signature'], `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
    assert.equal(webhookHeaders(payload, body, null)['X-Ipfo-Signature'], undefined);
    assert.deepEqual(secretFromFile(Buffer.from('abc\n')), Buffer.from('abc'));
    assert.deepEqual(secretFromFile(Buffer.from('abc\r\n')), Buffer.from('abc'));
  });

  test('RFC 5424: PRI, version, timestamp, structured data escaped', () => {
    const payload = buildPayload('ops', { ...entry(3, 'arp.conflict'), outcome: 'failed', target: 'we"b]' });
    const message = syslogMessage(payload, payloadBody(payload), { hostname: 'n 1', procId: 42 });
    assert.equal(sdValue('a"b\\c]'), 'a\\"b\\\\c\\]');
    assert.ok(message.startsWith(`<28>1 ${payload.at} n_1 ipfo 42 arp.conflict [ipfo@32473 seq="3" event="arp.conflict" hook="ops" target="we\\"b\\]" outcome="failed"] {`), message);
    assert.ok(message.endsWith(payloadBody(payload)));
  });
});

describe('hooks: delivery on this host (loopback)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-hooks-unit-'));
  test('exec: the payload on stdin, IPFO_* in the environment, no shell; exit code; a timeout kills', async () => {
    const out = join(dir, 'exec.out');
    const script = "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{require('fs').writeFileSync(process.argv[1],JSON.stringify({stdin:s,env:process.env.IPFO_SEQ+'/'+process.env.IPFO_EVENT,arg:process.argv[2]}))})";
    const payload = buildPayload('ops', entry(5, 'move'));
    const ok = await deliver({ kind: 'exec', path: process.execPath, args: ['-e', script, out, '$(touch /tmp/never); x'], timeoutMs: 10_000 }, payload);
    assert.ok(ok.ok, ok.detail);
    const seen = JSON.parse(readFileSync(out, 'utf8')) as { stdin: string; env: string; arg: string };
    assert.equal(seen.stdin, `${payloadBody(payload)}\n`);
    assert.equal(seen.env, '5/move');
    assert.equal(seen.arg, '$(touch /tmp/never); x', 'arguments reach the program as they are: no shell');
    const failed = await deliver({ kind: 'exec', path: process.execPath, args: ['-e', 'console.error("nope");process.exit(3)'], timeoutMs: 10_000 }, payload);
    assert.ok(!failed.ok);
    assert.match(failed.detail, /exited 3: nope/);
    const started = Date.now();
    const slow = await deliver({ kind: 'exec', path: process.execPath, args: ['-e', 'setInterval(()=>{},1000)'], timeoutMs: 300 }, payload);
    assert.ok(!slow.ok);
    assert.match(slow.detail, /killed after its timeout of 300 ms/);
    assert.ok(Date.now() - started < 5000);
    const missing = await deliver({ kind: 'exec', path: '/nonexistent/program', args: [], timeoutMs: 1000 }, payload);
    assert.ok(!missing.ok);
    const chatty = await deliver({ kind: 'exec', path: process.execPath, args: ['-e', 'process.stdout.write("x".repeat(1e6));process.exit(1)'], timeoutMs: 10_000 }, payload);
    assert.ok(!chatty.ok && chatty.detail.length <= 1000, 'output is bounded');
  });

  test('webhook: a signed POST; 2xx delivered, anything else and a silent server failed', async () => {
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, 'topsecret\n', { mode: 0o600 });
    const seen: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    let status = 204;
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ headers: request.headers, body });
        if (status === 0) return; // never answers
        response.writeHead(status).end(status >= 300 ? 'busy' : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const payload = buildPayload('ops', entry(9, 'move'));
      const ok = await deliver({ kind: 'webhook', url, secretFile, timeoutMs: 5000 }, payload);
      assert.ok(ok.ok, ok.detail);
      const got = seen[0]!;
      assert.equal(got.body, payloadBody(payload));
      assert.equal(got.headers['x-ipfo-seq'], '9');
      assert.equal(got.headers['x-ipfo-signature'], `sha256=${createHmac('sha256', 'topsecret').update(got.body).digest('hex')}`);
      status = 503;
      const refused = await deliver({ kind: 'webhook', url, secretFile, timeoutMs: 5000 }, payload);
      assert.ok(!refused.ok);
      assert.match(refused.detail, /HTTP 503: busy/);
      status = 0;
      const silent = await deliver({ kind: 'webhook', url, secretFile, timeoutMs: 300 }, payload);
      assert.ok(!silent.ok);
      assert.match(silent.detail, /no answer within 300 ms/);
      const noSecret = await deliver({ kind: 'webhook', url, secretFile: join(dir, 'absent'), timeoutMs: 300 }, payload);
      assert.ok(!noSecret.ok);
      assert.match(noSecret.detail, /secret file .* cannot be read/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('syslog: one RFC 5424 datagram', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const received = new Promise<string>((resolve) => socket.once('message', (message) => resolve(message.toString())));
    const payload = buildPayload('ops', entry(4, 'move'));
    const sent = await deliver({ kind: 'syslog', target: `udp://127.0.0.1:${socket.address().port}` }, payload);
    assert.ok(sent.ok, sent.detail);
    const message = await received;
    socket.close();
    assert.match(message, /^<29>1 \S+ \S+ ipfo \d+ move \[ipfo@32473 seq="4" /);
  });

  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});

describe('hooks: the sender on a file store', () => {
  async function setup(): Promise<{ dir: string; stores: FileStore[]; memberships: Membership[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-hooks-sender-'));
    const stores = [await FileStore.open({ dir }), await FileStore.open({ dir })];
    const memberships = [await stores[0]!.join(nodeRecord('n1'), { ttlSec: 3 }), await stores[1]!.join(nodeRecord('n2'), { ttlSec: 3 })];
    return { dir, stores, memberships };
  }

  function senderFor(store: ClusterStore, node: string, membership: () => Membership | null, deliverFn: Deliver, logs: string[]): { sender: HookSender; stopWatch: () => Promise<void> } {
    const listeners = new Set<(change: StoreChange) => void>();
    let unwatch: (() => Promise<void>) | null = null;
    void store.watch(0, (change) => {
      for (const listener of listeners) listener(change);
    }).then((u) => (unwatch = u));
    const sender = new HookSender({ node, store, membership, deliver: deliverFn, log: (line) => logs.push(`${node}: ${line}`), backoff: { baseMs: 20, maxMs: 80 }, electionMs: 50, onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    } });
    return { sender, stopWatch: async () => unwatch?.() };
  }

  async function until(what: string, done: () => boolean | Promise<boolean>, logs: string[], timeoutMs = 10_000): Promise<void> {
    const started = Date.now();
    while (!(await done())) {
      if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms\n${logs.slice(-20).join('\n')}`);
      await sleep(10);
    }
  }

  test('one sender by its lease; in audit order; a failure retried before later entries; the next sender goes on from the cursor', async () => {
    const { dir, stores, memberships } = await setup();
    const logs: string[] = [];
    const delivered: Array<{ node: string; seq: number }> = [];
    let failNext = 2;
    const fakeDeliver = (node: string): Deliver => async (_target, payload) => {
      await sleep(1);
      if (failNext > 0) {
        failNext -= 1;
        return { ok: false, detail: 'HTTP 503', durationMs: 1 };
      }
      delivered.push({ node, seq: payload.seq });
      return { ok: true, detail: 'HTTP 200', durationMs: 1 };
    };
    let firstAlive = true;
    const a = senderFor(stores[0]!, 'n1', () => (firstAlive ? memberships[0]! : null), fakeDeliver('n1'), logs);
    const b = senderFor(stores[1]!, 'n2', () => memberships[1]!, fakeDeliver('n2'), logs);
    try {
      const audit = async (record: Omit<AuditEntry, 'at' | 'seq'>) => (await stores[0]!.appendAudit({ at: Date.now(), ...record })).seq;
      await audit({ actor: 'x', action: 'online', target: 'web', outcome: 'ok', detail: null, handoffMs: null });
      const commands = new HookCommands('n1', stores[0]!, audit, deliver);
      const added = await commands.add({ name: 'h1', events: ['move', 'failover'], target: { kind: 'syslog', target: 'udp://127.0.0.1:9' } }, 'root');
      assert.ok(added.ok);
      a.sender.start();
      await until('n1 elected', () => a.sender.isSender, logs);
      b.sender.start();
      const seqs: number[] = [];
      for (let i = 0; i < 5; i += 1) seqs.push(await audit({ actor: 'x', action: i % 2 === 0 ? 'move' : 'release', target: 'web', outcome: 'ok', detail: null, handoffMs: null }));
      const wanted = seqs.filter((_, i) => i % 2 === 0);
      await until('first three delivered', () => delivered.length >= 3, logs);
      assert.deepEqual(delivered.map((d) => d.seq), wanted, 'in audit order, each once, after two failed attempts at the first');
      assert.ok(delivered.every((d) => d.node === 'n1'));
      assert.ok(!b.sender.isSender);
      assert.ok(logs.some((line) => /not delivered \(attempt 2/.test(line)), logs.join('\n'));
      const listed = await commands.list();
      assert.ok(listed.ok);
      const info = (listed.result as { hooks: Array<{ state: { lastDeliveredSeq: number; failures: number; pending: number; lastError: string | null } }>; sender: string }).hooks[0]!;
      assert.equal(info.state.lastDeliveredSeq, wanted[2]);
      assert.equal(info.state.failures, 0);
      assert.equal((listed.result as { sender: string }).sender, 'n1');

      // n1's lease ends (as when it dies): its key goes, n2 takes over from the stored cursor.
      firstAlive = false;
      a.sender.stop();
      await memberships[0]!.revoke();
      const later = [
        await audit({ actor: 'x', action: 'failover from n1', target: 'web', outcome: 'ok', detail: null, handoffMs: null }),
        await audit({ actor: 'x', action: 'move', target: 'web', outcome: 'ok', detail: null, handoffMs: null }),
      ];
      await until('n2 delivers the rest', () => delivered.length >= 5, logs);
      assert.deepEqual(delivered.map((d) => d.seq), [...wanted, ...later]);
      assert.deepEqual(delivered.slice(3).map((d) => d.node), ['n2', 'n2']);
      assert.equal((await stores[1]!.hookSender())?.node, 'n2');
    } finally {
      a.sender.stop();
      b.sender.stop();
      await a.stopWatch();
      await b.stopWatch();
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('hook add refuses a duplicate and a missing secret file; rm deletes its state; a hostile record is refused on write', async () => {
    const { dir, stores } = await setup();
    try {
      const store = stores[0]!;
      const commands = new HookCommands('n1', store, () => Promise.resolve(1), deliver);
      assert.ok((await commands.add({ name: 'h1', events: ['*'], target: { kind: 'syslog', target: 'udp://127.0.0.1:9' } }, 'root')).ok);
      const again = await commands.add({ name: 'h1', events: ['*'], target: { kind: 'syslog', target: 'udp://127.0.0.1:9' } }, 'root');
      assert.ok(!again.ok && again.error.code === 'conflict');
      const noSecret = await commands.add({ name: 'h2', events: ['*'], target: { kind: 'webhook', url: 'http://127.0.0.1:9/', secretFile: join(dir, 'nope'), timeoutMs: 1000 } }, 'root');
      assert.ok(!noSecret.ok && noSecret.error.field === 'target.secretFile');
      assert.equal((await store.hookStates()).length, 1);
      assert.ok((await commands.remove('h1', 'root')).ok);
      assert.deepEqual((await store.hooks()).hooks, []);
      assert.deepEqual(await store.hookStates(), []);
      await assert.rejects(store.putHook({ ...hook(['*']), target: { kind: 'exec', path: 'sh', args: ['-c', 'x'], timeoutMs: 1000 } }), (error) => isStoreError(error, 'invalid'));
    } finally {
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
