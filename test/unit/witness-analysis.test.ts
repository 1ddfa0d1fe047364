// `ipfo witness`'s analysis on a fake clock: probes every 20 ms, answers at chosen times, and the gaps,
// MAC changes and double-MAC moments it must (and must not) report, with their values.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { question, announcement, reply, gratuitousReply, probe } from '../../main/arp/codec';
import type { Mac } from '../../main/arp/frame';
import { WitnessAnalysis, witnessInput, type WitnessEvent } from '../../main/watch/witness-analysis';

const A: Mac = '00:00:0c:00:00:0a';
const B: Mac = '00:50:56:00:00:0b';
const C: Mac = '00:03:93:00:00:0c';
const OURS: Mac = '02:00:5e:00:00:01';
const VIP = '10.0.0.50';
const VENDORS: Record<string, string> = { [A]: 'Cisco', [B]: 'VMware' };
const vendorOf = (mac: Mac): string | null => VENDORS[mac] ?? null;

type Step = ['probe', number] | ['reply', number, Mac] | ['claim', number, Mac];

/** Feeds the steps in order, then finishes at `end`; returns every event and the summary. */
function run(steps: readonly Step[], end: number) {
  const analysis = new WitnessAnalysis({ intervalMs: 20, vendorOf });
  const events: WitnessEvent[] = [];
  for (const step of steps) {
    if (step[0] === 'probe') events.push(...analysis.probe(step[1]));
    else events.push(...analysis.answer(step[1], step[2], step[0]));
  }
  events.push(...analysis.finish(end));
  return { events, summary: analysis.summary(), of: (type: WitnessEvent['type']) => events.filter((e) => e.type === type) };
}

/** Probes at 0, 20, ... below `until`, each answered by `mac` 0.3 ms later unless `mac(t)` is null. */
function probes(from: number, until: number, mac: (t: number) => Mac | null): Step[] {
  const steps: Step[] = [];
  for (let t = from; t < until; t += 20) {
    steps.push(['probe', t]);
    const who = mac(t);
    if (who !== null) steps.push(['reply', t + 0.3, who]);
  }
  return steps;
}

