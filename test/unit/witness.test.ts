// The two-MAC witness's bookkeeping (test/lab/tools/witness-log.ts) on synthetic answers and frames.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { announcement, gratuitousReply, probe, reply, request } from '../../main/arp/codec';
import {
  findOverlaps,
  findTransitions,
  macActivity,
  WitnessLog,
  type AnswerKind,
  type WitnessAnswer,
} from '../lab/tools/witness-log';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';
const CLIENT_MAC = '02:00:00:00:00:33';
const CLIENT_IP = '10.213.1.51';
const VIP = '10.213.1.101';
const WINDOW = { windowMs: 30 };

function answer(mac: string, wallMs: number, request: number | null = null, kind: AnswerKind = request === null ? 'announcement' : 'reply'): WitnessAnswer {
  return { mac, kind, request, wallMs };
}

/** `mac` replying to requests from..to, one every 20 ms, 0.1 ms after each request. */
function replies(mac: string, from: number, to: number): WitnessAnswer[] {
  const list: WitnessAnswer[] = [];
  for (let r = from; r <= to; r++) list.push(answer(mac, r * 20 + 0.1, r));
  return list;
}

describe('findOverlaps', () => {
  test('one MAC answering every round: no overlap', () => {
    assert.deepEqual(findOverlaps(replies(A, 0, 50), WINDOW), []);
  });

  test('an empty answer list: no overlap', () => {
    assert.deepEqual(findOverlaps([], WINDOW), []);
  });

  test('two MACs replying to one request: an overlap naming both', () => {
    const answers = [...replies(A, 0, 3), answer(B, 60.3, 3)];
    assert.deepEqual(findOverlaps(answers, WINDOW), [
      { macs: [A, B], fromWallMs: 60.1, toWallMs: 60.3, rules: ['same-request'], evidence: 1 },
    ]);
  });

  test('a clean handoff is not an overlap, however short the silence', () => {
    // A answers up to request 4 (at 80.1), B announces 0.2 ms later and answers from request 5 on.
    const answers = [...replies(A, 0, 4), answer(B, 80.3), ...replies(B, 5, 9)];
    assert.deepEqual(findOverlaps(answers, WINDOW), []);
    assert.deepEqual(findTransitions(answers), [{ from: A, to: B, lastFromWallMs: 80.1, firstToWallMs: 80.3, silenceMs: 0.2 }]);
  });

  test('the old owner answering again right after the new one announced: interleaved', () => {
    const answers = [answer(A, 0.1, 0), answer(B, 5), answer(A, 20.1, 1)];
    assert.deepEqual(findOverlaps(answers, WINDOW), [{ macs: [A, B], fromWallMs: 5, toWallMs: 5, rules: ['interleaved'], evidence: 1 }]);
  });

  test('a failback long after the move is not an overlap', () => {
    const answers = [...replies(A, 0, 4), ...replies(B, 5, 9), ...replies(A, 60, 64)];
    assert.deepEqual(findOverlaps(answers, WINDOW), []);
    assert.deepEqual(
      findTransitions(answers).map((t) => [t.from, t.to]),
      [
        [A, B],
        [B, A],
      ],
    );
  });

  test('A, B, A with A silent longer than the window in between is not an overlap', () => {
    const answers = [answer(A, 0.1, 0), answer(B, 20.1, 1), answer(A, 40.1, 2)];
    assert.deepEqual(findOverlaps(answers, WINDOW), []);
  });

  test('a lasting overlap is one stretch, not one entry per round', () => {
    const answers = [...replies(A, 0, 10), ...replies(B, 3, 7).map((a) => ({ ...a, wallMs: a.wallMs + 0.05 }))];
    const overlaps = findOverlaps(answers, WINDOW);
    assert.equal(overlaps.length, 1);
    const [only] = overlaps;
    assert.deepEqual(only?.macs, [A, B]);
    assert.equal(only?.fromWallMs, 60.1);
    assert.equal(only?.toWallMs, 140.15); // B's last answer
    assert.deepEqual(only?.rules, ['interleaved', 'same-request']);
    assert.ok((only?.evidence ?? 0) >= 5, `five shared requests at least, got ${only?.evidence}`);
  });

  test('two overlaps far apart stay two stretches', () => {
    const answers = [...replies(A, 0, 20), answer(B, 40.2, 2), answer(C, 380.2, 19)];
    const overlaps = findOverlaps(answers, WINDOW);
    assert.deepEqual(
      overlaps.map((o) => [o.macs, o.fromWallMs, o.toWallMs]),
      [
        [[A, B], 40.1, 40.2],
        [[A, C], 380.1, 380.2],
      ],
    );
  });

  test('unsolicited answers from two MACs do not pair up as one request', () => {
    // Announcements are 100 ms apart: neither rule applies.
    const answers = [answer(A, 0), answer(B, 100), answer(A, 200, null, 'gratuitous-reply')];
    assert.deepEqual(findOverlaps(answers, WINDOW), []);
  });

  test('answers given out of time order are judged in time order', () => {
    const answers = [answer(A, 20.1, 1), answer(B, 5), answer(A, 0.1, 0)];
    assert.deepEqual(findOverlaps(answers, WINDOW).map((o) => o.rules), [['interleaved']]);
  });
});

