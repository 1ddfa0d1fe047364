// The conflict-detection machine for an IPv6 address, replayed frame by frame on a fake clock like
// acd.test.ts: probes are DAD solicitations, announcements and defences unsolicited advertisements.
// Every frame handed in goes through the real ND codec first (encode, then decode) and every frame the
// machine sends is checked to encode and decode to itself, so both sides are frames a host accepts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AcdState,
  AcdStateError,
  createAcd,
  isArpFrame,
  isNdFrame,
  isNdQuestion,
  type Acd,
  type AcdConfig,
  type AcdEffect,
  type AcdEvent,
  type AcdFrame,
} from '../../main/arp/acd';
import { announcement as arpAnnouncement, probe as arpProbe, reply as arpReply } from '../../main/arp/codec';
import type { ArpFrame, Mac } from '../../main/arp/frame';
import {
  buildDadProbe,
  buildDadQuestion,
  buildSolicitation,
  buildSolicitedAdvertisement,
  buildUnsolicitedAdvertisement,
  type NdKind,
} from '../../main/nd/builders';
import { decode, encode } from '../../main/nd/codec';
import type { Ipv6, NdFrame, NeighborAdvertisement } from '../../main/nd/frame';

const IP: Ipv6 = '2001:db8:77::10';
const OTHER_IP: Ipv6 = '2001:db8:77::99';
const PEER_IP: Ipv6 = '2001:db8:77::20';
const IPV4 = '10.213.0.10';
const OWN: Mac = '02:00:00:00:00:0a';
const OTHER: Mac = '02:00:00:00:00:0b';
const OTHER2: Mac = '02:00:00:00:00:0c';
const TRUSTED: Mac = '02:00:00:00:00:0d';
const T0 = 1000;

// ---- frames as they appear on the wire: built, encoded, decoded ----

function wire(frame: NdFrame): NdFrame {
  return decode(encode(frame));
}
/** A DAD probe (RFC 4862 §5.4.2) from `mac` for `ip`. */
function dadFrom(mac: Mac, ip: Ipv6 = IP): NdFrame {
  return wire(buildDadProbe(mac, ip));
}
/** A cluster node's question: a DAD probe with the question nonce. */
function questionFrom(mac: Mac, ip: Ipv6 = IP): NdFrame {
  return wire(buildDadQuestion(mac, ip));
}
/** "ip is at mac" to all nodes: an announcement, and how a holder's kernel answers a DAD probe. */
function advertisementFrom(mac: Mac, ip: Ipv6 = IP): NdFrame {
  return wire(buildUnsolicitedAdvertisement(mac, ip));
}
/** A holder's answer to a node resolving `ip` from PEER_IP: unicast, solicited. */
function solicitedAnswerFrom(mac: Mac, ip: Ipv6 = IP): NdFrame {
  return wire(buildSolicitedAdvertisement(mac, buildSolicitation(OTHER2, PEER_IP, ip)));
}
/** "Who has target? Tell src at mac". */
function solicitationFrom(mac: Mac, src: Ipv6, target: Ipv6): NdFrame {
  return wire(buildSolicitation(mac, src, target));
}
/** The frame as a router would have forwarded it: hop limit below 255. */
function offLink(frame: NdFrame): NdFrame {
  return wire({ ...frame, ipv6: { ...frame.ipv6, hopLimit: 64 } });
}

const OUR_DAD: NdFrame = {
  dstMac: '33:33:ff:00:00:10',
  srcMac: OWN,
  vlan: null,
  ipv6: { src: '::', dst: 'ff02::1:ff00:10', hopLimit: 255 },
  icmp: { type: 'ns', target: IP, sourceLinkAddr: null },
};
const OUR_QUESTION: NdFrame = { ...OUR_DAD, icmp: { type: 'ns', target: IP, sourceLinkAddr: null, question: true } };
const OUR_NA: NdFrame = {
  dstMac: '33:33:00:00:00:01',
  srcMac: OWN,
  vlan: null,
  ipv6: { src: IP, dst: 'ff02::1', hopLimit: 255 },
  icmp: { type: 'na', target: IP, router: false, solicited: false, override: true, targetLinkAddr: OWN },
};

// ---- effect shorthands ----

type Effect = AcdEffect<NdFrame>;
const send = (f: NdFrame): Effect => ({ type: 'send', frame: f });
const timer = (at: number): Effect => ({ type: 'set-timer', at });
const cancel: Effect = { type: 'cancel-timer' };
const register: Effect = { type: 'register' };
const deregister: Effect = { type: 'deregister' };
const ev = (e: AcdEvent): Effect => ({ type: 'event', event: e });
const usedBy = (at: number, ...macs: Mac[]): Effect[] => [cancel, ev({ type: 'used-by', at, macs })];

function machine(config: Partial<AcdConfig> = {}): Acd<NdFrame> {
  return createAcd<NdFrame>(config, { ip: IP, mac: OWN });
}

