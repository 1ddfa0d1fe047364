// The two-MAC witness's bookkeeping for an IPv6 address (WitnessLog.observeNd in
// test/lab/tools/witness-log.ts) on neighbour discovery frames built by main/nd/builders.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildDadProbe,
  buildSolicitation,
  buildSolicitedAdvertisement,
  buildUnsolicitedAdvertisement,
} from '../../main/nd/builders';
import type { NdFrame } from '../../main/nd/frame';
import { WitnessLog } from '../lab/tools/witness-log';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const CLIENT_MAC = '02:00:00:00:00:33';
const CLIENT_IP = '2001:db8:d5:7::33';
const VIP = '2001:db8:d5:7::65';
const OTHER = '2001:db8:d5:7::66';
const INTERVAL_MS = 20;

function witness(): WitnessLog {
  return new WitnessLog({ address: VIP, ownMac: CLIENT_MAC, ownIp: CLIENT_IP, intervalMs: INTERVAL_MS });
}

/** The witness's question, as the tool sends it (and its capture reads it back from the sending handle). */
function question(target = VIP): NdFrame {
  return buildSolicitation(CLIENT_MAC, CLIENT_IP, target);
}

describe('WitnessLog.observeNd', () => {
  test('a solicited advertisement to the client answers the solicitation before it, from its target link-layer MAC', () => {
    const log = witness();
    const ask = question();
    assert.deepEqual(log.observeNd(ask, 0), { answer: null, probeNow: false });
    const { answer, probeNow } = log.observeNd(buildSolicitedAdvertisement(A, ask), 0.2);
    assert.deepEqual(answer, { mac: A, kind: 'reply', request: 0, wallMs: 0.2 });
    assert.equal(probeNow, true, 'a MAC that starts answering is probed at once');

    log.observeNd(ask, 20);
    assert.deepEqual(log.observeNd(buildSolicitedAdvertisement(A, ask), 20.2), { answer: { mac: A, kind: 'reply', request: 1, wallMs: 20.2 }, probeNow: false });

    const summary = log.summary();
    assert.equal(summary.address, VIP);
    assert.equal(summary.requests, 2);
    assert.equal(summary.answerCount, 2);
    assert.deepEqual(Object.keys(summary.macs), [A]);
    assert.deepEqual(summary.overlaps, []);
    assert.deepEqual(summary.transitions, []);
  });

  test('two MACs answering one solicitation: an overlap naming both', () => {
    const log = witness();
    for (let round = 0; round < 3; round++) {
      const ask = question();
      log.observeNd(ask, round * 20);
      log.observeNd(buildSolicitedAdvertisement(A, ask), round * 20 + 0.1);
      log.observeNd(buildSolicitedAdvertisement(B, ask), round * 20 + 0.3);
    }
    const summary = log.summary();
    assert.equal(summary.requests, 3);
    // Three same-request proofs (one per round) and four interleavings (A, B, A and B, A, B across rounds), one stretch.
    assert.deepEqual(summary.overlaps, [{ macs: [A, B], fromWallMs: 0.1, toWallMs: 40.3, rules: ['interleaved', 'same-request'], evidence: 7 }]);
    assert.deepEqual(log.keptAnswers.map((a) => a.request), [0, 0, 1, 1, 2, 2]);
  });

  test('an unsolicited advertisement from a new MAC is an announcement and a transition, not an overlap', () => {
    const log = witness();
    for (let round = 0; round < 4; round++) {
      const ask = question();
      log.observeNd(ask, round * 20);
      log.observeNd(buildSolicitedAdvertisement(A, ask), round * 20 + 0.1);
    }
    // A lets go after round 3; B announces 0.2 ms later and answers from then on.
    const announced = log.observeNd(buildUnsolicitedAdvertisement(B, VIP), 60.3);
    assert.deepEqual(announced, { answer: { mac: B, kind: 'announcement', request: null, wallMs: 60.3 }, probeNow: true });
    for (let round = 4; round < 7; round++) {
      const ask = question();
      log.observeNd(ask, round * 20);
      log.observeNd(buildSolicitedAdvertisement(B, ask), round * 20 + 0.1);
    }
    const summary = log.summary();
    assert.deepEqual(summary.overlaps, []);
    assert.deepEqual(summary.transitions, [{ from: A, to: B, lastFromWallMs: 60.1, firstToWallMs: 60.3, silenceMs: 0.2 }]);
    assert.deepEqual(summary.macs[B], { firstWallMs: 60.3, lastWallMs: 120.1, answers: 4 });
  });

  test('the old holder answering right after the new one announced: interleaved', () => {
    const log = witness();
    const first = question();
    log.observeNd(first, 0);
    log.observeNd(buildSolicitedAdvertisement(A, first), 0.1);
    log.observeNd(buildUnsolicitedAdvertisement(B, VIP), 5);
    const second = question();
    log.observeNd(second, 20);
    log.observeNd(buildSolicitedAdvertisement(A, second), 20.1);
    assert.deepEqual(log.summary().overlaps, [{ macs: [A, B], fromWallMs: 5, toWallMs: 5, rules: ['interleaved'], evidence: 1 }]);
  });

  test('the MAC is the target link-layer option when there is one, else the Ethernet source', () => {
    const log = witness();
    const relayed = { ...buildUnsolicitedAdvertisement(A, VIP), srcMac: B };
    assert.equal(log.observeNd(relayed, 1).answer?.mac, A);
    const bare = buildUnsolicitedAdvertisement(B, VIP);
    const withoutOption = { ...bare, icmp: { ...bare.icmp, targetLinkAddr: null } } as NdFrame;
    assert.equal(log.observeNd(withoutOption, 2).answer?.mac, B);
  });

  test('frames that say nothing about the watched address are ignored', () => {
    const log = witness();
    const ask = question();
    log.observeNd(ask, 0);
    const answer = buildSolicitedAdvertisement(A, ask);
    // Another address, a hop limit other than 255 (came through a router), a solicitation from a holder,
    // and DAD traffic: no answer, no request.
    assert.equal(log.observeNd(buildUnsolicitedAdvertisement(B, OTHER), 1).answer, null);
    assert.equal(log.observeNd({ ...answer, ipv6: { ...answer.ipv6, hopLimit: 64 } }, 2).answer, null);
    assert.equal(log.observeNd(buildSolicitation(A, VIP, CLIENT_IP), 3).answer, null);
    assert.equal(log.observeNd(buildDadProbe(B, VIP), 4).answer, null);
    // The client's own solicitations for other addresses and its DAD probes are not requests; its advertisements are not answers.
    log.observeNd(question(OTHER), 5);
    log.observeNd(buildDadProbe(CLIENT_MAC, VIP), 6);
    assert.equal(log.observeNd(buildUnsolicitedAdvertisement(CLIENT_MAC, VIP), 7).answer, null);
    assert.deepEqual(log.observeNd(answer, 8).answer, { mac: A, kind: 'reply', request: 0, wallMs: 8 });
    assert.equal(log.summary().requests, 1);
  });

  test('a solicited advertisement to someone else, or a DAD answer to all nodes, counts toward no request', () => {
    const log = witness();
    log.observeNd(question(), 0);
    const otherAsker = buildSolicitation('02:00:00:00:00:44', '2001:db8:d5:7::44', VIP);
    assert.deepEqual(log.observeNd(buildSolicitedAdvertisement(A, otherAsker), 1).answer, { mac: A, kind: 'reply', request: null, wallMs: 1 });
    assert.deepEqual(log.observeNd(buildSolicitedAdvertisement(A, buildDadProbe(B, VIP)), 2).answer, {
      mac: A,
      kind: 'announcement',
      request: null,
      wallMs: 2,
    });
  });
});
