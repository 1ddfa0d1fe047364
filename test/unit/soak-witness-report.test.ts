// The soak's pure parts besides the schedule: the rolling many-address witness
// (test/lab/tools/witness-stream.ts) on synthetic frames, and the report's attribution rules
// (test/bench/soak-report.ts, soak-check.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, request } from '../../main/arp/codec';
import { WitnessStream, type StreamGap } from '../lab/tools/witness-stream';
import { placementProblems } from '../bench/soak-check';
import { isLiveOwnerRevocation, kindRows, parseRevocation, totals, totalsAreZero, type FaultRun, type SoakFacts } from '../bench/soak-report';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const CLIENT_MAC = '02:00:00:00:00:33';
const CLIENT_IP = '10.213.1.51';
const V1 = '10.213.1.101';
const V2 = '10.213.1.102';

function newStream(): WitnessStream {
  return new WitnessStream([V1, V2], { ownMac: CLIENT_MAC, ownIp: CLIENT_IP, intervalMs: 20, gapMs: 100, startWallMs: 0 });
}

/** One round at `t`: the client asks `vip`, each MAC in `macs` replies 0.1 ms later. */
function round(stream: WitnessStream, vip: string, t: number, macs: readonly string[]): StreamGap[] {
  stream.observe(request(CLIENT_MAC, CLIENT_IP, vip), t);
  return macs.flatMap((mac) => stream.observe(reply(mac, vip, CLIENT_MAC, CLIENT_IP), t + 0.1).gap ?? []);
}

describe('WitnessStream', () => {
  test('one MAC answering every round: no gap, no overlap, and memory stays bounded over a long run', () => {
    const stream = newStream();
    const gaps: StreamGap[] = [];
    for (let t = 0; t < 60_000; t += 20) {
      gaps.push(...round(stream, V1, t, [A]), ...round(stream, V2, t + 10, [B]));
      if (t % 500 === 0) assert.deepEqual(stream.flush(t), []);
    }
    const end = stream.finish(60_000);
    assert.deepEqual(end, { overlaps: [], openGaps: [] });
    assert.deepEqual(gaps, []);
    assert.ok(stream.keptAnswerCount() < 2 * 100, `${stream.keptAnswerCount()} answers kept after 6,000`);
    assert.deepEqual(stream.answerCounts(), { [V1]: 3000, [V2]: 3000 });
  });

  test('a silence longer than gapMs is reported when the address answers again, with both MACs', () => {
    const stream = newStream();
    round(stream, V1, 0, [A]);
    stream.observe(request(CLIENT_MAC, CLIENT_IP, V1), 20);
    stream.observe(request(CLIENT_MAC, CLIENT_IP, V1), 40);
    const back = stream.observe(reply(B, V1, CLIENT_MAC, CLIENT_IP), 400.1);
    assert.deepEqual(back.gap, { ip: V1, fromWallMs: 0.1, toWallMs: 400.1, ms: 400, fromMac: A, toMac: B });
    assert.equal(back.probeNow, V1, 'a new MAC: probe at once to catch an old holder still answering');
  });

  test('two MACs replying to one request are one overlap, reported once after the settle time', () => {
    const stream = newStream();
    for (let t = 0; t < 200; t += 20) round(stream, V1, t, [A]);
    round(stream, V1, 200, [A, B]);
    round(stream, V1, 220, [A, B]);
    for (let t = 240; t < 2000; t += 20) round(stream, V1, t, [B]);
    assert.deepEqual(stream.flush(300), [], 'not judged before it settled');
    const found = stream.flush(1500);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0]!.macs, [A, B]);
    assert.equal(found[0]!.ip, V1);
    assert.ok(found[0]!.fromWallMs >= 200 && found[0]!.toWallMs <= 221);
    assert.deepEqual(stream.flush(2000), [], 'never reported twice');
    assert.deepEqual(stream.finish(2000).overlaps, []);
  });

  test('finish reports addresses silent at the end (from the time probing stopped) and overlaps not yet flushed', () => {
    const stream = newStream();
    round(stream, V1, 0, [A]);
    round(stream, V2, 0, [B]);
    round(stream, V2, 500, [A, B]);
    const end = stream.finish(520);
    assert.deepEqual(end.openGaps.map((g) => [g.ip, g.toMac]), [[V1, null]]);
    assert.equal(end.overlaps.length, 1);
    assert.equal(end.overlaps[0]!.ip, V2);
  });
});

const fault = (over: Partial<FaultRun>): FaultRun => ({ index: 0, kind: 'kill', node: 'n1', startWallMs: 10_000, endWallMs: 12_000, detail: '', ...over });