/** A default-timed claim run to Announcing (first NA at T0+810, next due T0+2810). */
function announcing(config: Partial<AcdConfig> = {}): Acd<NdFrame> {
  const acd = machine(config);
  acd.start(T0);
  acd.onTimeout(T0 + 200);
  acd.onTimeout(T0 + 400);
  assert.deepEqual(acd.onTimeout(T0 + 800), [register]);
  acd.onRegistered(T0 + 810);
  assert.equal(acd.state, AcdState.Announcing);
  return acd;
}

/** A claim run to Defending with no timer pending, at T0. */
function defending(config: Partial<AcdConfig> = {}): Acd<NdFrame> {
  const acd = machine({ skipProbe: true, announceCount: 1, ...config });
  acd.start(T0);
  acd.onRegistered(T0);
  assert.equal(acd.state, AcdState.Defending);
  assert.equal(acd.timerAt, null);
  return acd;
}

function registering(config: Partial<AcdConfig> = {}): Acd<NdFrame> {
  const acd = machine({ skipProbe: true, ...config });
  acd.start(T0);
  return acd;
}

function probing(config: Partial<AcdConfig> = {}): Acd<NdFrame> {
  const acd = machine(config);
  acd.start(T0);
  return acd;
}

/** One fresh machine in each state that reads frames; inputs after T0 + 900 are in order for all. */
function inEveryState(config: Partial<AcdConfig> = {}): [AcdState, Acd<NdFrame>][] {
  return [
    [AcdState.Probing, probing(config)],
    [AcdState.Registering, registering(config)],
    [AcdState.Announcing, announcing(config)],
    [AcdState.Defending, defending(config)],
  ];
}

/** Every frame a send effect carries encodes and decodes to itself (a valid ND frame, untagged). */
function assertWireValid(effects: readonly Effect[]): void {
  for (const effect of effects) {
    if (effect.type !== 'send') continue;
    assert.equal(effect.frame.vlan, null);
    assert.deepEqual(decode(encode(effect.frame)), effect.frame);
  }
}

function assertImpossible(run: () => unknown, state: AcdState, input: string): void {
  assert.throws(run, (error: unknown) => error instanceof AcdStateError && error.state === state && error.input === input);
}

describe('IPv6 claim: DAD probes, register, advertisements', () => {
  test('happy path with default timings: exact frames, events and timers', () => {
    const acd = machine();
    assert.equal(acd.family, 'ipv6');
    const all: Effect[] = [];
    const step = (effects: Effect[]): Effect[] => {
      all.push(...effects);
      return effects;
    };
    assert.deepEqual(step(acd.start(T0)), [send(OUR_DAD), ev({ type: 'probing', at: T0, n: 1, count: 3 }), timer(T0 + 200)]);
    assert.deepEqual(step(acd.onTimeout(T0 + 200)), [send(OUR_DAD), ev({ type: 'probing', at: T0 + 200, n: 2, count: 3 }), timer(T0 + 400)]);
    assert.deepEqual(step(acd.onTimeout(T0 + 400)), [send(OUR_DAD), ev({ type: 'probing', at: T0 + 400, n: 3, count: 3 }), timer(T0 + 800)]);
    assert.deepEqual(step(acd.onTimeout(T0 + 800)), [register]);
    assert.equal(acd.state, AcdState.Registering);
    assert.deepEqual(step(acd.onRegistered(T0 + 810)), [
      send(OUR_NA),
      ev({ type: 'announced', at: T0 + 810, n: 1, count: 2 }),
      ev({ type: 'ready', at: T0 + 810 }),
      timer(T0 + 2810),
    ]);
    assert.equal(acd.state, AcdState.Announcing);
    assert.deepEqual(step(acd.onTimeout(T0 + 2810)), [send(OUR_NA), ev({ type: 'announced', at: T0 + 2810, n: 2, count: 2 })]);
    assert.equal(acd.state, AcdState.Defending);
    assert.equal(acd.timerAt, null);
    assertWireValid(all);
  });

  test('the frames are the nd builders\' own: DAD probe, unsolicited advertisement with override', () => {
    assert.deepEqual(OUR_DAD, buildDadProbe(OWN, IP));
    assert.deepEqual(OUR_NA, buildUnsolicitedAdvertisement(OWN, IP));
    assert.deepEqual(OUR_QUESTION, buildDadQuestion(OWN, IP));
    const sent = machine({ probeCount: 1 }).start(T0).filter((e) => e.type === 'send');
    const only = sent[0];
    assert.ok(only?.type === 'send' && only.frame.icmp.type === 'ns');
    assert.equal(only.frame.ipv6.src, '::');
    assert.equal(only.frame.icmp.sourceLinkAddr, null);
    assert.equal(isNdQuestion(only.frame), false);
  });

  test('announceCount and announceIntervalMs space the advertisements; a late timer pushes the next out', () => {
    const acd = machine({ skipProbe: true, announceCount: 3, announceIntervalMs: 500 });
    assert.deepEqual(acd.start(0), [register]);
    assert.deepEqual(acd.onRegistered(0), [send(OUR_NA), ev({ type: 'announced', at: 0, n: 1, count: 3 }), ev({ type: 'ready', at: 0 }), timer(500)]);
    assert.deepEqual(acd.onTimeout(530), [send(OUR_NA), ev({ type: 'announced', at: 530, n: 2, count: 3 }), timer(1030)]);
    assert.deepEqual(acd.onTimeout(1030), [send(OUR_NA), ev({ type: 'announced', at: 1030, n: 3, count: 3 })]);
    assert.equal(acd.state, AcdState.Defending);
  });

  test('announceForm does not matter: one advertisement per announcement, whatever its value', () => {
    for (const announceForm of ['request', 'reply', 'both'] as const) {
      const acd = machine({ skipProbe: true, announceForm });
      acd.start(T0);
      assert.deepEqual(acd.onRegistered(T0).filter((e) => e.type === 'send'), [send(OUR_NA)], announceForm);
      assert.deepEqual(acd.onReannounce(T0 + 1), [send(OUR_NA), ev({ type: 'reannounced', at: T0 + 1 })], announceForm);
    }
  });

  test('probeCount 0 listens passively, skipProbe registers at once, register failure ends it', () => {
    const quiet = machine({ probeCount: 0, probeWaitMs: 300 });
    assert.deepEqual(quiet.start(T0), [timer(T0 + 300)]);
    assert.deepEqual(quiet.onFrame(T0 + 10, advertisementFrom(OTHER)), usedBy(T0 + 10, OTHER));
    const failing = registering();
    assert.deepEqual(failing.onRegisterFailed(T0 + 3, 'RTNETLINK answers: File exists'), [
      ev({ type: 'down', at: T0 + 3, reason: 'register-failed', detail: 'RTNETLINK answers: File exists' }),
    ]);
    assert.equal(failing.state, AcdState.Failed);
  });
});