describe('witness analysis', () => {
  test('one steady answerer: only the first answer is news; summary counts probes and answers', () => {
    const { events, summary } = run(probes(0, 1000, () => A), 1000);
    assert.deepEqual(events, [{ type: 'answering', at: 0.3, mac: A, vendor: 'Cisco' }]);
    assert.equal(summary.probes, 50);
    assert.equal(summary.answers, 50);
    assert.equal(summary.gaps, 0);
    assert.equal(summary.longestGapMs, 0);
    assert.equal(summary.changes, 0);
    assert.equal(summary.doubleMacMoments, 0);
    assert.equal(summary.verdict, 'one-answerer');
    assert.equal(summary.maxProbeSpacingMs, 20);
    assert.deepEqual(summary.macs, [{ mac: A, vendor: 'Cisco', answers: 50, firstAt: 0.3, lastAt: 980.3 }]);
  });

  test('a handoff with a silence: the gap (last old answer to first new one, probes missed) and the change A -> B', () => {
    // A answers up to the probe at 180; the probes at 200, 220, 240 go unanswered; B announces at 255, then answers.
    const steps: Step[] = [...probes(0, 200, () => A), ['probe', 200], ['probe', 220], ['probe', 240], ['claim', 255, B], ...probes(260, 400, () => B)];
    const { of, summary } = run(steps, 400);
    assert.deepEqual(of('gap'), [{ type: 'gap', from: 180.3, to: 255, ms: 74.7, missedProbes: 2, fromStart: false, ongoing: false }]);
    assert.deepEqual(of('change'), [{
      type: 'change', at: 255, from: A, to: B, fromVendor: 'Cisco', toVendor: 'VMware', lastFromAt: 180.3, gapMs: 74.7, afterDoubleMac: false, probesBetween: 3,
    }]);
    assert.deepEqual(of('double-mac'), []);
    assert.equal(summary.longestGapMs, 74.7);
    assert.equal(summary.changes, 1);
    assert.equal(summary.verdict, 'one-answerer');
  });

  test('a fast handoff inside one probe interval is a change, not a double MAC, and no gap', () => {
    const steps: Step[] = [...probes(0, 100, () => A), ['claim', 88.5, B], ...probes(100, 300, () => B)];
    const { of, summary } = run(steps, 300);
    assert.deepEqual(of('gap'), []);
    assert.deepEqual(of('double-mac'), []);
    const [change] = of('change');
    assert.deepEqual(change, { type: 'change', at: 88.5, from: A, to: B, fromVendor: 'Cisco', toVendor: 'VMware', lastFromAt: 80.3, gapMs: 8.2, afterDoubleMac: false, probesBetween: 0 });
    assert.equal(summary.changes, 1);
    assert.equal(summary.verdict, 'one-answerer');
  });

  test('the change is reported only once the old MAC could no longer prove a double MAC (1.5 intervals after its last answer)', () => {
    const analysis = new WitnessAnalysis({ intervalMs: 20 });
    analysis.probe(0);
    analysis.answer(0.3, A, 'reply');
    analysis.probe(20);
    assert.deepEqual(analysis.answer(21, B, 'claim'), []);
    assert.deepEqual(analysis.tick(30.2), []); // 29.9 ms after A's last answer: A may still come back
    const due = analysis.tick(30.3);
    assert.equal(due.length, 1);
    assert.equal(due[0]!.type, 'change');
  });

  test('two MACs reply to the same probe: a double-MAC moment (same-probe), ended when one stops; no change', () => {
    const steps: Step[] = [...probes(0, 100, () => A), ['probe', 100], ['reply', 100.2, A], ['reply', 100.5, B], ...probes(120, 300, () => A)];
    const { of, summary } = run(steps, 300);
    assert.deepEqual(of('double-mac'), [{ type: 'double-mac', at: 100.5, macs: [A, B], vendors: ['Cisco', 'VMware'], rule: 'same-probe' }]);
    // A's next reply (120.3, 20.1 ms after its previous one, B's reply between) proves the overlap once more.
    assert.deepEqual(of('double-mac-end'), [{ type: 'double-mac-end', from: 100.2, to: 120.3, ms: 20.1, macs: [A, B], vendors: ['Cisco', 'VMware'], evidence: 2 }]);
    assert.deepEqual(of('change'), []);
    assert.equal(summary.doubleMacMoments, 1);
    assert.equal(summary.verdict, 'double-mac');
  });

  test('a rogue\'s gratuitous ARP between the holder\'s answers: one interleaved moment over the whole episode', () => {
    // The rogue C announces every 20 ms from 205 to 385, between A's replies; A answers every probe throughout.
    const steps: Step[] = [];
    for (let t = 0; t < 600; t += 20) {
      steps.push(['probe', t], ['reply', t + 0.3, A]);
      if (t >= 200 && t < 400) steps.push(['claim', t + 5, C]);
    }
    const { of, summary } = run(steps, 600);
    const starts = of('double-mac');
    assert.equal(starts.length, 1);
    assert.deepEqual(starts[0], { type: 'double-mac', at: 220.3, macs: [A, C], vendors: ['Cisco', null], rule: 'interleaved' });
    const [end] = of('double-mac-end');
    assert.equal(end?.type, 'double-mac-end');
    if (end?.type !== 'double-mac-end') return;
    assert.equal(end.from, 200.3);
    assert.equal(end.to, 400.3); // C's last announcement at 385, then A at 400.3, 20 ms after its previous answer: the last proof
    assert.equal(summary.doubleMacMoments, 1);
    assert.equal(summary.changes, 0, 'a split brain is not counted as changes');
  });

  test('a rogue that wins: the double MAC ends and the change to the rogue is reported after it', () => {
    const steps: Step[] = [...probes(0, 100, () => A), ['probe', 100], ['reply', 100.2, A], ['reply', 100.4, C], ...probes(120, 300, () => C)];
    const { of, summary } = run(steps, 300);
    assert.equal(of('double-mac').length, 1);
    assert.deepEqual(of('change'), [{ type: 'change', at: 120.3, from: A, to: C, fromVendor: 'Cisco', toVendor: null, lastFromAt: 100.2, gapMs: null, afterDoubleMac: true, probesBetween: 1 }]);
    assert.equal(summary.verdict, 'double-mac');
  });

  test('an address that never answers: one ongoing gap from the first probe, verdict no-answer', () => {
    const { events, summary } = run(probes(0, 200, () => null), 210);
    assert.deepEqual(events, [{ type: 'gap', from: 0, to: 210, ms: 210, missedProbes: 9, fromStart: true, ongoing: true }]);
    assert.equal(summary.answers, 0);
    assert.equal(summary.probes, 10);
    assert.equal(summary.longestGapMs, 210);
    assert.equal(summary.verdict, 'no-answer');
  });

  test('an address that answers late: the gap from the start; one lost probe is a gap too', () => {
    const steps = probes(0, 400, (t) => (t < 60 || t === 200 ? null : A));
    const { of, summary } = run(steps, 400);
    assert.deepEqual(of('gap'), [
      { type: 'gap', from: 0, to: 60.3, ms: 60.3, missedProbes: 3, fromStart: true, ongoing: false },
      { type: 'gap', from: 180.3, to: 220.3, ms: 40, missedProbes: 1, fromStart: false, ongoing: false },
    ]);
    assert.equal(summary.gaps, 2);
    assert.equal(summary.longestGapMs, 60.3);
  });

  test('frames sorted: own probe, a reply to us, a reply to another, gratuitous forms, others\' probes', () => {
    assert.deepEqual(witnessInput(question(OURS, VIP), VIP, OURS), { kind: 'probe' });
    assert.equal(witnessInput(question(OURS, '10.0.0.51'), VIP, OURS), null);
    assert.deepEqual(witnessInput(reply(A, VIP, OURS, '0.0.0.0'), VIP, OURS), { kind: 'answer', mac: A, answer: 'reply' });
    assert.deepEqual(witnessInput(reply(A, VIP, B, '10.0.0.7'), VIP, OURS), { kind: 'answer', mac: A, answer: 'claim' });
    assert.deepEqual(witnessInput(announcement(C, VIP), VIP, OURS), { kind: 'answer', mac: C, answer: 'claim' });
    assert.deepEqual(witnessInput(gratuitousReply(C, VIP), VIP, OURS), { kind: 'answer', mac: C, answer: 'claim' });
    assert.equal(witnessInput(probe(B, VIP), VIP, OURS), null);
    assert.equal(witnessInput(question(B, VIP), VIP, OURS), null);
    assert.equal(witnessInput(reply(A, '10.0.0.51', OURS, '0.0.0.0'), VIP, OURS), null);
  });

  test('the probe interval must be a positive number', () => {
    assert.throws(() => new WitnessAnalysis({ intervalMs: 0 }), RangeError);
    assert.throws(() => new WitnessAnalysis({ intervalMs: Number.NaN }), RangeError);
  });
});
