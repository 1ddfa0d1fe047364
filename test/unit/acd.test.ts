// The conflict-detection machine replayed frame by frame on a fake clock: every effect list
// is compared whole, so an extra, missing or reordered frame, timer or event fails a test.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AcdState,
  AcdStateError,
  DEFAULT_ACD_CONFIG,
  createAcd,
  resolveAcdConfig,
  type Acd,
  type AcdConfig,
  type AcdEffect,
  type AcdEvent,
} from '../../main/arp/acd';
import { BROADCAST_MAC, ZERO_IP, ZERO_MAC, type ArpFrame, type ArpPacket, type Ipv4, type Mac } from '../../main/arp/frame';

const IP: Ipv4 = '10.213.0.10';
const OWN: Mac = '02:00:00:00:00:0a';
const OTHER: Mac = '02:00:00:00:00:0b';
const OTHER2: Mac = '02:00:00:00:00:0c';
const TRUSTED: Mac = '02:00:00:00:00:0d';
const T0 = 1000;

// ---- frames as they appear on the wire ----

function frame(src: Mac, arp: ArpPacket, dst: Mac = BROADCAST_MAC): ArpFrame {
  return { dst, src, vlan: null, arp };
}
/** RFC 5227 probe from `mac` for `ip`. */
function probeFrom(mac: Mac, ip: Ipv4 = IP): ArpFrame {
  return frame(mac, { op: 'request', senderMac: mac, senderIp: ZERO_IP, targetMac: ZERO_MAC, targetIp: ip });
}
/** Gratuitous request (announcement) from `mac` claiming `ip`. */
function announcementFrom(mac: Mac, ip: Ipv4 = IP): ArpFrame {
  return frame(mac, { op: 'request', senderMac: mac, senderIp: ip, targetMac: ZERO_MAC, targetIp: ip });
}
/** Unicast reply to our probe: "ip is at mac". */
function replyFrom(mac: Mac, ip: Ipv4 = IP): ArpFrame {
  return frame(mac, { op: 'reply', senderMac: mac, senderIp: ip, targetMac: OWN, targetIp: ZERO_IP }, OWN);
}
/** A peer's probe marked as a question (codec.question): target MAC all ones. */
function questionFrom(mac: Mac, ip: Ipv4 = IP): ArpFrame {
  return frame(mac, { op: 'request', senderMac: mac, senderIp: ZERO_IP, targetMac: BROADCAST_MAC, targetIp: ip });
}
/** Ordinary who-has request. */
function requestFrom(mac: Mac, senderIp: Ipv4, targetIp: Ipv4): ArpFrame {
  return frame(mac, { op: 'request', senderMac: mac, senderIp, targetMac: ZERO_MAC, targetIp });
}

const OUR_PROBE: ArpFrame = {
  dst: 'ff:ff:ff:ff:ff:ff',
  src: OWN,
  vlan: null,
  arp: { op: 'request', senderMac: OWN, senderIp: '0.0.0.0', targetMac: '00:00:00:00:00:00', targetIp: IP },
};
const OUR_ANNOUNCE_REQUEST: ArpFrame = {
  dst: 'ff:ff:ff:ff:ff:ff',
  src: OWN,
  vlan: null,
  arp: { op: 'request', senderMac: OWN, senderIp: IP, targetMac: '00:00:00:00:00:00', targetIp: IP },
};
const OUR_GRATUITOUS_REPLY: ArpFrame = {
  dst: 'ff:ff:ff:ff:ff:ff',
  src: OWN,
  vlan: null,
  arp: { op: 'reply', senderMac: OWN, senderIp: IP, targetMac: OWN, targetIp: IP },
};

// ---- effect shorthands ----

const send = (f: ArpFrame): AcdEffect => ({ type: 'send', frame: f });
const timer = (at: number): AcdEffect => ({ type: 'set-timer', at });
const cancel: AcdEffect = { type: 'cancel-timer' };
const register: AcdEffect = { type: 'register' };
const deregister: AcdEffect = { type: 'deregister' };
const ev = (e: AcdEvent): AcdEffect => ({ type: 'event', event: e });

function machine(config: Partial<AcdConfig> = {}): Acd {
  return createAcd(config, { ip: IP, mac: OWN });
}

/** Runs a default-timed claim to Announcing (first announcement at T0+810, next due T0+2810). */
function announcing(config: Partial<AcdConfig> = {}): Acd {
  const acd = machine(config);
  acd.start(T0);
  acd.onTimeout(T0 + 200);
  acd.onTimeout(T0 + 400);
  assert.deepEqual(acd.onTimeout(T0 + 800), [register]);
  acd.onRegistered(T0 + 810);
  assert.equal(acd.state, AcdState.Announcing);
  return acd;
}

/** Runs a claim to Defending with no timer pending; returns the time of the last input. */
function defending(config: Partial<AcdConfig> = {}): { acd: Acd; now: number } {
  const acd = machine({ skipProbe: true, announceCount: 1, ...config });
  acd.start(T0);
  acd.onRegistered(T0);
  assert.equal(acd.state, AcdState.Defending);
  assert.equal(acd.timerAt, null);
  return { acd, now: T0 };
}

function assertImpossible(run: () => unknown, state: AcdState, input: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof AcdStateError);
    assert.equal(error.state, state);
    assert.equal(error.input, input);
    assert.match(error.message, new RegExp(`\\b${input}\\b.*\\b${state}\\b`));
    return true;
  });
}