describe('IPv6 conflicts while probing (claim mode)', () => {
  const conflicting: { name: string; frame: () => NdFrame; mac: Mac }[] = [
    { name: "the holder's answer to our DAD probe (an advertisement to all nodes)", frame: () => wire(buildSolicitedAdvertisement(OTHER, OUR_DAD)), mac: OTHER },
    { name: 'an unsolicited advertisement for our IP', frame: () => advertisementFrom(OTHER), mac: OTHER },
    { name: "a solicited advertisement for our IP (the holder answering someone else)", frame: () => solicitedAnswerFrom(OTHER), mac: OTHER },
    { name: 'an advertisement for our IP from another source address (a proxy)', frame: () => wire({ ...advertisementFrom(OTHER), ipv6: { src: 'fe80::b', dst: 'ff02::1', hopLimit: 255 } }), mac: OTHER },
    { name: 'a solicitation from our IP (a station using it)', frame: () => solicitationFrom(OTHER, IP, PEER_IP), mac: OTHER },
    { name: 'an advertisement from our IP for another address', frame: () => wire({ ...buildUnsolicitedAdvertisement(OTHER, OTHER_IP), ipv6: { src: IP, dst: 'ff02::1', hopLimit: 255 } }), mac: OTHER },
    { name: 'another node\'s DAD probe for our IP (simultaneous DAD, RFC 4862 §5.4.3)', frame: () => dadFrom(OTHER), mac: OTHER },
  ];
  const rounds = [T0 + 50, T0 + 250, T0 + 450, T0 + 799];
  for (const { name, frame, mac } of conflicting) {
    test(`${name}: used-by at every point of probing, nothing registered`, () => {
      for (const at of rounds) {
        const acd = probing();
        if (at >= T0 + 200) acd.onTimeout(T0 + 200);
        if (at >= T0 + 400) acd.onTimeout(T0 + 400);
        assert.deepEqual(acd.onFrame(at, frame()), usedBy(at, mac), `at ${at}`);
        assert.equal(acd.state, AcdState.Failed);
        assert.equal(acd.timerAt, null);
        assertImpossible(() => acd.onTimeout(T0 + 800), AcdState.Failed, 'onTimeout');
      }
    });
  }

  test('who is blamed: the link-layer option naming our IP\'s MAC, else the Ethernet source', () => {
    // An advertisement for our IP: its target link-layer option, whatever the Ethernet source says.
    assert.deepEqual(probing().onFrame(T0 + 1, wire({ ...advertisementFrom(OTHER2), srcMac: OTHER })), usedBy(T0 + 1, OTHER2));
    // ... and the Ethernet source when it has none.
    const bare = advertisementFrom(OTHER);
    const noOption = wire({ ...bare, icmp: { ...(bare.icmp as NeighborAdvertisement), targetLinkAddr: null } });
    assert.deepEqual(probing().onFrame(T0 + 2, noOption), usedBy(T0 + 2, OTHER));
    // A solicitation from our IP: its source link-layer option.
    assert.deepEqual(probing().onFrame(T0 + 3, wire({ ...solicitationFrom(OTHER2, IP, PEER_IP), srcMac: OTHER })), usedBy(T0 + 3, OTHER2));
    // An advertisement from our IP for another address names that address's MAC: blame the sender.
    const forOther = wire({ ...buildUnsolicitedAdvertisement(OTHER2, OTHER_IP), srcMac: OTHER, ipv6: { src: IP, dst: 'ff02::1', hopLimit: 255 } });
    assert.deepEqual(probing().onFrame(T0 + 4, forOther), usedBy(T0 + 4, OTHER));
  });

  test('not conflicts: resolution of our IP, ND about other addresses, ND from off the link', () => {
    const acd = probing();
    assert.deepEqual(acd.onFrame(T0 + 1, solicitationFrom(OTHER, PEER_IP, IP)), []);
    assert.deepEqual(acd.onFrame(T0 + 2, dadFrom(OTHER, OTHER_IP)), []);
    assert.deepEqual(acd.onFrame(T0 + 3, advertisementFrom(OTHER, OTHER_IP)), []);
    assert.deepEqual(acd.onFrame(T0 + 4, solicitedAnswerFrom(OTHER, OTHER_IP)), []);
    assert.deepEqual(acd.onFrame(T0 + 5, solicitationFrom(OTHER, PEER_IP, OTHER_IP)), []);
    // Hosts drop ND with a hop limit below 255 (RFC 4861 §7.1): it moves no cache and answers nothing.
    assert.deepEqual(acd.onFrame(T0 + 6, offLink(advertisementFrom(OTHER))), []);
    assert.deepEqual(acd.onFrame(T0 + 7, offLink(dadFrom(OTHER))), []);
    assert.equal(acd.state, AcdState.Probing);
    assert.equal(acd.timerAt, T0 + 200);
  });
});

