// Event hooks on a real cluster (issue 15 §2): three agents on etcd in lab namespaces, and three hooks —
// a webhook to a Node receiver on the client c1 (which answers every 7th request with 503, so the
// sender retries; each after 250 ms, and none while the test holds them, so the sender dies with events
// undelivered), RFC 5424 syslog over UDP to a real rsyslogd on c1 (its own config, writing a file in
// a temp dir), and an exec hook running /usr/bin/tee -a FILE (the event's JSON from stdin appended). A
// scripted sequence — moves, an offline and an online, and a kill -9 of the agent that SENDS the hooks'
// events (found through the sender key, killed while it holds an address and a move is under way), which
// also causes a takeover — must arrive at every receiver as exactly the audit log's matching entries, in
// audit order, without a gap: at least once, so a seq may arrive twice, but then with the same payload,
// and the first arrivals, deduplicated by seq, are the audit's list.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { JsonLines } from './json-lines';
import { hookMatches } from '../../preload/contract/hooks';

const RSYSLOGD = '/usr/sbin/rsyslogd';
const WEBHOOK_PORT = 18_200;
const SYSLOG_PORT = 15_514;
const SECRET = 'lab-hook-secret-0123456789';
const RECEIVER = join(__dirname, 'fixtures', 'hook-receiver.js');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Arrival {
  seq: number;
  body: string;
}

interface AuditRow {
  seq: number;
  action: string;
}