describe('macActivity', () => {
  test('first and last answer and the count per MAC', () => {
    const answers = [...replies(A, 0, 4), ...replies(B, 5, 6)];
    assert.deepEqual(macActivity(answers), {
      [A]: { firstWallMs: 0.1, lastWallMs: 80.1, answers: 5 },
      [B]: { firstWallMs: 100.1, lastWallMs: 120.1, answers: 2 },
    });
  });
});

describe('WitnessLog', () => {
  const newLog = (): WitnessLog => new WitnessLog({ address: VIP, ownMac: CLIENT_MAC, ownIp: CLIENT_IP, intervalMs: 20 });
  const ownProbe = request(CLIENT_MAC, CLIENT_IP, VIP);

  test('numbers the client\'s requests and pairs each reply with the latest one', () => {
    const log = newLog();
    log.observe(ownProbe, 0);
    const first = log.observe(reply(A, VIP, CLIENT_MAC, CLIENT_IP), 0.2);
    log.observe(ownProbe, 20);
    const second = log.observe(reply(A, VIP, CLIENT_MAC, CLIENT_IP), 20.2);
    assert.deepEqual(first.answer, { mac: A, kind: 'reply', request: 0, wallMs: 0.2 });
    assert.equal(second.answer?.request, 1);
    assert.equal(log.summary().requests, 2);
  });

  test('two MACs replying to one request show in the summary as an overlap', () => {
    const log = newLog();
    log.observe(ownProbe, 0);
    log.observe(reply(A, VIP, CLIENT_MAC, CLIENT_IP), 0.2);
    log.observe(reply(B, VIP, CLIENT_MAC, CLIENT_IP), 0.3);
    const summary = log.summary();
    assert.deepEqual(summary.overlaps.map((o) => o.macs), [[A, B]]);
    assert.equal(summary.answerCount, 2);
    assert.deepEqual(Object.keys(summary.macs).sort(), [A, B]);
  });

  test('announcements and gratuitous replies are unsolicited answers', () => {
    const log = newLog();
    log.observe(ownProbe, 0);
    assert.deepEqual(log.observe(announcement(B, VIP), 1).answer, { mac: B, kind: 'announcement', request: null, wallMs: 1 });
    assert.equal(log.observe(gratuitousReply(B, VIP), 2).answer?.kind, 'gratuitous-reply');
  });

  test('ignores frames that do not answer for the address', () => {
    const log = newLog();
    log.observe(ownProbe, 0);
    const ignored = [
      probe(B, VIP), // a station asking whether the address is free holds nothing
      reply(A, '10.213.1.11', CLIENT_MAC, CLIENT_IP), // answers for another address
      request(A, '10.213.1.11', VIP), // asks for the address
      reply(CLIENT_MAC, VIP, A, '10.213.1.11'), // the client itself
    ];
    for (const frame of ignored) assert.deepEqual(log.observe(frame, 1), { answer: null, probeNow: false });
    assert.equal(log.answerCount, 0);
  });

  test('a reply before any request of the client is unsolicited', () => {
    const log = newLog();
    assert.equal(log.observe(reply(A, VIP, CLIENT_MAC, CLIENT_IP), 1).answer?.request, null);
  });

  test('requests the client kernel sends count like the witness\'s own', () => {
    const log = newLog();
    log.observe(ownProbe, 0);
    log.observe(request(CLIENT_MAC, CLIENT_IP, VIP), 5);
    assert.equal(log.observe(reply(A, VIP, CLIENT_MAC, CLIENT_IP), 5.1).answer?.request, 1);
    // A request for another address does not.
    log.observe(request(CLIENT_MAC, CLIENT_IP, '10.213.1.11'), 6);
    assert.equal(log.summary().requests, 2);
  });

  test('asks for a probe when a MAC starts answering, not on every answer', () => {
    const log = newLog();
    log.observe(ownProbe, 0);
    assert.equal(log.observe(reply(A, VIP, CLIENT_MAC, CLIENT_IP), 0.1).probeNow, true, 'first answer of A');
    assert.equal(log.observe(reply(A, VIP, CLIENT_MAC, CLIENT_IP), 20.1).probeNow, false, 'A again within the interval');
    assert.equal(log.observe(announcement(B, VIP), 21).probeNow, true, 'first answer of B');
    assert.equal(log.observe(reply(B, VIP, CLIENT_MAC, CLIENT_IP), 40.1).probeNow, false, 'B again');
    assert.equal(log.observe(reply(A, VIP, CLIENT_MAC, CLIENT_IP), 200).probeNow, true, 'A back after a silence');
  });
});