describe('soak report', () => {
  test('parses the agent\'s revocation line', () => {
    const r = parseRevocation('n2', '2026-01-01T00:00:01.000Z', 'n1 silent on ARP for 10.213.1.101 for 302 ms: revoking its lease');
    assert.deepEqual(r, { atWallMs: Date.parse('2026-01-01T00:00:01.000Z'), by: 'n2', owner: 'n1', ip: '10.213.1.101', silentMs: 302 });
    assert.equal(parseRevocation('n2', '2026-01-01T00:00:01.000Z', 'joined as n2'), null);
  });

  test('a revocation is of a live owner unless the owner itself was faulted or crashed around it', () => {
    const faults = [fault({ kind: 'kill', node: 'n1' }), fault({ index: 1, kind: 'cpu-hog', node: null, startWallMs: 20_000, endWallMs: 25_000 })];
    const at = (atWallMs: number, owner = 'n1') => ({ atWallMs, by: 'n2', owner, ip: '10.213.1.101', silentMs: 300 });
    assert.equal(isLiveOwnerRevocation(at(11_000), faults, []), false, 'killed owner');
    assert.equal(isLiveOwnerRevocation(at(14_500), faults, []), false, 'within the tail after the restart');
    assert.equal(isLiveOwnerRevocation(at(11_000, 'n3'), faults, []), true, 'another node was faulted, not this owner');
    assert.equal(isLiveOwnerRevocation(at(22_000), faults, []), true, 'a busy CPU does not make an owner dead');
    assert.equal(isLiveOwnerRevocation(at(22_000), faults, [{ node: 'n1', atWallMs: 21_000, code: 134, signal: null, stderrTail: '' }]), false, 'its agent had crashed');
  });

  test('kind rows: gaps go to the fault around their start, per fault its longest; the rest to "no fault"', () => {
    const facts: SoakFacts = {
      faults: [fault({ index: 0 }), fault({ index: 1, startWallMs: 30_000, endWallMs: 31_000 }), fault({ index: 2, kind: 'move', node: null, startWallMs: 50_000, endWallMs: 50_500 })],
      gaps: [
        { ip: '1', fromWallMs: 10_500, toWallMs: 11_300, ms: 800, fromMac: A, toMac: B },
        { ip: '2', fromWallMs: 11_000, toWallMs: 11_200, ms: 200, fromMac: A, toMac: B },
        { ip: '1', fromWallMs: 30_100, toWallMs: 30_500, ms: 400, fromMac: A, toMac: B },
        { ip: '1', fromWallMs: 40_000, toWallMs: 40_150, ms: 150, fromMac: A, toMac: A },
      ],
      overlaps: [{ ip: '1', macs: [A, B], fromWallMs: 50_100, toWallMs: 50_120 }],
      revocations: [],
      crashes: [],
      endProblems: [],
    };
    const rows = kindRows(facts);
    assert.deepEqual(rows.map((r) => [r.kind, r.count, r.longestGapMs, r.overlaps]), [['kill', 2, 800, 0], ['move', 1, 0, 1], ['none', 0, 150, 0]]);
    const t = totals(facts);
    assert.deepEqual(t, { overlaps: 1, crashes: 0, notOnExactlyOneNode: 0, liveOwnerRevocations: 0 });
    assert.equal(totalsAreZero(t), false);
  });

  test('placement: online on exactly the node status names, else a problem', () => {
    const resources = [{ name: 'a', ip: '10.0.0.1' }, { name: 'b', ip: '10.0.0.2' }, { name: 'c', ip: '10.0.0.3' }, { name: 'd', ip: '10.0.0.4' }];
    const status = [
      { name: 'a', state: 'online', owner: 'n1' },
      { name: 'b', state: 'online', owner: 'n1' },
      { name: 'c', state: 'failed', owner: null, failure: { kind: 'conflict', mac: A } },
      { name: 'd', state: 'online', owner: 'n2' },
    ];
    const addresses = new Map([['n1', new Set(['10.0.0.1', '10.0.0.2'])], ['n2', new Set(['10.0.0.2'])], ['n3', new Set(['10.0.0.4'])]]);
    const problems = placementProblems(resources, status, addresses);
    assert.deepEqual(problems.map((p) => p.resource), ['b', 'c', 'd']);
    assert.match(problems[0]!.problem, /on n1,n2/);
    assert.match(problems[1]!.problem, /failed/);
    assert.match(problems[2]!.problem, /status names n2, the address is on n3/);
  });
});