describe('IPv6 probe-only and trusted handoff', () => {
  test('nobody answers: free, three DAD probes, nothing registered', () => {
    const acd = machine({ mode: 'probe-only' });
    const all = [...acd.start(T0), ...acd.onTimeout(T0 + 200), ...acd.onTimeout(T0 + 400)];
    assert.deepEqual(all.filter((e) => e.type === 'send'), [send(OUR_DAD), send(OUR_DAD), send(OUR_DAD)]);
    assert.deepEqual(acd.onTimeout(T0 + 800), [ev({ type: 'free', at: T0 + 800 })]);
    assert.equal(acd.state, AcdState.Done);
  });

  test('two stations answer: one used-by listing both, in the order first seen', () => {
    const acd = machine({ mode: 'probe-only', probeCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 10, advertisementFrom(OTHER2)), []);
    assert.deepEqual(acd.onFrame(T0 + 11, solicitedAnswerFrom(OTHER)), []);
    assert.deepEqual(acd.onFrame(T0 + 12, advertisementFrom(OTHER2)), []);
    assert.deepEqual(acd.onTimeout(T0 + 400), [ev({ type: 'used-by', at: T0 + 400, macs: [OTHER2, OTHER] })]);
  });

  test('the trusted old owner answers: reported once, the claim goes on; anyone else aborts it', () => {
    const acd = machine({ trustedMac: TRUSTED });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 5, advertisementFrom(TRUSTED)), [ev({ type: 'trusted-answer', at: T0 + 5, mac: TRUSTED })]);
    assert.deepEqual(acd.onFrame(T0 + 6, advertisementFrom(TRUSTED)), []);
    acd.onTimeout(T0 + 200);
    acd.onTimeout(T0 + 400);
    assert.deepEqual(acd.onTimeout(T0 + 800), [register]);

    const rival = machine({ trustedMac: TRUSTED });
    rival.start(T0);
    rival.onFrame(T0 + 5, advertisementFrom(TRUSTED));
    assert.deepEqual(rival.onFrame(T0 + 6, advertisementFrom(OTHER)), usedBy(T0 + 6, OTHER));
  });

  test('the old owner is tolerated while Announcing, and is a conflict once Defending', () => {
    const acd = announcing({ trustedMac: TRUSTED });
    assert.deepEqual(acd.onFrame(T0 + 900, advertisementFrom(TRUSTED)), []);
    acd.onTimeout(T0 + 2810);
    assert.deepEqual(acd.onFrame(T0 + 2900, advertisementFrom(TRUSTED)), [
      send(OUR_NA),
      ev({ type: 'conflict', at: T0 + 2900, mac: TRUSTED, frameKind: 'unsolicited-advertisement', action: 'defended' }),
      ev({ type: 'defended', at: T0 + 2900, mac: TRUSTED }),
    ]);
  });
});