describe('claim: probe, register, announce', () => {
  test('happy path with default timings: exact frames, events and timers', () => {
    const acd = machine();
    assert.equal(acd.state, AcdState.Idle);

    assert.deepEqual(acd.start(T0), [send(OUR_PROBE), ev({ type: 'probing', at: T0, n: 1, count: 3 }), timer(T0 + 200)]);
    assert.equal(acd.state, AcdState.Probing);
    assert.equal(acd.timerAt, T0 + 200);
    assert.deepEqual(acd.onTimeout(T0 + 200), [send(OUR_PROBE), ev({ type: 'probing', at: T0 + 200, n: 2, count: 3 }), timer(T0 + 400)]);
    // The last probe is followed by probeWaitMs of listening, not by another interval.
    assert.deepEqual(acd.onTimeout(T0 + 400), [send(OUR_PROBE), ev({ type: 'probing', at: T0 + 400, n: 3, count: 3 }), timer(T0 + 800)]);
    assert.deepEqual(acd.onTimeout(T0 + 800), [register]);
    assert.equal(acd.state, AcdState.Registering);
    assert.equal(acd.timerAt, null);

    assert.deepEqual(acd.onRegistered(T0 + 810), [
      send(OUR_ANNOUNCE_REQUEST),
      ev({ type: 'announced', at: T0 + 810, n: 1, count: 2 }),
      ev({ type: 'ready', at: T0 + 810 }),
      timer(T0 + 2810),
    ]);
    assert.equal(acd.state, AcdState.Announcing);
    assert.deepEqual(acd.onTimeout(T0 + 2810), [send(OUR_ANNOUNCE_REQUEST), ev({ type: 'announced', at: T0 + 2810, n: 2, count: 2 })]);
    assert.equal(acd.state, AcdState.Defending);
    assert.equal(acd.timerAt, null);
  });

  test('a late timer pushes the next frame out: the interval is a minimum gap on the wire', () => {
    const acd = machine({ probeCount: 2, probeIntervalMs: 100, probeWaitMs: 50 });
    assert.deepEqual(acd.start(0).at(-1), timer(100));
    assert.deepEqual(acd.onTimeout(130).at(-1), timer(180));
    assert.deepEqual(acd.onTimeout(180), [register]);
  });

  test('probeCount 1 waits probeWaitMs after its only probe', () => {
    const acd = machine({ probeCount: 1, probeWaitMs: 700 });
    assert.deepEqual(acd.start(T0), [send(OUR_PROBE), ev({ type: 'probing', at: T0, n: 1, count: 1 }), timer(T0 + 700)]);
    assert.deepEqual(acd.onTimeout(T0 + 700), [register]);
  });

  test('probeCount 0 listens passively for probeWaitMs and still aborts on a conflict', () => {
    const quiet = machine({ probeCount: 0, probeWaitMs: 300 });
    assert.deepEqual(quiet.start(T0), [timer(T0 + 300)]);
    assert.deepEqual(quiet.onTimeout(T0 + 300), [register]);

    const contested = machine({ probeCount: 0, probeWaitMs: 300 });
    contested.start(T0);
    assert.deepEqual(contested.onFrame(T0 + 10, announcementFrom(OTHER)), [cancel, ev({ type: 'used-by', at: T0 + 10, macs: [OTHER] })]);
  });

  test('skipProbe registers at once and then announces normally', () => {
    const acd = machine({ skipProbe: true });
    assert.deepEqual(acd.start(T0), [register]);
    assert.equal(acd.state, AcdState.Registering);
    assert.equal(acd.timerAt, null);
    assert.deepEqual(acd.onRegistered(T0 + 5), [
      send(OUR_ANNOUNCE_REQUEST),
      ev({ type: 'announced', at: T0 + 5, n: 1, count: 2 }),
      ev({ type: 'ready', at: T0 + 5 }),
      timer(T0 + 2005),
    ]);
  });

  test('announceCount 1 goes straight to Defending with no timer', () => {
    const acd = machine({ skipProbe: true, announceCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onRegistered(T0), [
      send(OUR_ANNOUNCE_REQUEST),
      ev({ type: 'announced', at: T0, n: 1, count: 1 }),
      ev({ type: 'ready', at: T0 }),
    ]);
    assert.equal(acd.state, AcdState.Defending);
    assert.equal(acd.timerAt, null);
  });

  test('three announcements at announceIntervalMs, each one counted', () => {
    const acd = machine({ skipProbe: true, announceCount: 3, announceIntervalMs: 500 });
    acd.start(0);
    assert.deepEqual(acd.onRegistered(0).at(-1), timer(500));
    assert.deepEqual(acd.onTimeout(500), [send(OUR_ANNOUNCE_REQUEST), ev({ type: 'announced', at: 500, n: 2, count: 3 }), timer(1000)]);
    assert.equal(acd.state, AcdState.Announcing);
    assert.deepEqual(acd.onTimeout(1000), [send(OUR_ANNOUNCE_REQUEST), ev({ type: 'announced', at: 1000, n: 3, count: 3 })]);
    assert.equal(acd.state, AcdState.Defending);
  });

  test('register failure ends the claim with the reason', () => {
    const acd = machine({ skipProbe: true });
    acd.start(T0);
    assert.deepEqual(acd.onRegisterFailed(T0 + 3, 'RTNETLINK answers: Operation not permitted'), [
      ev({ type: 'down', at: T0 + 3, reason: 'register-failed', detail: 'RTNETLINK answers: Operation not permitted' }),
    ]);
    assert.equal(acd.state, AcdState.Failed);
  });
});

describe('announcement forms', () => {
  test("'request': ARP request, broadcast, sender IP = target IP = ip, target MAC zero", () => {
    const acd = machine({ skipProbe: true, announceForm: 'request' });
    acd.start(T0);
    const sent = acd.onRegistered(T0).filter((e) => e.type === 'send');
    assert.deepEqual(sent, [send(OUR_ANNOUNCE_REQUEST)]);
    const only = sent[0];
    assert.ok(only?.type === 'send');
    assert.equal(only.frame.dst, 'ff:ff:ff:ff:ff:ff');
    assert.equal(only.frame.arp.op, 'request');
    assert.equal(only.frame.arp.senderIp, IP);
    assert.equal(only.frame.arp.targetIp, IP);
    assert.equal(only.frame.arp.targetMac, '00:00:00:00:00:00');
  });

  test("'reply': gratuitous reply, broadcast, target MAC = sender MAC = own MAC", () => {
    const acd = machine({ skipProbe: true, announceForm: 'reply' });
    acd.start(T0);
    const sent = acd.onRegistered(T0).filter((e) => e.type === 'send');
    assert.deepEqual(sent, [send(OUR_GRATUITOUS_REPLY)]);
    const only = sent[0];
    assert.ok(only?.type === 'send');
    assert.equal(only.frame.arp.op, 'reply');
    assert.equal(only.frame.arp.targetMac, OWN);
    assert.equal(only.frame.arp.senderMac, OWN);
    assert.equal(only.frame.src, OWN);
  });

  test("'both': the request form, then the reply form, on every round", () => {
    const acd = machine({ skipProbe: true, announceForm: 'both' });
    acd.start(T0);
    assert.deepEqual(acd.onRegistered(T0), [
      send(OUR_ANNOUNCE_REQUEST),
      send(OUR_GRATUITOUS_REPLY),
      ev({ type: 'announced', at: T0, n: 1, count: 2 }),
      ev({ type: 'ready', at: T0 }),
      timer(T0 + 2000),
    ]);
    assert.deepEqual(acd.onTimeout(T0 + 2000), [
      send(OUR_ANNOUNCE_REQUEST),
      send(OUR_GRATUITOUS_REPLY),
      ev({ type: 'announced', at: T0 + 2000, n: 2, count: 2 }),
    ]);
  });
});

describe('conflicts while probing (claim mode)', () => {
  const rounds: { name: string; at: number; conflicting: ArpFrame; kindOfTest: string }[] = [
    { name: 'after probe 1', at: T0 + 50, conflicting: replyFrom(OTHER), kindOfTest: 'reply' },
    { name: 'after probe 2', at: T0 + 250, conflicting: announcementFrom(OTHER), kindOfTest: 'gratuitous request' },
    { name: 'after probe 3', at: T0 + 450, conflicting: requestFrom(OTHER, IP, '10.213.0.1'), kindOfTest: 'request with our sender IP' },
    { name: 'during the final wait', at: T0 + 799, conflicting: replyFrom(OTHER), kindOfTest: 'reply' },
  ];
  for (const round of rounds) {
    test(`${round.name}: a ${round.kindOfTest} ends it with used-by, nothing registered`, () => {
      const acd = machine();
      acd.start(T0);
      if (round.at >= T0 + 200) acd.onTimeout(T0 + 200);
      if (round.at >= T0 + 400) acd.onTimeout(T0 + 400);
      assert.deepEqual(acd.onFrame(round.at, round.conflicting), [cancel, ev({ type: 'used-by', at: round.at, macs: [OTHER] })]);
      assert.equal(acd.state, AcdState.Failed);
      assert.equal(acd.timerAt, null);
      // The cancelled timer must not fire; if the caller lets it, that is a bug it hears about.
      assertImpossible(() => acd.onTimeout(T0 + 800), AcdState.Failed, 'onTimeout');
    });
  }

  test('simultaneous probe from another station for the same address is a conflict', () => {
    const acd = machine();
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 20, probeFrom(OTHER)), [cancel, ev({ type: 'used-by', at: T0 + 20, macs: [OTHER] })]);
    assert.equal(acd.state, AcdState.Failed);
  });

  test('ordinary traffic is not a conflict: requests for our IP, other addresses, probes for other IPs', () => {
    const acd = machine();
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 1, requestFrom(OTHER, '10.213.0.20', IP)), []);
    assert.deepEqual(acd.onFrame(T0 + 2, announcementFrom(OTHER, '10.213.0.99')), []);
    assert.deepEqual(acd.onFrame(T0 + 3, probeFrom(OTHER, '10.213.0.99')), []);
    assert.deepEqual(acd.onFrame(T0 + 4, replyFrom(OTHER, '10.213.0.99')), []);
    // A reply with sender IP 0.0.0.0 is not a probe (probes are requests).
    assert.deepEqual(acd.onFrame(T0 + 5, frame(OTHER, { op: 'reply', senderMac: OTHER, senderIp: ZERO_IP, targetMac: OWN, targetIp: IP })), []);
    assert.equal(acd.state, AcdState.Probing);
    assert.equal(acd.timerAt, T0 + 200);
  });

  test('our own transmissions echoed by the capture are ignored', () => {
    const acd = machine();
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 1, OUR_PROBE), []);
    assert.deepEqual(acd.onFrame(T0 + 2, OUR_ANNOUNCE_REQUEST), []);
    // Ethernet source is ours: ours, whatever the ARP sender says.
    assert.deepEqual(acd.onFrame(T0 + 3, { ...announcementFrom(OTHER), src: OWN }), []);
    // ARP sender MAC is ours, Ethernet source differs (a bridge rewriting): still ours.
    assert.deepEqual(acd.onFrame(T0 + 4, { ...announcementFrom(OWN), src: OTHER }), []);
    assert.equal(acd.state, AcdState.Probing);
  });

  test('a spoofed Ethernet source is judged by the ARP sender MAC', () => {
    const acd = machine();
    acd.start(T0);
    const spoofed: ArpFrame = { ...replyFrom(OTHER2), src: OTHER };
    assert.deepEqual(acd.onFrame(T0 + 9, spoofed), [cancel, ev({ type: 'used-by', at: T0 + 9, macs: [OTHER2] })]);
  });
});

