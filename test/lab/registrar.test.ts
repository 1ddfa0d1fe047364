// Lab test of the Linux address registrar against a real kernel: a fresh network namespace with
// a veth pair, operations run by a child process inside it (the addon acts on the caller's
// namespace), results checked with `ip -j addr` as an independent observer.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_ADDON_PATHS, loadNetlinkAddonFrom, NATIVE_ADDON_MISSING_MESSAGE } from '../../main/net/netlink';
import {
  DEADLINE_PASSED,
  IPFO_ADDR_PROTO,
  validateIfname,
  validateVirtualAddress,
  type InterfaceAddress,
  type RegistrarResult,
  type VirtualAddress,
} from '../../main/net/registrar';
import type { ChildOp, ChildOutput } from './fixtures/registrar-child';

const isRoot = process.getuid?.() === 0;
const NOT_ROOT_REASON = 'needs root: creates a network namespace and adds addresses through rtnetlink';
const suffix = randomBytes(3).toString('hex');
const NS = `ipfo-reg-${suffix}`;
const IF_A = `ipfo-ra${suffix}`; // 13 bytes, within IFNAMSIZ
const IF_B = `ipfo-rb${suffix}`;
const ADMIN_IP = '10.213.250.1'; // the administrator's own address, added with plain `ip addr add`
const CHILD = path.join(__dirname, 'fixtures', 'registrar-child.js');