describe('IPv6 peers that ask (askingMacs)', () => {
  test('a peer\'s question is not a conflict; the claim goes on to register', () => {
    const acd = machine({ askingMacs: [OTHER], probeCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 10, questionFrom(OTHER)), []);
    assert.deepEqual(acd.onTimeout(T0 + 400), [register]);
  });

  test('a peer\'s plain DAD probe is answered with ours and a full wait more, at most 3 times', () => {
    const acd = machine({ askingMacs: [OTHER], probeCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 390, dadFrom(OTHER)), [send(OUR_DAD), timer(T0 + 790)]);
    assert.deepEqual(acd.onFrame(T0 + 400, dadFrom(OTHER)), [send(OUR_DAD), timer(T0 + 800)]);
    assert.deepEqual(acd.onFrame(T0 + 410, dadFrom(OTHER)), [send(OUR_DAD), timer(T0 + 810)]);
    assert.deepEqual(acd.onFrame(T0 + 420, dadFrom(OTHER)), []);
    assert.deepEqual(acd.onTimeout(T0 + 810), [register]);
  });

  test("peerProbes 'claim': a peer's plain DAD probe is a conflict, its question still is not", () => {
    const acd = machine({ askingMacs: [OTHER], peerProbes: 'claim', probeCount: 1 });
    acd.start(T0);
    assert.deepEqual(acd.onFrame(T0 + 5, questionFrom(OTHER)), []);
    assert.deepEqual(acd.onFrame(T0 + 10, dadFrom(OTHER)), usedBy(T0 + 10, OTHER));
  });

  test("a peer's answer is a conflict, and so is a question from a station not listed", () => {
    const answered = machine({ askingMacs: [OTHER] });
    answered.start(T0);
    assert.deepEqual(answered.onFrame(T0 + 10, advertisementFrom(OTHER)), usedBy(T0 + 10, OTHER));
    const stranger = machine({ askingMacs: [OTHER] });
    stranger.start(T0);
    assert.deepEqual(stranger.onFrame(T0 + 10, questionFrom(OTHER2)), usedBy(T0 + 10, OTHER2));
  });

  test("probeForm 'question': the probes carry the question nonce, and a peer's probe gets nothing back", () => {
    const acd = machine({ mode: 'probe-only', probeForm: 'question', askingMacs: [OTHER], probeCount: 1 });
    const started = acd.start(T0);
    assert.deepEqual(started, [send(OUR_QUESTION), ev({ type: 'probing', at: T0, n: 1, count: 1 }), timer(T0 + 400)]);
    assertWireValid(started);
    const sent = started[0];
    assert.ok(sent?.type === 'send');
    // What peers see after the codec: still a question; the holder reads a DAD probe (classifyNd).
    assert.equal(isNdQuestion(decode(encode(sent.frame))), true);
    assert.deepEqual(acd.onFrame(T0 + 10, dadFrom(OTHER)), []);
    assert.deepEqual(acd.onFrame(T0 + 20, advertisementFrom(TRUSTED)), []);
    assert.deepEqual(acd.onTimeout(T0 + 400), [ev({ type: 'used-by', at: T0 + 400, macs: [TRUSTED] })]);
  });

  test('probe-only: a peer\'s question is left out of used-by, its answer is not', () => {
    const quiet = machine({ mode: 'probe-only', askingMacs: [OTHER], probeCount: 1 });
    quiet.start(T0);
    assert.deepEqual(quiet.onFrame(T0 + 5, questionFrom(OTHER)), []);
    assert.deepEqual(quiet.onTimeout(T0 + 400), [ev({ type: 'free', at: T0 + 400 })]);
    const used = machine({ mode: 'probe-only', askingMacs: [OTHER], probeCount: 1 });
    used.start(T0);
    used.onFrame(T0 + 5, solicitedAnswerFrom(OTHER));
    assert.deepEqual(used.onTimeout(T0 + 400), [ev({ type: 'used-by', at: T0 + 400, macs: [OTHER] })]);
  });
});

describe('IPv6 while registering', () => {
  test('a claim is reported as ignored; the trusted MAC, own echoes, DAD probes and resolution are silent', () => {
    const acd = registering({ trustedMac: TRUSTED });
    assert.deepEqual(acd.onFrame(T0 + 1, advertisementFrom(OTHER)), [
      ev({ type: 'conflict', at: T0 + 1, mac: OTHER, frameKind: 'unsolicited-advertisement', action: 'ignored' }),
    ]);
    assert.deepEqual(acd.onFrame(T0 + 2, solicitationFrom(OTHER2, IP, PEER_IP)), [
      ev({ type: 'conflict', at: T0 + 2, mac: OTHER2, frameKind: 'solicitation', action: 'ignored' }),
    ]);
    assert.deepEqual(acd.onFrame(T0 + 3, advertisementFrom(TRUSTED)), []);
    assert.deepEqual(acd.onFrame(T0 + 4, OUR_NA), []);
    assert.deepEqual(acd.onFrame(T0 + 5, dadFrom(OTHER)), []);
    assert.deepEqual(acd.onFrame(T0 + 6, solicitationFrom(OTHER, PEER_IP, IP)), []);
    assert.equal(acd.state, AcdState.Registering);
  });
});