describe('probe-only mode', () => {
  test('nobody answers: free, nothing registered, Done', () => {
    const acd = machine({ mode: 'probe-only' });
    const all = [...acd.start(T0), ...acd.onTimeout(T0 + 200), ...acd.onTimeout(T0 + 400)];
    assert.equal(all.filter((e) => e.type === 'send').length, 3);
    assert.deepEqual(acd.onTimeout(T0 + 800), [ev({ type: 'free', at: T0 + 800 })]);
    assert.equal(acd.state, AcdState.Done);
    assert.equal(acd.timerAt, null);
    assert.ok(!all.some((e) => e.type === 'register'));
  });

  test('two stations answer: one used-by listing both, in order first seen, after the full wait', () => {
    const acd = machine({ mode: 'probe-only' });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 10, replyFrom(OTHER2)), []);
    assert.deepEqual(acd.onFrame(T0 + 11, replyFrom(OTHER)), []);
    assert.deepEqual(acd.onFrame(T0 + 12, replyFrom(OTHER2)), []);
    // Probing goes on: the operator wants every claimant, not just the first.
    assert.deepEqual(acd.onTimeout(T0 + 200), [send(OUR_PROBE), ev({ type: 'probing', at: T0 + 200, n: 2, count: 3 }), timer(T0 + 400)]);
    assert.deepEqual(acd.onFrame(T0 + 210, probeFrom(OTHER)), []);
    acd.onTimeout(T0 + 400);
    assert.deepEqual(acd.onTimeout(T0 + 800), [ev({ type: 'used-by', at: T0 + 800, macs: [OTHER2, OTHER] })]);
    assert.equal(acd.state, AcdState.Done);
  });

  test('trusted MAC is reported apart and left out of used-by', () => {
    const acd = machine({ mode: 'probe-only', trustedMac: TRUSTED, probeCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 5, replyFrom(TRUSTED)), [ev({ type: 'trusted-answer', at: T0 + 5, mac: TRUSTED })]);
    assert.deepEqual(acd.onTimeout(T0 + 400), [ev({ type: 'free', at: T0 + 400 })]);
  });
});