describe('event hooks: every event delivered in audit order, across a kill -9 of the sending agent', { timeout: 300_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;
  let dir: string;
  let receiver: JsonLines;
  let rsyslog: JsonLines;
  let rsyslogPid = 0;
  const afterSeq = new Map<string, number>();
  const events = new Map<string, string[]>([
    ['web', ['*']],
    ['sys', ['*']],
    ['ex', ['move', 'failover', 'online', 'release', 'resource.*']],
  ]);
  const live = new Set(['n1', 'n2', 'n3']);
  const liveNode = (): string => [...live].at(-1)!;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 2, rogue: false, name: 'hooks' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
    dir = mkdtempSync(join(tmpdir(), `ipfo-hooks-${lab.id}-`));
    const c1 = lab.host('c1');
    writeFileSync(join(dir, 'secret'), `${SECRET}\n`, { mode: 0o600 });
    // rsyslogd in c1's namespace: UDP on c1's address, each message's structured data and text on a line of its own file.
    const conf = join(dir, 'rsyslog.conf');
    writeFileSync(conf, [
      `global(workDirectory="${dir}")`,
      'module(load="imudp")',
      'template(name="hookline" type="string" string="%structured-data% %msg%\\n")',
      'ruleset(name="hooks") {',
      `  action(type="omfile" file="${join(dir, 'syslog.log')}" template="hookline")`,
      '}',
      `input(type="imudp" address="${c1.ip}" port="${SYSLOG_PORT}" ruleset="hooks")`,
      '',
    ].join('\n'));
    rsyslog = new JsonLines(lab.spawn('c1', [RSYSLOGD, '-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    rsyslogPid = rsyslog.child.pid ?? 0;
    receiver = new JsonLines(lab.spawn('c1', [process.execPath, RECEIVER, c1.ip, String(WEBHOOK_PORT), '7', '250', join(dir, 'hold')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await receiver.waitFor((r) => r.listening === true, 10_000, 'the webhook receiver listening');
    for (let i = 0; i < 100 && !existsSync(join(dir, 'rsyslogd.pid')); i += 1) await sleep(50);
    assert.ok(existsSync(join(dir, 'rsyslogd.pid')), `rsyslogd did not start: ${rsyslog.stderr}`);

    for (const [name, vip, preferred] of [['web', lab.vip(90), 'n1'], ['db', lab.vip(91), 'n2']] as const) {
      const added = await cluster.cli('n1', ['resource', 'add', name, `${vip}/24`, '--preferred', preferred]);
      assert.equal(added.code, 0, added.stderr);
    }
    await cluster.waitOwner('n3', 'web', 'n1');
    await cluster.waitOwner('n3', 'db', 'n2');

    const hooks: Array<[string, string[]]> = [
      ['web', ['--webhook', `http://${c1.ip}:${WEBHOOK_PORT}/ipfo`, '--secret-file', join(dir, 'secret'), '--timeout', '3']],
      ['sys', ['--syslog', '--syslog-target', `udp://${c1.ip}:${SYSLOG_PORT}`]],
      ['ex', ['--exec', '/usr/bin/tee', '--arg=-a', `--arg=${join(dir, 'exec.jsonl')}`]],
    ];
    for (const [name, target] of hooks) {
      const added = await cluster.cli('n1', ['hook', 'add', name, '--on', events.get(name)!.join(','), ...target, '--json']);
      assert.equal(added.code, 0, added.stderr);
      afterSeq.set(name, (JSON.parse(added.stdout) as { hook: { afterSeq: number } }).hook.afterSeq);
    }
  });

  after(async () => {
    if (rsyslogPid > 0) {
      process.kill(rsyslogPid, 'SIGTERM');
      await rsyslog.exited;
    }
    if (receiver !== undefined) {
      receiver.child.kill('SIGTERM');
      await receiver.exited;
    }
    await cluster?.destroy();
    await lab?.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function hookList(): Promise<{ hooks: Array<{ hook: { name: string }; state: { cursor: number; lastDeliveredSeq: number | null; pending: number; lastError: string | null; lastAttemptAt: number | null } | null }>; sender: string | null }> {
    const run = await cluster.cli(liveNode(), ['hook', 'list', '--json']);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as Awaited<ReturnType<typeof hookList>>;
  }

  async function senderNow(): Promise<string> {
    let sender: string | null = null;
    await cluster.until('a hooks sender', async () => {
      sender = (await hookList()).sender;
      return sender !== null && live.has(sender);
    }, 20_000);
    return sender!;
  }

  async function cli(node: string, args: string[]): Promise<void> {
    const run = await cluster.cli(node, args);
    assert.ok(run.code === 0 || run.code === 1 || run.code === 3, `ipfo ${args.join(' ')}: ${run.code} ${run.stderr}`);
  }

  async function audit(since: number): Promise<AuditRow[]> {
    const rows: AuditRow[] = [];
    let from = since;
    for (;;) {
      const answer = await cluster.api(liveNode(), 'events.query', { since: from, limit: 1000 });
      assert.ok(answer.ok, JSON.stringify(answer));
      const entries = (answer.result as { entries: AuditRow[] }).entries;
      rows.push(...entries.map((e) => ({ seq: e.seq, action: e.action })));
      if (entries.length < 1000) return rows;
      from = entries.at(-1)!.seq;
    }
  }

  function arrivals(name: string): Arrival[] {
    const fromJson = (text: string): Arrival => {
      const body = text.slice(text.indexOf('{'));
      return { seq: (JSON.parse(body) as { seq: number }).seq, body };
    };
    if (name === 'web') {
      return receiver.records.filter((r) => typeof r.body === 'string' && r.status === 200).map((r) => {
        const body = r.body as string;
        assert.equal(r.signature, `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`, 'every request is signed with the secret');
        assert.equal(r.seq, String((JSON.parse(body) as { seq: number }).seq), 'X-Ipfo-Seq is the payload\'s seq');
        return { seq: Number(r.seq), body };
      });
    }
    const file = join(dir, name === 'sys' ? 'syslog.log' : 'exec.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((line) => line.includes('{')).map(fromJson);
  }

  /** The first arrival of each seq, in arrival order; a repeated seq must carry the same payload. */
  function deduplicated(name: string): number[] {
    const first = new Map<number, string>();
    const order: number[] = [];
    for (const arrival of arrivals(name)) {
      const seen = first.get(arrival.seq);
      if (seen === undefined) {
        first.set(arrival.seq, arrival.body);
        order.push(arrival.seq);
      } else assert.equal(arrival.body, seen, `${name}: seq ${arrival.seq} delivered again with another payload`);
    }
    return order;
  }

  test('the sequence, with the sender killed mid-way: every receiver sees the audit\'s entries in order, no gap', async () => {
    const firstSender = await senderNow();
    // The sender holds web, so killing it is also a takeover.
    await cli(liveNode(), ['move', 'web', firstSender]);
    await cluster.waitOwner(liveNode(), 'web', firstSender, 20_000);
    const others = [...live].filter((n) => n !== firstSender);
    // The receiver holds its answers from now on: the sender is stuck on one event while more arrive.
    const heldFrom = receiver.records.length;
    writeFileSync(join(dir, 'hold'), '');
    await cli(others[0]!, ['offline', 'db']);
    await cli(others[0]!, ['online', 'db']);
    await cli(others[0]!, ['move', 'db', others[1]!]);
    await cluster.until('the sender waiting on a held request', () => Promise.resolve(receiver.records.length > heldFrom), 10_000);
    // A move under way when the sender dies (its outcome does not matter: it is audited either way).
    const pendingMove = cluster.cli(others[0]!, ['move', 'db', others[0]!]);
    await sleep(150);
    await cluster.killAgent(firstSender);
    live.delete(firstSender);
    rmSync(join(dir, 'hold'));
    // The killed sender had events it had not delivered yet (the held one, and those after it).
    const atKill = (await audit(afterSeq.get('web')!)).map((r) => r.seq);
    const receivedAtKill = new Set(deduplicated('web'));
    const backlog = atKill.filter((seq) => !receivedAtKill.has(seq)).length;
    assert.ok(backlog > 0, 'the killed sender left events undelivered');
    await pendingMove;
    // The takeover of web by a survivor.
    await cluster.until('web taken over', async () => {
      const { resources } = await cluster.status(liveNode());
      const web = resources.find((r) => r.name === 'web');
      return web?.state === 'online' && web.owner !== firstSender;
    }, 30_000);
    const secondSender = await senderNow();
    assert.notEqual(secondSender, firstSender, 'another agent took the sender key over');
    await cli(others[1]!, ['move', 'web', others[0]!]);
    await cli(others[1]!, ['offline', 'web']);
    await cli(others[1]!, ['online', 'web']);
    await cli(others[1]!, ['move', 'db', others[1]!]);
    await sleep(2_000);

    // Settle: every matching entry up to the last seq read has arrived at every receiver.
    const since = Math.min(...afterSeq.values());
    let rows: AuditRow[] = [];
    let expected = new Map<string, number[]>();
    await cluster.until('every hook caught up with the audit log', async () => {
      rows = await audit(since);
      const last = rows.at(-1)?.seq ?? 0;
      expected = new Map([...events].map(([name, patterns]) => [name, rows.filter((r) => r.seq > afterSeq.get(name)! && hookMatches(patterns, r.action)).map((r) => r.seq)]));
      return [...events.keys()].every((name) => {
        const got = new Set(deduplicated(name));
        return expected.get(name)!.every((seq) => got.has(seq)) && last > 0;
      });
    }, 90_000);
    const last = rows.at(-1)!.seq;
    for (const name of events.keys()) {
      const got = deduplicated(name);
      const upToLast = got.filter((seq) => seq <= last);
      assert.deepEqual(upToLast, expected.get(name), `${name}: the deduplicated arrivals are the audit's matching entries, in order`);
      assert.deepEqual([...got].sort((a, b) => a - b), got, `${name}: arrivals in audit order`);
      const all = arrivals(name).length;
      console.log(`# ${name}: ${expected.get(name)!.length} events (seq ${expected.get(name)![0]}..${expected.get(name)!.at(-1)}), ${all} arrivals, ${all - got.length} repeated`);
    }
    // The kinds of events the sequence made are among them.
    const actions = new Set(rows.map((r) => r.action.split(' ')[0]));
    for (const action of ['move', 'failover', 'resource.offline', 'resource.online']) assert.ok(actions.has(action), `the audit has ${action}: ${[...actions].join(', ')}`);
    const refused = receiver.records.filter((r) => r.status === 503).length;
    assert.ok(refused > 0, 'the receiver refused some requests: the sender retried them');
    console.log(`# senders: ${firstSender} (killed with ${backlog} webhook events not yet delivered), then ${secondSender}; the receiver refused ${refused} requests (retried)`);

    // The delivery state, as `ipfo hook list` shows it.
    await cluster.until('delivery state settled', async () => {
      const list = await hookList();
      return list.hooks.every((h) => h.state !== null && h.state.pending === 0 && h.state.lastError === null || h.state?.lastError?.includes('503') === true);
    }, 20_000);
    const list = await hookList();
    for (const info of list.hooks) {
      assert.ok(info.state !== null && info.state.lastDeliveredSeq !== null && info.state.lastAttemptAt !== null, JSON.stringify(info));
      assert.ok(info.state.cursor >= expected.get(info.hook.name)!.at(-1)!, JSON.stringify(info));
    }
    const text = await cluster.cli(liveNode(), ['hook', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /HOOK +EVENTS +TARGET +DELIVERED/);
    assert.doesNotMatch(text.stdout, new RegExp(SECRET), 'the secret is never shown');
    assert.match(text.stdout, new RegExp(`sender: ${secondSender}`));
  });

  test('hook test delivers one event (seq 0) now; a hostile hook record written into etcd is left out, never run', async () => {
    const tested = await cluster.cli(liveNode(), ['hook', 'test', 'web']);
    assert.equal(tested.code, 0, `${tested.stdout} ${tested.stderr}`);
    await cluster.until('the test event arrived', () => Promise.resolve(receiver.records.some((r) => r.seq === '0')), 10_000);
    const marker = join(dir, 'hostile-ran');
    const hostile = { name: 'evil', events: ['*'], target: { kind: 'exec', path: 'touch', args: [marker], timeoutMs: 1000 }, afterSeq: 0, createdAt: 1, createdBy: 'x' };
    await cluster.etcd!.etcdctlOk(['put', 'ipfo/default/hooks/evil', JSON.stringify(hostile)]);
    let listed: Awaited<ReturnType<typeof hookList>> | null = null;
    await cluster.until('the hostile hook reported', async () => {
      const run = await cluster.cli(liveNode(), ['hook', 'list', '--json']);
      listed = JSON.parse(run.stdout) as typeof listed;
      return (listed as unknown as { rejected: unknown[] }).rejected.length > 0;
    }, 10_000);
    assert.ok(!listed!.hooks.some((h) => h.hook.name === 'evil'));
    await sleep(3_000);
    assert.ok(!existsSync(marker), 'the hostile hook never ran');
    const removed = await cluster.cli(liveNode(), ['hook', 'rm', 'ex']);
    assert.equal(removed.code, 0, removed.stderr);
  });
});