describe('IPv6 bound: announcing and defending', () => {
  test('DAD probes and solicitations for our IP are not conflicts (the kernel answers them)', () => {
    const acd = defending();
    assert.deepEqual(acd.onFrame(T0 + 1, dadFrom(OTHER)), []);
    assert.deepEqual(acd.onFrame(T0 + 2, questionFrom(OTHER)), []);
    assert.deepEqual(acd.onFrame(T0 + 3, solicitationFrom(OTHER, PEER_IP, IP)), []);
    assert.deepEqual(acd.onFrame(T0 + 4, advertisementFrom(OTHER, OTHER_IP)), []);
    assert.deepEqual(acd.onFrame(T0 + 5, offLink(advertisementFrom(OTHER))), []);
    assert.equal(acd.state, AcdState.Defending);
  });

  const claims: { name: string; frame: () => NdFrame; mac: Mac; kind: NdKind }[] = [
    { name: 'an unsolicited advertisement for our IP', frame: () => advertisementFrom(OTHER), mac: OTHER, kind: 'unsolicited-advertisement' },
    { name: 'a solicited advertisement for our IP', frame: () => solicitedAnswerFrom(OTHER), mac: OTHER, kind: 'solicited-advertisement' },
    { name: 'a solicitation from our IP', frame: () => solicitationFrom(OTHER2, IP, PEER_IP), mac: OTHER2, kind: 'solicitation' },
  ];
  for (const { name, frame, mac, kind } of claims) {
    test(`${name} is defended with one advertisement`, () => {
      const acd = defending();
      const effects = acd.onFrame(T0 + 7, frame());
      assert.deepEqual(effects, [
        send(OUR_NA),
        ev({ type: 'conflict', at: T0 + 7, mac, frameKind: kind, action: 'defended' }),
        ev({ type: 'defended', at: T0 + 7, mac }),
      ]);
      assertWireValid(effects);
    });
  }

  test("policy 'never' yields at the first conflict: deregister first, then report", () => {
    const acd = defending({ defendPolicy: 'never' });
    assert.deepEqual(acd.onFrame(T0 + 7, advertisementFrom(OTHER)), [
      deregister,
      ev({ type: 'conflict', at: T0 + 7, mac: OTHER, frameKind: 'unsolicited-advertisement', action: 'yielded' }),
      ev({ type: 'down', at: T0 + 7, reason: 'conflict' }),
    ]);
    assert.equal(acd.state, AcdState.Failed);
  });

  test("policy 'never' while Announcing also cancels the advertisement timer", () => {
    const acd = announcing({ defendPolicy: 'never' });
    assert.deepEqual(acd.onFrame(T0 + 900, solicitedAnswerFrom(OTHER)), [
      deregister,
      cancel,
      ev({ type: 'conflict', at: T0 + 900, mac: OTHER, frameKind: 'solicited-advertisement', action: 'yielded' }),
      ev({ type: 'down', at: T0 + 900, reason: 'conflict' }),
    ]);
    assert.equal(acd.timerAt, null);
  });

  test("policy 'once': defend, yield inside defendIntervalMs, defend again at exactly defendIntervalMs", () => {
    const yielding = defending({ defendPolicy: 'once', defendIntervalMs: 10_000 });
    assert.deepEqual(yielding.onFrame(T0 + 100, advertisementFrom(OTHER)).map((e) => e.type), ['send', 'event', 'event']);
    assert.deepEqual(yielding.onFrame(T0 + 10_099, advertisementFrom(OTHER2)), [
      deregister,
      ev({ type: 'conflict', at: T0 + 10_099, mac: OTHER2, frameKind: 'unsolicited-advertisement', action: 'yielded' }),
      ev({ type: 'down', at: T0 + 10_099, reason: 'conflict' }),
    ]);
    const again = defending({ defendPolicy: 'once', defendIntervalMs: 10_000 });
    again.onFrame(T0 + 100, advertisementFrom(OTHER));
    assert.deepEqual(again.onFrame(T0 + 10_100, advertisementFrom(OTHER)), [
      send(OUR_NA),
      ev({ type: 'conflict', at: T0 + 10_100, mac: OTHER, frameKind: 'unsolicited-advertisement', action: 'defended' }),
      ev({ type: 'defended', at: T0 + 10_100, mac: OTHER }),
    ]);
    assert.equal(again.state, AcdState.Defending);
  });

  test("policy 'always': rate limited inside the interval, defended again at exactly defendIntervalMs", () => {
    const acd = defending({ defendPolicy: 'always', defendIntervalMs: 10_000 });
    const t1 = T0 + 50;
    assert.deepEqual(acd.onFrame(t1, advertisementFrom(OTHER)).filter((e) => e.type === 'send'), [send(OUR_NA)]);
    assert.deepEqual(acd.onFrame(t1 + 1, solicitationFrom(OTHER, IP, PEER_IP)), [
      ev({ type: 'conflict', at: t1 + 1, mac: OTHER, frameKind: 'solicitation', action: 'rate-limited' }),
    ]);
    assert.deepEqual(acd.onFrame(t1 + 9_999, advertisementFrom(OTHER)), [
      ev({ type: 'conflict', at: t1 + 9_999, mac: OTHER, frameKind: 'unsolicited-advertisement', action: 'rate-limited' }),
    ]);
    assert.deepEqual(acd.onFrame(t1 + 10_000, advertisementFrom(OTHER)), [
      send(OUR_NA),
      ev({ type: 'conflict', at: t1 + 10_000, mac: OTHER, frameKind: 'unsolicited-advertisement', action: 'defended' }),
      ev({ type: 'defended', at: t1 + 10_000, mac: OTHER }),
    ]);
    assert.equal(acd.state, AcdState.Defending);
  });

  test('a defence during Announcing leaves the advertisement schedule alone', () => {
    const acd = announcing();
    assert.deepEqual(acd.onFrame(T0 + 1000, advertisementFrom(OTHER)).map((e) => e.type), ['send', 'event', 'event']);
    assert.equal(acd.timerAt, T0 + 2810);
    assert.deepEqual(acd.onTimeout(T0 + 2810), [send(OUR_NA), ev({ type: 'announced', at: T0 + 2810, n: 2, count: 2 })]);
  });

  test('onPeerReport: logged as a solicited advertisement, judged by the same policy and rate limit', () => {
    const acd = defending({ defendIntervalMs: 10_000 });
    assert.deepEqual(acd.onPeerReport(T0 + 5, OTHER), [
      send(OUR_NA),
      ev({ type: 'conflict', at: T0 + 5, mac: OTHER, frameKind: 'solicited-advertisement', action: 'defended' }),
      ev({ type: 'defended', at: T0 + 5, mac: OTHER }),
    ]);
    assert.deepEqual(acd.onPeerReport(T0 + 6, OTHER), [ev({ type: 'conflict', at: T0 + 6, mac: OTHER, frameKind: 'solicited-advertisement', action: 'rate-limited' })]);
    assert.deepEqual(acd.onPeerReport(T0 + 7, OWN), []);
    const never = defending({ defendPolicy: 'never' });
    assert.deepEqual(never.onPeerReport(T0 + 1, OTHER).map((e) => e.type), ['deregister', 'event', 'event']);
    assert.deepEqual(probing().onPeerReport(T0 + 1, OTHER), []);
  });
});