describe('trusted handoff', () => {
  test('the trusted old owner answers: reported once, and the claim goes on to announce', () => {
    const acd = machine({ trustedMac: TRUSTED });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 5, replyFrom(TRUSTED)), [ev({ type: 'trusted-answer', at: T0 + 5, mac: TRUSTED })]);
    assert.deepEqual(acd.onFrame(T0 + 6, announcementFrom(TRUSTED)), []);
    acd.onTimeout(T0 + 200);
    assert.deepEqual(acd.onFrame(T0 + 205, replyFrom(TRUSTED)), []);
    acd.onTimeout(T0 + 400);
    assert.deepEqual(acd.onTimeout(T0 + 800), [register]);
    assert.deepEqual(acd.onRegistered(T0 + 800).filter((e) => e.type === 'event' && e.event.type === 'ready').length, 1);
  });

  test('any other station aborts, even after the trusted one answered', () => {
    const acd = machine({ trustedMac: TRUSTED });
    acd.start(T0);
    acd.onFrame(T0 + 5, replyFrom(TRUSTED));
    assert.deepEqual(acd.onFrame(T0 + 6, replyFrom(OTHER)), [cancel, ev({ type: 'used-by', at: T0 + 6, macs: [OTHER] })]);
    assert.equal(acd.state, AcdState.Failed);
  });

  test('the old owner is tolerated while Announcing, and is a conflict once Defending', () => {
    const acd = announcing({ trustedMac: TRUSTED });
    assert.deepEqual(acd.onFrame(T0 + 900, announcementFrom(TRUSTED)), []);
    acd.onTimeout(T0 + 2810);
    assert.equal(acd.state, AcdState.Defending);
    const effects = acd.onFrame(T0 + 2900, announcementFrom(TRUSTED));
    assert.deepEqual(effects, [
      send(OUR_ANNOUNCE_REQUEST),
      ev({ type: 'conflict', at: T0 + 2900, mac: TRUSTED, frameKind: 'announcement', action: 'defended' }),
      ev({ type: 'defended', at: T0 + 2900, mac: TRUSTED }),
    ]);
  });
});

describe('while registering', () => {
  test('a conflicting claim is reported as ignored; the trusted MAC, own echoes and probes are silent', () => {
    const acd = machine({ skipProbe: true, trustedMac: TRUSTED });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 1, replyFrom(OTHER)), [
      ev({ type: 'conflict', at: T0 + 1, mac: OTHER, frameKind: 'reply', action: 'ignored' }),
    ]);
    assert.deepEqual(acd.onFrame(T0 + 2, announcementFrom(TRUSTED)), []);
    assert.deepEqual(acd.onFrame(T0 + 3, OUR_ANNOUNCE_REQUEST), []);
    assert.deepEqual(acd.onFrame(T0 + 4, probeFrom(OTHER)), []);
    assert.equal(acd.state, AcdState.Registering);
  });
});

