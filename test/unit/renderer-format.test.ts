// How the console words times and durations; the credential in the URL; conflicts and events.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount, formatDuration, formatRelative } from '../../renderer/src/model/format';
import { apiUrlFor, credentialFromHash, hashWithoutCredential } from '../../renderer/src/model/token';
import { buildTimeline, sortConflicts } from '../../renderer/src/model/conflicts';
import { filterEvents } from '../../renderer/src/model/events';
import { audit, conflict, T0 } from './renderer-fixtures';

describe('format', () => {
  test('relative times', () => {
    assert.equal(formatRelative(0, T0), '—', 'unknown');
    assert.equal(formatRelative(T0 - 500, T0), 'just now');
    assert.equal(formatRelative(T0 + 5_000, T0), 'just now', 'a clock slightly ahead is not "in the future"');
    assert.equal(formatRelative(T0 - 42_000, T0), '42 s ago');
    assert.equal(formatRelative(T0 - 5 * 60_000, T0), '5 min ago');
    assert.equal(formatRelative(T0 - 3 * 3_600_000, T0), '3 h ago');
    assert.equal(formatRelative(T0 - 3 * 86_400_000, T0), '3 d ago');
  });

  test('durations keep sub-millisecond handoffs readable', () => {
    assert.equal(formatDuration(null), '—');
    assert.equal(formatDuration(0.42), '0.42 ms');
    assert.equal(formatDuration(3), '3 ms');
    assert.equal(formatDuration(12.34), '12.3 ms');
    assert.equal(formatDuration(412.6), '413 ms');
    assert.equal(formatDuration(1250), '1.25 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
  });

  test('counts', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(10_000), '10,000');
    assert.equal(formatCount(1_234_567), '1,234,567');
  });
});

describe('credential and endpoint', () => {
  const TOKEN = 'ab12'.repeat(16);
  const SECRET = 'cd34'.repeat(16);
  const token = { kind: 'credential', credential: { user: null, secret: TOKEN } } as const;
  const alice = { kind: 'credential', credential: { user: 'alice', secret: SECRET } } as const;

  test('the node token comes from the fragment only, as #token= (the link ipfo agent prints)', () => {
    assert.deepEqual(credentialFromHash(`#token=${TOKEN}`), token);
    assert.deepEqual(credentialFromHash(`#view=nodes&token=${TOKEN}`), token);
    assert.deepEqual(credentialFromHash(`#token=%20${TOKEN}%0A`), token, 'blanks around a pasted token are ignored');
    assert.deepEqual(credentialFromHash(''), { kind: 'none' });
    assert.deepEqual(credentialFromHash('#token='), { kind: 'none' });
    assert.deepEqual(credentialFromHash('#other=1'), { kind: 'none' });
  });

  test('a user credential NAME:SECRET, in #token= or #credential=, the colon plain or encoded', () => {
    assert.deepEqual(credentialFromHash(`#token=alice:${SECRET}`), alice);
    assert.deepEqual(credentialFromHash(`#token=alice%3A${SECRET}`), alice);
    assert.deepEqual(credentialFromHash(`#credential=alice:${SECRET}`), alice);
    assert.deepEqual(credentialFromHash(`#credential=${TOKEN}&view=nodes`), token);
    // The same credential twice is still one.
    assert.deepEqual(credentialFromHash(`#token=alice:${SECRET}&credential=alice%3A${SECRET}`), alice);
  });

  test('hostile or broken fragments are not credentials: nothing would be sent', () => {
    const invalid = { kind: 'invalid' };
    for (const hash of [
      '#token=ab12', // cut off
      `#token=${TOKEN.toUpperCase()}`, // the agent prints lowercase
      `#token=${TOKEN}0`,
      `#token=root:${SECRET}`, // root is the token's identity, not a user
      `#token=Alice:${SECRET}`,
      `#token=:${SECRET}`,
      `#token=alice:`,
      `#token=alice:bob:${SECRET}`,
      `#token=a%00lice:${SECRET}`,
      `#token=<script>:${SECRET}`,
      `#token=${'a'.repeat(33)}:${SECRET}`,
      `#token=alice:${SECRET}%0Aevil`,
      `#token=${TOKEN}&credential=alice:${SECRET}`, // two different credentials: which one?
      `#token=${TOKEN}&token=${SECRET}`,
      `#token=${'%'.repeat(10)}`,
      `#token=${'a'.repeat(100_000)}`,
    ]) {
      assert.deepEqual(credentialFromHash(hash), invalid, hash.slice(0, 80));
    }
  });

  test('once read, the credential is taken out of the fragment (both names, also a broken one), other parameters kept', () => {
    assert.equal(hashWithoutCredential('#token=ab12'), '');
    assert.equal(hashWithoutCredential(`#credential=alice:${SECRET}`), '');
    assert.equal(hashWithoutCredential(`#view=nodes&token=alice%3A${SECRET}`), '#view=nodes');
    assert.equal(hashWithoutCredential('#token=ab12&view=nodes&credential=x'), '#view=nodes');
    assert.equal(hashWithoutCredential('#view=nodes'), '#view=nodes');
    assert.equal(hashWithoutCredential(''), '');
  });

  test('the API socket is on the page\'s own origin', () => {
    assert.equal(apiUrlFor({ protocol: 'http:', host: '127.0.0.1:7790' }, '/api'), 'ws://127.0.0.1:7790/api');
    assert.equal(apiUrlFor({ protocol: 'https:', host: 'agent.example:7790' }, '/api'), 'wss://agent.example:7790/api');
  });
});