describe('IPv6 frames the machine never acts on', () => {
  test('our own frames in every state: echoes, Ethernet source ours, link-layer option ours', () => {
    for (const [state, acd] of inEveryState()) {
      const own: NdFrame[] = [
        OUR_DAD,
        OUR_NA,
        OUR_QUESTION,
        // Ethernet source ours, whatever the options say.
        wire({ ...advertisementFrom(OTHER), srcMac: OWN }),
        wire({ ...dadFrom(OTHER), srcMac: OWN }),
        // Link-layer option ours, Ethernet source another (a bridge rewriting).
        wire({ ...advertisementFrom(OWN), srcMac: OTHER }),
        wire({ ...solicitationFrom(OWN, IP, PEER_IP), srcMac: OTHER }),
      ];
      own.forEach((frame, index) => assert.deepEqual(acd.onFrame(T0 + 900 + index, frame), [], `${state} #${index}`));
      assert.equal(acd.state, state);
    }
  });

  test('ARP frames in every state of an IPv6 machine, even ones naming our MAC or claiming an IPv4 address', () => {
    const arp: ArpFrame[] = [arpAnnouncement(OTHER, IPV4), arpReply(OTHER, IPV4, OWN, '10.213.0.1'), arpProbe(OTHER, IPV4), arpAnnouncement(OWN, IPV4)];
    for (const [state, acd] of inEveryState()) {
      arp.forEach((frame, index) => assert.deepEqual(acd.onFrame(T0 + 900 + index, frame), [], `${state} #${index}`));
      assert.equal(acd.state, state);
    }
  });

  test('ND frames in every state of an IPv4 machine: a shared socket may hand in both', () => {
    const v4 = (config: Partial<AcdConfig> = {}): Acd => createAcd({ skipProbe: true, announceCount: 1, ...config }, { ip: IPV4, mac: OWN });
    const prober = createAcd({}, { ip: IPV4, mac: OWN });
    prober.start(T0);
    const reg = v4();
    reg.start(T0);
    const bound = v4();
    bound.start(T0);
    bound.onRegistered(T0);
    assert.equal(prober.family, 'ipv4');
    for (const acd of [prober, reg, bound]) {
      const state = acd.state;
      for (const frame of [advertisementFrom(OTHER), dadFrom(OTHER), solicitationFrom(OTHER, IP, PEER_IP)]) assert.deepEqual(acd.onFrame(T0 + 900, frame), []);
      assert.equal(acd.state, state);
    }
  });

  test('isNdFrame and isArpFrame tell the families apart', () => {
    const frames: AcdFrame[] = [OUR_NA, arpAnnouncement(OTHER, IPV4)];
    assert.deepEqual(frames.map(isNdFrame), [true, false]);
    assert.deepEqual(frames.map(isArpFrame), [false, true]);
  });

  test('before start and after the end, any frame is a caller bug, of either family', () => {
    assertImpossible(() => machine().onFrame(T0, advertisementFrom(OTHER)), AcdState.Idle, 'onFrame');
    assertImpossible(() => machine().onFrame(T0, arpAnnouncement(OTHER, IPV4)), AcdState.Idle, 'onFrame');
    const acd = defending({ defendPolicy: 'never' });
    acd.onFrame(T0 + 1, advertisementFrom(OTHER));
    assertImpossible(() => acd.onFrame(T0 + 2, advertisementFrom(OTHER)), AcdState.Failed, 'onFrame');
  });
});