describe('defending', () => {
  test('frames that are not claims on our address cause nothing', () => {
    const { acd, now } = defending();
    assert.deepEqual(acd.onFrame(now + 1, requestFrom(OTHER, '10.213.0.20', IP)), []);
    assert.deepEqual(acd.onFrame(now + 2, probeFrom(OTHER)), []);
    assert.deepEqual(acd.onFrame(now + 3, announcementFrom(OTHER, '10.213.0.77')), []);
    assert.deepEqual(acd.onFrame(now + 4, OUR_ANNOUNCE_REQUEST), []);
    assert.deepEqual(acd.onFrame(now + 5, OUR_GRATUITOUS_REPLY), []);
    assert.equal(acd.state, AcdState.Defending);
  });

  test("policy 'never' yields at the first conflict: deregister first, then report", () => {
    const { acd, now } = defending({ defendPolicy: 'never' });
    assert.deepEqual(acd.onFrame(now + 7, replyFrom(OTHER)), [
      deregister,
      ev({ type: 'conflict', at: now + 7, mac: OTHER, frameKind: 'reply', action: 'yielded' }),
      ev({ type: 'down', at: now + 7, reason: 'conflict' }),
    ]);
    assert.equal(acd.state, AcdState.Failed);
  });

  test("policy 'never' while Announcing also cancels the announcement timer", () => {
    const acd = announcing({ defendPolicy: 'never' });
    assert.deepEqual(acd.onFrame(T0 + 900, announcementFrom(OTHER)), [
      deregister,
      cancel,
      ev({ type: 'conflict', at: T0 + 900, mac: OTHER, frameKind: 'announcement', action: 'yielded' }),
      ev({ type: 'down', at: T0 + 900, reason: 'conflict' }),
    ]);
    assert.equal(acd.timerAt, null);
  });

  test("policy 'once': defend, then yield to a second conflict at defendIntervalMs - 1", () => {
    const { acd, now } = defending({ defendPolicy: 'once', defendIntervalMs: 10_000 });
    assert.deepEqual(acd.onFrame(now + 100, announcementFrom(OTHER)), [
      send(OUR_ANNOUNCE_REQUEST),
      ev({ type: 'conflict', at: now + 100, mac: OTHER, frameKind: 'announcement', action: 'defended' }),
      ev({ type: 'defended', at: now + 100, mac: OTHER }),
    ]);
    assert.equal(acd.state, AcdState.Defending);
    assert.deepEqual(acd.onFrame(now + 100 + 9_999, replyFrom(OTHER2)), [
      deregister,
      ev({ type: 'conflict', at: now + 10_099, mac: OTHER2, frameKind: 'reply', action: 'yielded' }),
      ev({ type: 'down', at: now + 10_099, reason: 'conflict' }),
    ]);
    assert.equal(acd.state, AcdState.Failed);
  });

  test("policy 'once': a second conflict at exactly defendIntervalMs is defended again", () => {
    const { acd, now } = defending({ defendPolicy: 'once', defendIntervalMs: 10_000 });
    acd.onFrame(now + 100, announcementFrom(OTHER));
    assert.deepEqual(acd.onFrame(now + 10_100, announcementFrom(OTHER)), [
      send(OUR_ANNOUNCE_REQUEST),
      ev({ type: 'conflict', at: now + 10_100, mac: OTHER, frameKind: 'announcement', action: 'defended' }),
      ev({ type: 'defended', at: now + 10_100, mac: OTHER }),
    ]);
    assert.equal(acd.state, AcdState.Defending);
  });

  test("policy 'always': rate limited inside the interval, defended again at exactly defendIntervalMs", () => {
    const { acd, now } = defending({ defendPolicy: 'always', defendIntervalMs: 10_000, announceForm: 'both' });
    const t1 = now + 50;
    assert.deepEqual(acd.onFrame(t1, announcementFrom(OTHER)), [
      send(OUR_ANNOUNCE_REQUEST),
      send(OUR_GRATUITOUS_REPLY),
      ev({ type: 'conflict', at: t1, mac: OTHER, frameKind: 'announcement', action: 'defended' }),
      ev({ type: 'defended', at: t1, mac: OTHER }),
    ]);
    assert.deepEqual(acd.onFrame(t1 + 1, requestFrom(OTHER, IP, '10.213.0.1')), [
      ev({ type: 'conflict', at: t1 + 1, mac: OTHER, frameKind: 'request', action: 'rate-limited' }),
    ]);
    assert.deepEqual(acd.onFrame(t1 + 9_999, announcementFrom(OTHER)), [
      ev({ type: 'conflict', at: t1 + 9_999, mac: OTHER, frameKind: 'announcement', action: 'rate-limited' }),
    ]);
    const t2 = t1 + 10_000;
    assert.deepEqual(acd.onFrame(t2, announcementFrom(OTHER)), [
      send(OUR_ANNOUNCE_REQUEST),
      send(OUR_GRATUITOUS_REPLY),
      ev({ type: 'conflict', at: t2, mac: OTHER, frameKind: 'announcement', action: 'defended' }),
      ev({ type: 'defended', at: t2, mac: OTHER }),
    ]);
    // The interval counts from the last defence, not from the last rate-limited conflict.
    assert.deepEqual(acd.onFrame(t2 + 9_999, announcementFrom(OTHER)).map((e) => e.type === 'event' && e.event.type === 'conflict' && e.event.action), ['rate-limited']);
    assert.equal(acd.state, AcdState.Defending);
  });

  test('a defence during Announcing leaves the announcement schedule alone', () => {
    const acd = announcing();
    assert.equal(acd.timerAt, T0 + 2810);
    const effects = acd.onFrame(T0 + 1000, replyFrom(OTHER));
    assert.deepEqual(effects.map((e) => e.type), ['send', 'event', 'event']);
    assert.equal(acd.timerAt, T0 + 2810);
    assert.equal(acd.state, AcdState.Announcing);
    assert.deepEqual(acd.onTimeout(T0 + 2810), [send(OUR_ANNOUNCE_REQUEST), ev({ type: 'announced', at: T0 + 2810, n: 2, count: 2 })]);
  });
});

describe('release and link down', () => {
  const cases = [
    { input: 'stop' as const, terminal: AcdState.Released, reason: 'released' as const },
    { input: 'onLinkDown' as const, terminal: AcdState.Failed, reason: 'link-down' as const },
  ];
  for (const { input, terminal, reason } of cases) {
    const run = (acd: Acd, now: number): AcdEffect[] => (input === 'stop' ? acd.stop(now) : acd.onLinkDown(now));

    test(`${input} in Idle ends the machine with no effects`, () => {
      const acd = machine();
      assert.deepEqual(run(acd, T0), []);
      assert.equal(acd.state, terminal);
      assertImpossible(() => acd.start(T0), terminal, 'start');
    });

    test(`${input} while Probing cancels the timer and has nothing to deregister`, () => {
      const acd = machine();
      acd.start(T0);
      assert.deepEqual(run(acd, T0 + 50), [cancel, ev({ type: 'down', at: T0 + 50, reason })]);
      assert.equal(acd.state, terminal);
      assert.equal(acd.timerAt, null);
    });

    test(`${input} while Registering deregisters (the register may land concurrently)`, () => {
      const acd = machine({ skipProbe: true });
      acd.start(T0);
      assert.deepEqual(run(acd, T0 + 1), [deregister, ev({ type: 'down', at: T0 + 1, reason })]);
      assert.equal(acd.state, terminal);
      assertImpossible(() => acd.onRegistered(T0 + 2), terminal, 'onRegistered');
    });

    test(`${input} while Announcing deregisters and cancels the announcement timer`, () => {
      const acd = announcing();
      assert.deepEqual(run(acd, T0 + 900), [deregister, cancel, ev({ type: 'down', at: T0 + 900, reason })]);
      assert.equal(acd.state, terminal);
      assert.equal(acd.timerAt, null);
    });

    test(`${input} while Defending deregisters`, () => {
      const { acd, now } = defending();
      assert.deepEqual(run(acd, now + 1), [deregister, ev({ type: 'down', at: now + 1, reason })]);
      assert.equal(acd.state, terminal);
    });
  }

  test('stop after any terminal state is a harmless no-op; link down after one is a caller bug', () => {
    const released = machine();
    released.start(T0);
    released.stop(T0 + 1);
    assert.deepEqual(released.stop(T0 + 2), []);
    assert.equal(released.state, AcdState.Released);
    assertImpossible(() => released.onLinkDown(T0 + 3), AcdState.Released, 'onLinkDown');

    const done = machine({ mode: 'probe-only', probeCount: 0 });
    done.start(T0);
    done.onTimeout(T0 + 400);
    assert.equal(done.state, AcdState.Done);
    assert.deepEqual(done.stop(T0 + 500), []);
    assert.equal(done.state, AcdState.Done);

    const failed = machine();
    failed.start(T0);
    failed.onFrame(T0 + 1, replyFrom(OTHER));
    assert.deepEqual(failed.stop(T0 + 2), []);
    assert.equal(failed.state, AcdState.Failed);
  });
});