interface ObservedAddress {
  local: string;
  prefixlen: number;
  valid_life_time: number;
  preferred_life_time: number;
  dynamic?: boolean;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** What `ip -j addr show` sees on IF_A: the observer that does not share our code. */
function observed(): ObservedAddress[] {
  const links = JSON.parse(ip('-n', NS, '-j', 'addr', 'show', 'dev', IF_A)) as { addr_info: (ObservedAddress & { family: string })[] }[];
  return links.flatMap((link) => link.addr_info.filter((a) => a.family === 'inet'));
}

/** The state letter of /proc/<pid>/stat ('T' = stopped); '' once gone. */
function processState(pid: number): string {
  try {
    return /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

function observedIps(): string[] {
  return observed().map((a) => a.local);
}

function child(op: ChildOp): ChildOutput {
  const stdout = execFileSync('ip', ['netns', 'exec', NS, process.execPath, CHILD, JSON.stringify(op)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as ChildOutput;
}

/** Runs op in the namespace and returns its value; fails the test if it threw. */
function childValue<T>(op: ChildOp): { value: T; elapsedMs: number } {
  const out = child(op);
  if (!out.ok) assert.fail(`child ${op.op} threw ${out.error.name}: ${out.error.message}`);
  return { value: out.value as T, elapsedMs: out.elapsedMs };
}

const va = (ip4: string, extra: Partial<VirtualAddress> = {}): VirtualAddress => ({ ifname: IF_A, ip: ip4, prefix: 24, ...extra });
const THREE = ['10.213.250.11', '10.213.250.12', '10.213.250.13'].map((a) => va(a));

function assertAllOk(results: RegistrarResult[], count: number): void {
  assert.equal(results.length, count);
  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(failed, [], 'every item should succeed');
}

/** Skips with a printed reason when not root; returns true when the test may go on. */
function needsRoot(t: TestContext): boolean {
  if (isRoot) return true;
  t.skip(NOT_ROOT_REASON);
  return false;
}

describe('registrar input validation (pure)', () => {
  test('validateIfname accepts real names and rejects unsafe ones', () => {
    for (const good of ['eth0', 'ipfo-ra012345', 'eth0.100', 'a'.repeat(15)]) assert.doesNotThrow(() => validateIfname(good), good);
    for (const bad of ['', 'a'.repeat(16), 'a/b', '..', 'a b', 'a\tb', 'a;b', 'eth0:1', 'a\0b', 'é'.repeat(8)]) {
      assert.throws(() => validateIfname(bad), { name: 'RegistrarInputError', code: 'EINVAL' }, JSON.stringify(bad));
    }
  });

  test('validateVirtualAddress checks ip, prefix and lifetimes strictly', () => {
    assert.doesNotThrow(() => validateVirtualAddress({ ifname: 'eth0', ip: '10.213.0.0', prefix: 0 }));
    assert.doesNotThrow(() => validateVirtualAddress({ ifname: 'eth0', ip: '255.255.255.255', prefix: 32, validLftSec: 3, preferredLftSec: 0 }));
    const bad: VirtualAddress[] = [
      { ifname: 'eth0', ip: '10.213.250.011', prefix: 24 },
      { ifname: 'eth0', ip: '256.1.1.1', prefix: 24 },
      { ifname: 'eth0', ip: '10.213.250', prefix: 24 },
      { ifname: 'eth0', ip: ' 10.213.250.1', prefix: 24 },
      { ifname: 'eth0', ip: '10.213.250.1', prefix: 33 },
      { ifname: 'eth0', ip: '10.213.250.1', prefix: 24.5 },
      { ifname: 'eth0', ip: '10.213.250.1', prefix: 24, validLftSec: 0 },
      { ifname: 'eth0', ip: '10.213.250.1', prefix: 24, validLftSec: 3, preferredLftSec: 4 },
      { ifname: 'eth/0', ip: '10.213.250.1', prefix: 24 },
    ];
    for (const v of bad) assert.throws(() => validateVirtualAddress(v), { code: 'EINVAL' }, JSON.stringify(v));
  });

  test('a missing addon gives the build hint', () => {
    assert.throws(() => loadNetlinkAddonFrom(['/nonexistent/ipfo_netlink.node']), (error: Error) => {
      assert.ok(error.message.includes(NATIVE_ADDON_MISSING_MESSAGE), error.message);
      return true;
    });
  });
});

describe('registrar on a real kernel (network namespace)', () => {
  before(() => {
    if (!isRoot) return;
    if (!DEFAULT_ADDON_PATHS.some((p) => existsSync(p))) throw new Error(NATIVE_ADDON_MISSING_MESSAGE);
    ip('netns', 'add', NS);
    ip('-n', NS, 'link', 'add', IF_A, 'type', 'veth', 'peer', 'name', IF_B);
    ip('-n', NS, 'link', 'set', IF_A, 'up');
    ip('-n', NS, 'link', 'set', IF_B, 'up');
    // First in its subnet, so it is the primary and ours are secondaries.
    ip('-n', NS, 'addr', 'add', `${ADMIN_IP}/24`, 'dev', IF_A);
  });

  after(() => {
    if (!isRoot) return;
    // Deleting the namespace takes the veth pair and every address with it.
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    assert.ok(!ip('netns', 'list').includes(NS), `namespace ${NS} must be gone`);
  });

  test('a batch of 3 is added in one sendmsg and carries our proto mark', (t) => {
    if (!needsRoot(t)) return;
    const { value: results } = childValue<RegistrarResult[]>({ op: 'register', list: THREE });
    assertAllOk(results, 3);
    assert.deepEqual(observedIps().sort(), [ADMIN_IP, ...THREE.map((a) => a.ip)].sort());

    const { value: owned } = childValue<InterfaceAddress[]>({ op: 'listOwned', ifname: IF_A });
    assert.deepEqual(owned.map((a) => a.ip).sort(), THREE.map((a) => a.ip).sort());
    assert.ok(owned.every((a) => a.proto === IPFO_ADDR_PROTO && a.ifname === IF_A && a.prefix === 24 && a.validLftSec === null));
    const { value: all } = childValue<InterfaceAddress[]>({ op: 'listAll' });
    const admin = all.find((a) => a.ip === ADMIN_IP);
    assert.equal(admin?.proto, 0, 'the admin address carries no mark');
    assert.equal(admin?.owned, false);
  });

  test('the batch really is one syscall round (strace)', (t) => {
    if (!needsRoot(t)) return;
    if (spawnSync('strace', ['-V'], { stdio: 'ignore' }).status !== 0) {
      t.skip('strace is not installed; the per-item results of the batch test still cover the batch');
      return;
    }
    const list = ['10.213.250.21', '10.213.250.22', '10.213.250.23'].map((a) => va(a));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ipfo-reg-strace-'));
    try {
      const log = path.join(dir, 'trace');
      execFileSync('ip', ['netns', 'exec', NS, 'strace', '-f', '-qq', '-e', 'trace=sendto,sendmsg', '-o', log,
        process.execPath, CHILD, JSON.stringify({ op: 'register', list })]);
      const sends = readFileSync(log, 'utf8').split('\n').filter((line) => line.includes('RTM_NEWADDR'));
      assert.equal(sends.length, 1, `expected one sendto carrying all RTM_NEWADDR messages, got:\n${sends.join('\n')}`);
      assert.equal(sends[0]?.match(/RTM_NEWADDR/g)?.length, 3, 'the one send carries three messages');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      assertAllOk(childValue<RegistrarResult[]>({ op: 'deregister', list }).value, 3);
    }
  });

  test('registering again is idempotent: still one of each', (t) => {
    if (!needsRoot(t)) return;
    assertAllOk(childValue<RegistrarResult[]>({ op: 'register', list: THREE }).value, 3);
    const ips = observedIps();
    for (const a of THREE) assert.equal(ips.filter((x) => x === a.ip).length, 1, a.ip);
    assert.equal(ips.length, 4);
  });

  test("the administrator's unmarked address is neither taken over nor removed", (t) => {
    if (!needsRoot(t)) return;
    const admin = va(ADMIN_IP);
    const [registered] = childValue<RegistrarResult[]>({ op: 'register', list: [admin] }).value;
    assert.equal(registered?.ok, false);
    assert.equal(registered?.ok === false && registered.code, 'ENOTOWNED');
    const [removed, ours] = childValue<RegistrarResult[]>({ op: 'deregister', list: [admin, va('10.213.250.99')] }).value;
    assert.equal(removed?.ok === false && removed.code, 'ENOTOWNED', 'refused, with a per-item error');
    assert.equal(ours?.ok, true, 'the other item of the batch still went through');
    assert.ok(observedIps().includes(ADMIN_IP), 'the admin address is still there');
    const { value: all } = childValue<InterfaceAddress[]>({ op: 'listAll', ifname: IF_A });
    assert.equal(all.find((a) => a.ip === ADMIN_IP)?.proto, 0, 'and still unmarked');
  });

  test('a batch removal takes exactly ours; removing a missing address is fine', (t) => {
    if (!needsRoot(t)) return;
    assertAllOk(childValue<RegistrarResult[]>({ op: 'deregister', list: THREE }).value, 3);
    assert.deepEqual(observedIps(), [ADMIN_IP]);
    assertAllOk(childValue<RegistrarResult[]>({ op: 'deregister', list: THREE }).value, 3);
    // The addon alone maps the kernel's EADDRNOTAVAIL to success too.
    const { value: ifindex } = childValue<number>({ op: 'ifindexOf', ifname: IF_A });
    const raw = childValue<unknown[]>({ op: 'addonRemove', list: [{ ifindex, address: '10.213.250.98', prefix: 24 }] }).value;
    assert.deepEqual(raw, [{ ok: true }]);
    assert.deepEqual(childValue<InterfaceAddress[]>({ op: 'listOwned' }).value, []);
  });

  test('lifetimes: the kernel removes an address nobody renews (dead-man switch)', async (t) => {
    if (!needsRoot(t)) return;
    const expiring = va('10.213.250.31', { validLftSec: 3 });
    const renewed = va('10.213.250.32', { validLftSec: 3 });
    const registeredAt = Date.now();
    assertAllOk(childValue<RegistrarResult[]>({ op: 'register', list: [expiring, renewed] }).value, 2);
    const seen = observed().find((a) => a.local === expiring.ip);
    assert.ok(seen, 'present right after register');
    assert.ok(seen.valid_life_time <= 3 && seen.valid_life_time > 0, `valid_life_time ${seen.valid_life_time}`);
    assert.equal(seen.dynamic, true, 'a finite lifetime makes it dynamic');
    const { value: owned } = childValue<InterfaceAddress[]>({ op: 'listOwned', ifname: IF_A });
    const ownedExpiring = owned.find((a) => a.ip === expiring.ip);
    assert.ok(ownedExpiring?.validLftSec !== null && ownedExpiring !== undefined && ownedExpiring.validLftSec <= 3);

    await sleep(Math.max(0, registeredAt + 1500 - Date.now()));
    assertAllOk(childValue<RegistrarResult[]>({ op: 'register', list: [renewed] }).value, 1); // renew: another 3 s

    let goneAfterMs = -1;
    while (Date.now() - registeredAt < 8000) {
      const ips = observedIps();
      if (!ips.includes(expiring.ip)) {
        goneAfterMs = Date.now() - registeredAt;
        assert.ok(ips.includes(renewed.ip), 'the renewed address outlives the one left alone');
        break;
      }
      await sleep(200);
    }
    t.diagnostic(`address with valid_lft 3 s disappeared after ${goneAfterMs} ms`);
    assert.ok(goneAfterMs >= 2500 && goneAfterMs <= 6000, `gone after ${goneAfterMs} ms, expected about 3-4 s`);

    while (observedIps().includes(renewed.ip) && Date.now() - registeredAt < 10000) await sleep(200);
    const renewedGoneAfterMs = Date.now() - registeredAt;
    t.diagnostic(`renewed address disappeared after ${renewedGoneAfterMs} ms`);
    assert.ok(!observedIps().includes(renewed.ip), 'the renewed address expires too once renewals stop');
    assert.ok(renewedGoneAfterMs > goneAfterMs);
  });

  test('a renewal decided before the process froze is not sent when it thaws: no expired address comes back', async (t) => {
    if (!needsRoot(t)) return;
    const renewedThenFrozen = va('10.213.250.35', { validLftSec: 1 });
    const fresh = va('10.213.250.36', { validLftSec: 1 });
    assertAllOk(childValue<RegistrarResult[]>({ op: 'register', list: [renewedThenFrozen] }).value, 1);

    // The renewal is decided with a 300 ms deadline, then the process is frozen (SIGSTOP, as a debugger,
    // a cgroup freezer or a stalled VM would) until the address it was renewing has expired.
    const op: ChildOp = { op: 'registerAfterFreeze', list: [renewedThenFrozen, fresh], deadlineInMs: 300, freeze: true };
    const proc = spawn('ip', ['netns', 'exec', NS, process.execPath, CHILD, JSON.stringify(op)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    try {
      const frozenBy = Date.now() + 10_000;
      while (processState(proc.pid!) !== 'T' && Date.now() < frozenBy) await sleep(20);
      assert.equal(processState(proc.pid!), 'T', 'the child froze itself after deciding');
      const expiredBy = Date.now() + 5_000;
      while (observedIps().includes(renewedThenFrozen.ip) && Date.now() < expiredBy) await sleep(50);
      assert.ok(!observedIps().includes(renewedThenFrozen.ip), 'the kernel expired the address while the renewer was frozen');
    } finally {
      proc.kill('SIGCONT');
    }
    await exited;
    const out = JSON.parse(stdout) as ChildOutput;
    assert.ok(out.ok, stdout);
    const results = out.value as RegistrarResult[];
    assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.code)), [DEADLINE_PASSED, DEADLINE_PASSED]);
    assert.match(results[0]!.ok ? '' : results[0]!.message, /deadline had passed/);
    await sleep(50);
    const present = observedIps();
    assert.ok(!present.includes(renewedThenFrozen.ip) && !present.includes(fresh.ip), `nothing registered after the thaw: ${present.join(', ')}`);

    // The same renewal sent in time goes through.
    const inTime = childValue<RegistrarResult[]>({ op: 'registerAfterFreeze', list: [renewedThenFrozen, fresh], deadlineInMs: 2000, freeze: false }).value;
    assertAllOk(inTime, 2);
    assert.ok(observedIps().includes(fresh.ip));
    assertAllOk(childValue<RegistrarResult[]>({ op: 'deregister', list: [renewedThenFrozen, fresh] }).value, 2);
  });

  test('the addon checks its deadline argument and takes none for removals', (t) => {
    if (!needsRoot(t)) return;
    const { value: ifindex } = childValue<number>({ op: 'ifindexOf', ifname: IF_A });
    const spec = { ifindex, address: '10.213.250.37', prefix: 24, proto: IPFO_ADDR_PROTO };
    for (const hostile of [5, '0n', '-1n', `${2n ** 64n}n`, 'soon', null, {}]) {
      const out = child({ op: 'addonAddWithDeadline', list: [spec], notAfterNs: hostile });
      assert.equal(!out.ok && out.error.code, 'ERR_INVALID_ARG_TYPE', `deadline ${JSON.stringify(hostile)}: ${JSON.stringify(out)}`);
    }
    const past = childValue<{ ok: boolean; code?: string }[]>({ op: 'addonAddWithDeadline', list: [spec], notAfterNs: '1n' }).value;
    assert.deepEqual(past.map((r) => r.code), [DEADLINE_PASSED]);
    assert.ok(!observedIps().includes(spec.address), 'a batch past its deadline sends nothing');
    const removal = child({ op: 'addonRemoveWithDeadline', list: [{ ifindex, address: spec.address, prefix: 24 }], notAfterNs: `${process.hrtime.bigint() + 10n ** 9n}n` });
    assert.equal(!removal.ok && removal.error.code, 'ERR_INVALID_ARG_VALUE');
  });

  test('bad names and unknown interfaces give clear errors, per item', (t) => {
    if (!needsRoot(t)) return;
    const missing = child({ op: 'ifindexOf', ifname: 'ipfo-nope' });
    assert.equal(missing.ok, false);
    assert.equal(!missing.ok && missing.error.message, 'no such interface: ipfo-nope');
    assert.equal(!missing.ok && missing.error.code, 'ENODEV');

    const list = [va('10.213.250.41', { ifname: 'ipfo-nope' }), va('10.213.250.42', { ifname: 'bad/name' }), va('10.213.250.43')];
    const [unknown, invalid, good] = childValue<RegistrarResult[]>({ op: 'register', list }).value;
    assert.equal(unknown?.ok === false && unknown.code, 'ENODEV');
    assert.equal(invalid?.ok === false && invalid.code, 'EINVAL');
    assert.equal(good?.ok, true, 'one bad item does not abort the batch');
    assert.ok(observedIps().includes('10.213.250.43'));

    const thrown = child({ op: 'registerOrThrow', list });
    assert.equal(!thrown.ok && thrown.error.name, 'RegistrarBatchError');
    assert.equal(!thrown.ok && thrown.error.failures, 2);

    // The kernel's errno reaches JS as .code/.errno, with its extended-ACK text.
    const [raw] = childValue<{ ok: boolean; code?: string; errno?: number; message?: string }[]>({
      op: 'addonAdd', list: [{ ifindex: 999999, address: '10.213.250.44', prefix: 24, proto: IPFO_ADDR_PROTO }],
    }).value;
    assert.equal(raw?.code, 'ENODEV');
    assert.equal(raw?.errno, 19);
    const listed = child({ op: 'addonList', ifindex: 999999 });
    assert.equal(!listed.ok && listed.error.code, 'ENODEV');
    assertAllOk(childValue<RegistrarResult[]>({ op: 'deregister', list: [va('10.213.250.43')] }).value, 1);
  });

  test('1000 addresses are added and removed in batches', (t) => {
    if (!needsRoot(t)) return;
    // 10.213.252.0/22 as /32s: enough room for 1000 and clear of the /24 used above.
    const many = Array.from({ length: 1000 }, (_, i) => va(`10.213.${252 + (i >> 8)}.${i & 255}`, { prefix: 32 }));
    const added = childValue<RegistrarResult[]>({ op: 'register', list: many });
    assertAllOk(added.value, 1000);
    const present = new Set(observedIps());
    assert.equal(many.filter((a) => present.has(a.ip)).length, 1000, 'ip -j addr sees all 1000');
    assert.equal(childValue<InterfaceAddress[]>({ op: 'listOwned', ifname: IF_A }).value.length, 1000);

    const removed = childValue<RegistrarResult[]>({ op: 'deregister', list: many });
    assertAllOk(removed.value, 1000);
    assert.deepEqual(observedIps(), [ADMIN_IP]);
    t.diagnostic(`1000 addresses: register ${added.elapsedMs.toFixed(1)} ms, deregister ${removed.elapsedMs.toFixed(1)} ms (inside the child, netlink dump included)`);
  });
});