describe('IPv6 release and link down', () => {
  for (const input of ['stop', 'onLinkDown'] as const) {
    const terminal = input === 'stop' ? AcdState.Released : AcdState.Failed;
    const reason = input === 'stop' ? 'released' : 'link-down';
    const run = (acd: Acd<NdFrame>, now: number): Effect[] => (input === 'stop' ? acd.stop(now) : acd.onLinkDown(now));

    test(`${input} in each state: what is held is let go, the timer cancelled, one down event`, () => {
      const idle = machine();
      assert.deepEqual(run(idle, T0), []);
      assert.equal(idle.state, terminal);
      assert.deepEqual(run(probing(), T0 + 50), [cancel, ev({ type: 'down', at: T0 + 50, reason })]);
      assert.deepEqual(run(registering(), T0 + 1), [deregister, ev({ type: 'down', at: T0 + 1, reason })]);
      const acd = announcing();
      assert.deepEqual(run(acd, T0 + 900), [deregister, cancel, ev({ type: 'down', at: T0 + 900, reason })]);
      assert.equal(acd.state, terminal);
      assert.equal(acd.timerAt, null);
      assert.deepEqual(run(defending(), T0 + 1), [deregister, ev({ type: 'down', at: T0 + 1, reason })]);
    });
  }

  test('after stop, reannounce, peer reports and frames are caller bugs; stop again is a no-op', () => {
    const acd = defending();
    acd.stop(T0 + 1);
    assert.deepEqual(acd.stop(T0 + 2), []);
    assertImpossible(() => acd.onReannounce(T0 + 3), AcdState.Released, 'onReannounce');
    assertImpossible(() => acd.onPeerReport(T0 + 3, OTHER), AcdState.Released, 'onPeerReport');
    assertImpossible(() => acd.onLinkDown(T0 + 3), AcdState.Released, 'onLinkDown');
  });
});

describe('IPv6 identity', () => {
  test('refuses what no node can hold, and text that is not RFC 5952', () => {
    const refused: [string, RegExp][] = [
      ['::', /ip must be an IPv6 address a node can hold \(got "::": :: is the unspecified address/],
      ['::1', /ip must be an IPv6 address a node can hold \(got "::1": ::1 is the loopback address/],
      ['ff02::1', /ip must be an IPv6 address a node can hold \(got "ff02::1": a multicast address/],
      ['ff02::1:ff00:10', /a multicast address/],
      ['::ffff:10.213.0.10', /an IPv4-mapped address/],
      ['2001:DB8:77::10', /ip must be a canonical IPv6 address, RFC 5952 text/],
      ['2001:db8:77:0:0:0:0:10', /ip must be a canonical IPv6 address/],
      ['2001:db8:77::10/64', /ip must be a canonical IPv6 address/],
      ['fe80::1%eth0', /ip must be a canonical IPv6 address/],
    ];
    for (const [ip, message] of refused) assert.throws(() => createAcd({}, { ip, mac: OWN }), message, ip);
  });

  test('accepts global and link-local addresses; IPv4 checks are unchanged; the MAC is checked the same', () => {
    assert.equal(createAcd({}, { ip: IP, mac: OWN }).family, 'ipv6');
    assert.equal(createAcd({}, { ip: 'fe80::1', mac: OWN }).family, 'ipv6');
    assert.equal(createAcd({}, { ip: IPV4, mac: OWN }).family, 'ipv4');
    assert.throws(() => createAcd({}, { ip: '10.213.0.010', mac: OWN }), /ip must be a canonical IPv4 address other than 0\.0\.0\.0/);
    assert.throws(() => createAcd({}, { ip: 'example', mac: OWN }), /ip must be a canonical IPv4 address/);
    assert.throws(() => createAcd({}, { ip: IP, mac: 'ff:ff:ff:ff:ff:ff' }), /mac must be a canonical MAC/);
    assert.throws(() => createAcd({}, { ip: IP, mac: '02:00:00:00:00:0A' }), /mac must be a canonical MAC/);
    assert.throws(() => createAcd({ trustedMac: OWN }, { ip: IP, mac: OWN }), /trustedMac is our own MAC/);
  });
});