describe('impossible inputs throw, naming state and input, and change nothing', () => {
  test('start twice', () => {
    const acd = machine();
    acd.start(T0);
    assertImpossible(() => acd.start(T0 + 1), AcdState.Probing, 'start');
    assert.equal(acd.state, AcdState.Probing);
    assert.equal(acd.timerAt, T0 + 200);
  });

  test('onRegistered / onRegisterFailed outside Registering', () => {
    const probing = machine();
    probing.start(T0);
    assertImpossible(() => probing.onRegistered(T0 + 1), AcdState.Probing, 'onRegistered');
    assertImpossible(() => probing.onRegisterFailed(T0 + 1, 'x'), AcdState.Probing, 'onRegisterFailed');
    const { acd, now } = defending();
    assertImpossible(() => acd.onRegistered(now + 1), AcdState.Defending, 'onRegistered');
    assertImpossible(() => acd.onRegisterFailed(now + 1, 'x'), AcdState.Defending, 'onRegisterFailed');
    assertImpossible(() => machine().onRegistered(T0), AcdState.Idle, 'onRegistered');
  });

  test('stray onTimeout with no pending timer', () => {
    assertImpossible(() => machine().onTimeout(T0), AcdState.Idle, 'onTimeout');
    const registering = machine({ skipProbe: true });
    registering.start(T0);
    assertImpossible(() => registering.onTimeout(T0 + 1), AcdState.Registering, 'onTimeout');
    const { acd, now } = defending();
    assertImpossible(() => acd.onTimeout(now + 1), AcdState.Defending, 'onTimeout');
    // A timer that already fired cannot fire twice.
    const probing = machine();
    probing.start(T0);
    probing.onTimeout(T0 + 200);
    probing.onTimeout(T0 + 400);
    probing.onTimeout(T0 + 800);
    assertImpossible(() => probing.onTimeout(T0 + 801), AcdState.Registering, 'onTimeout');
  });

  test('frames before start and after a terminal state', () => {
    assertImpossible(() => machine().onFrame(T0, replyFrom(OTHER)), AcdState.Idle, 'onFrame');
    const { acd, now } = defending({ defendPolicy: 'never' });
    acd.onFrame(now + 1, replyFrom(OTHER));
    assertImpossible(() => acd.onFrame(now + 2, replyFrom(OTHER)), AcdState.Failed, 'onFrame');
    assertImpossible(() => acd.onRegisterFailed(now + 2, 'x'), AcdState.Failed, 'onRegisterFailed');
    assertImpossible(() => acd.start(now + 2), AcdState.Failed, 'start');
  });

  test('a clock that goes backwards or is not a number', () => {
    const acd = machine();
    acd.start(T0);
    assertImpossible(() => acd.onTimeout(T0 - 1), AcdState.Probing, 'onTimeout');
    assertImpossible(() => acd.onFrame(Number.NaN, replyFrom(OTHER)), AcdState.Probing, 'onFrame');
    assert.equal(acd.timerAt, T0 + 200);
    assert.equal(acd.state, AcdState.Probing);
  });
});

describe('configuration', () => {
  test('defaults match the brief and resolve unchanged', () => {
    assert.deepEqual(resolveAcdConfig(), {
      mode: 'claim',
      skipProbe: false,
      probeCount: 3,
      probeIntervalMs: 200,
      probeWaitMs: 400,
      trustedMac: null,
      probeForm: 'claim',
      peerProbes: 'question',
      announceCount: 2,
      announceIntervalMs: 2000,
      announceForm: 'request',
      defendPolicy: 'always',
      defendIntervalMs: 10_000,
    });
    assert.deepEqual(resolveAcdConfig({ ...DEFAULT_ACD_CONFIG }), DEFAULT_ACD_CONFIG);
    assert.ok(Object.isFrozen(DEFAULT_ACD_CONFIG));
  });

  test('partial settings override defaults; an explicit undefined keeps the default', () => {
    const resolved = resolveAcdConfig({ probeCount: 0, trustedMac: TRUSTED, announceForm: 'both', defendIntervalMs: undefined });
    assert.equal(resolved.probeCount, 0);
    assert.equal(resolved.trustedMac, TRUSTED);
    assert.equal(resolved.announceForm, 'both');
    assert.equal(resolved.defendIntervalMs, 10_000);
  });

  test('range boundaries are accepted', () => {
    assert.doesNotThrow(() => resolveAcdConfig({ probeCount: 10, probeIntervalMs: 1, probeWaitMs: 60_000, announceCount: 10, announceIntervalMs: 1, defendIntervalMs: 1 }));
    assert.doesNotThrow(() => resolveAcdConfig({ announceCount: 1, defendIntervalMs: 3_600_000, mode: 'probe-only' }));
  });

  const invalid: { settings: Record<string, unknown>; message: RegExp }[] = [
    { settings: { probeCount: 11 }, message: /probeCount must be an integer in 0\.\.10 \(got 11\)/ },
    { settings: { probeCount: -1 }, message: /probeCount must be an integer in 0\.\.10 \(got -1\)/ },
    { settings: { probeCount: 1.5 }, message: /probeCount must be an integer/ },
    { settings: { probeCount: '3' }, message: /probeCount must be an integer in 0\.\.10 \(got "3"\)/ },
    { settings: { probeIntervalMs: 0 }, message: /probeIntervalMs must be an integer in 1\.\.60000/ },
    { settings: { probeWaitMs: Number.POSITIVE_INFINITY }, message: /probeWaitMs must be an integer/ },
    { settings: { announceCount: 0 }, message: /announceCount must be an integer in 1\.\.10 \(got 0\)/ },
    { settings: { announceIntervalMs: 60_001 }, message: /announceIntervalMs must be an integer in 1\.\.60000/ },
    { settings: { defendIntervalMs: 0 }, message: /defendIntervalMs must be an integer in 1\.\.3600000/ },
    { settings: { mode: 'defend' }, message: /mode must be one of 'claim', 'probe-only' \(got "defend"\)/ },
    { settings: { announceForm: 'gratuitous' }, message: /announceForm must be one of 'request', 'reply', 'both'/ },
    { settings: { defendPolicy: 'sometimes' }, message: /defendPolicy must be one of 'never', 'once', 'always'/ },
    { settings: { skipProbe: 'yes' }, message: /skipProbe must be a boolean \(got "yes"\)/ },
    { settings: { skipProbe: true, mode: 'probe-only' }, message: /skipProbe cannot be combined with mode 'probe-only'/ },
    { settings: { trustedMac: '02:00:00:00:00:0D' }, message: /trustedMac must be null or a canonical station MAC/ },
    { settings: { trustedMac: 'ff:ff:ff:ff:ff:ff' }, message: /trustedMac must be null or a canonical station MAC/ },
    { settings: { trustedMac: '00:00:00:00:00:00' }, message: /trustedMac must be null/ },
    { settings: { probecount: 3 }, message: /unknown setting "probecount"/ },
  ];
  for (const { settings, message } of invalid) {
    test(`rejects ${JSON.stringify(settings)}`, () => {
      assert.throws(() => resolveAcdConfig(settings), message);
      // createAcd validates the same way, so a machine never runs on unchecked settings.
      assert.throws(() => createAcd(settings, { ip: IP, mac: OWN }), message);
    });
  }

  test('rejects a non-object', () => {
    assert.throws(() => resolveAcdConfig(null as unknown as Partial<AcdConfig>), /expected an object \(got null\)/);
  });

  test('createAcd rejects a bad identity and a trusted MAC equal to our own', () => {
    assert.throws(() => createAcd({}, { ip: '0.0.0.0', mac: OWN }), /ip must be a canonical IPv4 address other than 0\.0\.0\.0/);
    assert.throws(() => createAcd({}, { ip: '10.213.0.010', mac: OWN }), /ip must be a canonical IPv4/);
    assert.throws(() => createAcd({}, { ip: IP, mac: '02-00-00-00-00-0a' }), /mac must be a canonical MAC/);
    assert.throws(() => createAcd({}, { ip: IP, mac: BROADCAST_MAC }), /mac must be a canonical MAC/);
    assert.throws(() => createAcd({ trustedMac: OWN }, { ip: IP, mac: OWN }), /trustedMac is our own MAC/);
  });
});