describe('conflicts', () => {
  const now = T0 + 10 * 60_000;
  const old = conflict('10.213.0.50', '02:00:00:00:00:66', { firstSeen: T0, lastSeen: T0 + 60_000, count: 4, defended: true });
  const live = conflict('10.213.0.51', '02:00:00:00:00:77', { firstSeen: now - 30_000, lastSeen: now - 1_000, count: 30 });

  test('newest activity first', () => {
    assert.deepEqual(sortConflicts([old, live]).map((c) => c.address), ['10.213.0.51', '10.213.0.50']);
  });

  test('timeline bars are fractions of a window that holds every conflict and ends now', () => {
    const timeline = buildTimeline([old, live], now, { minWindowMs: 60_000 });
    assert.equal(timeline.from, T0);
    assert.equal(timeline.to, now);
    const [first, second] = timeline.bars;
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(first.label, '10.213.0.51 ← 02:00:00:00:00:77');
    assert.equal(first.live, true);
    assert.equal(first.end, (now - 1_000 - T0) / (now - T0));
    assert.equal(second.start, 0);
    assert.equal(second.end, 0.1);
    assert.equal(second.defended, true);
    assert.equal(second.live, false);
    assert.ok(timeline.ticks.length > 0 && timeline.ticks.every((tick) => tick >= timeline.from && tick <= timeline.to));
  });

  test('at least the minimum window, at most maxBars lanes', () => {
    const many = Array.from({ length: 20 }, (_, i) => conflict(`10.213.0.${i + 1}`, '02:00:00:00:00:66', { firstSeen: now - 1_000, lastSeen: now - 500 + i }));
    const timeline = buildTimeline(many, now, { minWindowMs: 300_000, maxBars: 5 });
    assert.equal(timeline.to - timeline.from, 300_000);
    assert.deepEqual(timeline.bars.map((bar) => bar.label.split(' ')[0]), ['10.213.0.20', '10.213.0.19', '10.213.0.18', '10.213.0.17', '10.213.0.16']);
  });
});

describe('events filter', () => {
  const entries = [
    audit(1, { actor: 'cli:alice@127.0.0.1', action: 'resource.move', target: 'web', detail: 'moved to n2' }),
    audit(2, { actor: 'agent:n1', action: 'failover', target: 'db', outcome: 'failed', detail: 'conflict with 0a:1b:2c:3d:4e:5f' }),
    audit(3, { actor: 'console@127.0.0.1', action: 'node.pause', target: 'n2', outcome: 'started', detail: null }),
  ];
  test('words match actor, action, target or detail; outcome narrows', () => {
    assert.deepEqual(filterEvents(entries, { text: '', outcome: 'any' }).map((e) => e.seq), [1, 2, 3]);
    assert.deepEqual(filterEvents(entries, { text: 'ALICE', outcome: 'any' }).map((e) => e.seq), [1]);
    assert.deepEqual(filterEvents(entries, { text: '0a:1b', outcome: 'any' }).map((e) => e.seq), [2]);
    assert.deepEqual(filterEvents(entries, { text: 'n2', outcome: 'any' }).map((e) => e.seq), [1, 3]);
    assert.deepEqual(filterEvents(entries, { text: 'n2 pause', outcome: 'any' }).map((e) => e.seq), [3]);
    assert.deepEqual(filterEvents(entries, { text: '', outcome: 'failed' }).map((e) => e.seq), [2]);
  });
});