describe('conflicts reported by another node (onPeerReport)', () => {
  test('while Defending: judged like a reply seen here, and rate-limited like one', () => {
    const { acd, now } = defending({ defendPolicy: 'always', defendIntervalMs: 10_000 });
    assert.deepEqual(acd.onPeerReport(now + 5, OTHER), [
      send(OUR_ANNOUNCE_REQUEST),
      ev({ type: 'conflict', at: now + 5, mac: OTHER, frameKind: 'reply', action: 'defended' }),
      ev({ type: 'defended', at: now + 5, mac: OTHER }),
    ]);
    assert.deepEqual(acd.onPeerReport(now + 6, OTHER), [ev({ type: 'conflict', at: now + 6, mac: OTHER, frameKind: 'reply', action: 'rate-limited' })]);
  });

  test("policy 'never' yields to a reported claim", () => {
    const { acd, now } = defending({ defendPolicy: 'never' });
    assert.deepEqual(acd.onPeerReport(now + 1, OTHER), [
      deregister,
      ev({ type: 'conflict', at: now + 1, mac: OTHER, frameKind: 'reply', action: 'yielded' }),
      ev({ type: 'down', at: now + 1, reason: 'conflict' }),
    ]);
  });

  test('a report naming our own MAC, or arriving while still probing, changes nothing', () => {
    const { acd, now } = defending();
    assert.deepEqual(acd.onPeerReport(now + 1, OWN), []);
    const probing = machine();
    probing.start(T0);
    assert.deepEqual(probing.onPeerReport(T0 + 1, OTHER), []);
    assert.equal(probing.state, AcdState.Probing);
  });

  test('after the claim ended a report is impossible (the driver stops feeding it)', () => {
    const { acd, now } = defending();
    acd.stop(now + 1);
    assertImpossible(() => acd.onPeerReport(now + 2, OTHER), AcdState.Released, 'onPeerReport');
  });
});

describe('stations that only ask (askingMacs: a cluster agent\'s peer nodes)', () => {
  test('their questions are not a conflict while claiming: the claim goes on to register', () => {
    const acd = machine({ askingMacs: [OTHER], probeCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 10, questionFrom(OTHER)), []);
    assert.equal(acd.state, AcdState.Probing);
    assert.deepEqual(acd.onTimeout(T0 + 400), [register]);
  });

  test('their plain probe is answered with ours and a full wait more (the stale peer must see our claim), at most 3 times', () => {
    const acd = machine({ askingMacs: [OTHER], probeCount: 1 });
    acd.start(T0); // one probe, timer at T0 + 400
    assert.deepEqual(acd.onFrame(T0 + 390, probeFrom(OTHER)), [send(OUR_PROBE), timer(T0 + 790)]);
    assert.equal(acd.state, AcdState.Probing);
    assert.deepEqual(acd.onFrame(T0 + 400, probeFrom(OTHER)), [send(OUR_PROBE), timer(T0 + 800)]);
    assert.deepEqual(acd.onFrame(T0 + 410, probeFrom(OTHER)), [send(OUR_PROBE), timer(T0 + 810)]);
    assert.deepEqual(acd.onFrame(T0 + 420, probeFrom(OTHER)), []);
    assert.deepEqual(acd.onTimeout(T0 + 810), [register]);
  });

  test('a pre-flight that asks (probeForm question) answers a peer\'s probe with nothing', () => {
    const acd = machine({ mode: 'probe-only', probeForm: 'question', askingMacs: [OTHER], probeCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 10, probeFrom(OTHER)), []);
    assert.deepEqual(acd.onTimeout(T0 + 400), [ev({ type: 'free', at: T0 + 400 })]);
  });

  test('their answers still are a conflict, and so is a probe from a station not listed', () => {
    const answered = machine({ askingMacs: [OTHER] });
    answered.start(T0);
    assert.deepEqual(answered.onFrame(T0 + 10, replyFrom(OTHER)), [cancel, ev({ type: 'used-by', at: T0 + 10, macs: [OTHER] })]);
    const rival = machine({ askingMacs: [OTHER] });
    rival.start(T0);
    assert.deepEqual(rival.onFrame(T0 + 10, probeFrom(OTHER2)), [cancel, ev({ type: 'used-by', at: T0 + 10, macs: [OTHER2] })]);
  });

  test('probe-only: their probes are left out of used-by, their answers are not', () => {
    const quiet = machine({ mode: 'probe-only', askingMacs: [OTHER], probeCount: 1 });
    quiet.start(T0);
    assert.deepEqual(quiet.onFrame(T0 + 5, questionFrom(OTHER)), []);
    assert.deepEqual(quiet.onTimeout(T0 + 400), [ev({ type: 'free', at: T0 + 400 })]);
    const used = machine({ mode: 'probe-only', askingMacs: [OTHER], probeCount: 1 });
    used.start(T0);
    used.onFrame(T0 + 5, replyFrom(OTHER));
    assert.deepEqual(used.onTimeout(T0 + 400), [ev({ type: 'used-by', at: T0 + 400, macs: [OTHER] })]);
  });

  test('the trusted old owner\'s probe is not its answer when it is listed as asking', () => {
    const acd = machine({ mode: 'probe-only', trustedMac: TRUSTED, askingMacs: [TRUSTED], probeCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 5, questionFrom(TRUSTED)), []);
    assert.deepEqual(acd.onFrame(T0 + 6, replyFrom(TRUSTED)), [ev({ type: 'trusted-answer', at: T0 + 6, mac: TRUSTED })]);
  });

  test("peerProbes 'claim': their plain probe is a conflict (a peer taking over), their question still is not", () => {
    const acd = machine({ askingMacs: [OTHER], peerProbes: 'claim', probeCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 5, questionFrom(OTHER)), []);
    assert.deepEqual(acd.onFrame(T0 + 10, probeFrom(OTHER)), [cancel, ev({ type: 'used-by', at: T0 + 10, macs: [OTHER] })]);
  });

  test("a question from a station not listed is a conflict like any probe", () => {
    const acd = machine({ askingMacs: [OTHER], peerProbes: 'claim' });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 10, questionFrom(OTHER2)), [cancel, ev({ type: 'used-by', at: T0 + 10, macs: [OTHER2] })]);
  });

  test("probeForm 'question': the probes sent carry the all-ones target MAC; 'claim' (the default) the RFC's zeros", () => {
    const asking = machine({ mode: 'probe-only', probeForm: 'question', probeCount: 1 });
    const sent = asking.start(T0).filter((e): e is Extract<AcdEffect, { type: 'send' }> => e.type === 'send');
    assert.deepEqual(sent.map((e) => e.frame), [{ ...OUR_PROBE, arp: { ...OUR_PROBE.arp, targetMac: BROADCAST_MAC } }]);
    const claiming = machine({ probeCount: 1 });
    assert.deepEqual(claiming.start(T0).filter((e) => e.type === 'send').map((e) => (e).frame), [OUR_PROBE]);
  });

  test('probeForm and peerProbes are checked', () => {
    assert.equal(resolveAcdConfig().probeForm, 'claim');
    assert.equal(resolveAcdConfig().peerProbes, 'question');
    assert.throws(() => resolveAcdConfig({ probeForm: 'ask' as never }), /probeForm must be one of 'claim', 'question'/);
    assert.throws(() => resolveAcdConfig({ peerProbes: 1 as never }), /peerProbes must be one of 'claim', 'question'/);
  });

  test('the setting is checked: a list of station MACs, absent by default', () => {
    assert.equal(resolveAcdConfig().askingMacs, undefined);
    assert.deepEqual(resolveAcdConfig({ askingMacs: [OTHER, OTHER2] }).askingMacs, [OTHER, OTHER2]);
    for (const bad of ['02:00:00:00:00:0b', ['ff:ff:ff:ff:ff:ff'], ['02:00:00:00:00:0B'], [null]]) {
      assert.throws(() => resolveAcdConfig({ askingMacs: bad as unknown as Mac[] }), /askingMacs must be a list of at most 4096 canonical station MACs/);
    }
  });
});

describe('re-announcing (onReannounce: a cache refresh, the operator\'s announce-now)', () => {
  test('bound: one announcement of the resource\'s form, then the event; state and timer untouched', () => {
    const { acd, now } = defending({ announceForm: 'both' });
    assert.deepEqual(acd.onReannounce(now + 60_000), [send(OUR_ANNOUNCE_REQUEST), send(OUR_GRATUITOUS_REPLY), ev({ type: 'reannounced', at: now + 60_000 })]);
    assert.equal(acd.state, AcdState.Defending);
    assert.equal(acd.timerAt, null);
  });

  test('while the first announcements run, it does not move their schedule', () => {
    const acd = announcing();
    assert.equal(acd.timerAt, T0 + 2810);
    assert.deepEqual(acd.onReannounce(T0 + 1000), [send(OUR_ANNOUNCE_REQUEST), ev({ type: 'reannounced', at: T0 + 1000 })]);
    assert.equal(acd.timerAt, T0 + 2810);
    assert.deepEqual(acd.onTimeout(T0 + 2810), [send(OUR_ANNOUNCE_REQUEST), ev({ type: 'announced', at: T0 + 2810, n: 2, count: 2 })]);
    assert.equal(acd.state, AcdState.Defending);
  });

  test('before the address is bound there is nothing to announce: no frame, no event', () => {
    const acd = machine();
    acd.start(T0);
    assert.equal(acd.state, AcdState.Probing);
    assert.deepEqual(acd.onReannounce(T0 + 1), []);
    acd.onTimeout(T0 + 200);
    acd.onTimeout(T0 + 400);
    acd.onTimeout(T0 + 800);
    assert.equal(acd.state, AcdState.Registering);
    assert.deepEqual(acd.onReannounce(T0 + 801), []);
  });

  test('after the claim ended it is a caller bug', () => {
    const { acd, now } = defending();
    acd.stop(now + 1);
    assertImpossible(() => acd.onReannounce(now + 2), AcdState.Released, 'onReannounce');
    assertImpossible(() => machine().onReannounce(T0), AcdState.Idle, 'onReannounce');
  });
});
