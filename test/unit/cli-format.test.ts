// What the cluster commands print for people (fixed snapshots -> exact lines), what `status --json`
// gives scripts, and the exit code and lines of every kind of failure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditEntry, NodeRecord, ResourceView, Snapshot } from '../../preload/contract/domain';
import type { ActionResult } from '../../preload/contract/protocol';
import { healthKey } from '../../preload/contract/health';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { TokenFileError } from '../../main/api/token';
import '../../main/cli/args'; // loads cluster-args.ts the way bin/ipfo does (see its import note)
import type { AgentAddress, ClusterOperation } from '../../main/cli/cluster-args';
import { actionExitCode, describeFailure } from '../../main/cli/commands/cluster/outcome';
import { EXIT } from '../../main/cli/exit-codes';
import {
  formatAction,
  formatAge,
  formatDuration,
  formatEvent,
  formatFailback,
  formatPeriod,
  formatResourceList,
  formatStatus,
  resourceStateText,
  statusJson,
  table,
  formatBindings,
} from '../../main/cli/format';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

function node(name: string, state: NodeRecord['state'], secondsAgo: number): NodeRecord {
  return { name, state, agentVersion: '0.1.0', lastSeen: NOW - secondsAgo * 1000, macs: { eth0: `02:00:00:00:00:0${name.slice(1)}` } };
}

function view(name: string, ip: string, status: Partial<ResourceView['status']> = {}, spec: Partial<ResourceView> = {}): ResourceView {
  return {
    name, ip, prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {}, enabled: true,
    announceForm: 'request', defendPolicy: 'always',
    ...spec,
    status: { name, state: 'offline', owner: null, ownerMac: null, since: NOW - 60_000, failure: null, lastHandoffMs: null, ...status },
  };
}

const WEB = view('web', '10.213.0.50', { state: 'online', owner: 'n2', ownerMac: '02:00:00:00:00:02', since: NOW - 5 * 60_000, lastHandoffMs: 3.24 }, {
  possibleOwners: ['n1', 'n2', 'n3'], preferredOwners: ['n1', 'n2'], failback: { mode: 'window', startHour: 22, endHour: 6 }, interfaces: { n1: 'eth1', n2: 'eth1' },
});
const DB = view('db', '10.213.0.51', { state: 'failed', since: NOW - 12_000, failure: { kind: 'conflict', mac: '02:00:00:00:00:66' } }, { defendPolicy: 'once' });
const MAIL = view('mail', '10.213.1.9', {}, { enabled: false, failback: { mode: 'immediate' }, announceForm: 'both' });

const SNAPSHOT: Snapshot = {
  nodes: [node('n2', 'up', 1), node('n1', 'paused', 2), node('n3', 'down', 7200)],
  resources: [WEB, DB, MAIL],
  conflicts: [
    { node: 'n1', address: '10.213.0.51', vlan: null, ourMac: null, theirMac: '02:00:00:00:00:66', theirVendor: null, resource: 'web', firstSeen: NOW - 20_000, lastSeen: NOW - 12_000, count: 3, defended: false, muted: false },
  ],
  events: [],
  rejected: [],
};

describe('building blocks', () => {
  test('table pads columns and trims trailing blanks', () => {
    assert.deepEqual(table(['A', 'LONGER'], [['xyz', '1'], ['', '22']]), ['A    LONGER', 'xyz  1', '     22']);
  });

  test('durations', () => {
    assert.equal(formatDuration(0.4), '0.4 ms');
    assert.equal(formatDuration(0.456), '0.46 ms');
    assert.equal(formatDuration(3.24), '3.2 ms');
    assert.equal(formatDuration(3), '3 ms');
    assert.equal(formatDuration(9.96), '10 ms');
    assert.equal(formatDuration(41.5), '42 ms');
    assert.equal(formatDuration(612.4), '612 ms');
    assert.equal(formatDuration(2614), '2.61 s');
    assert.equal(formatDuration(3000), '3 s');
  });

  test('ages', () => {
    assert.equal(formatAge(NOW, NOW), '0s ago');
    assert.equal(formatAge(NOW + 5000, NOW), '0s ago'); // a clock ahead of ours
    assert.equal(formatAge(NOW - 59_999, NOW), '59s ago');
    assert.equal(formatAge(NOW - 60_000, NOW), '1m ago');
    assert.equal(formatAge(NOW - 3 * 3600_000 - 1, NOW), '3h ago');
    assert.equal(formatAge(NOW - 2 * 86_400_000, NOW), '2d ago');
  });

  test('failback as --failback takes it', () => {
    assert.equal(formatFailback({ mode: 'never' }), 'never');
    assert.equal(formatFailback({ mode: 'immediate' }), 'immediate');
    assert.equal(formatFailback({ mode: 'window', startHour: 8, endHour: 17 }), '08-17');
  });

  test('resource states, each failure spelled out', () => {
    assert.equal(resourceStateText(WEB), 'online on n2 (02:00:00:00:00:02)');
    assert.equal(resourceStateText(DB), 'failed: conflict with MAC 02:00:00:00:00:66');
    assert.equal(resourceStateText(MAIL), 'offline');
    assert.equal(resourceStateText(view('x', '10.213.0.9', { state: 'online-pending', owner: 'n1' })), 'online-pending on n1');
    assert.equal(resourceStateText(view('x', '10.213.0.9', { state: 'failed', failure: { kind: 'no-eligible-node' } })), 'failed: no eligible node');
    assert.equal(resourceStateText(view('x', '10.213.0.9', { state: 'failed', failure: { kind: 'interface-missing', node: 'n1', detail: 'no interface in 10.213.0.0/24' } })), 'failed: interface missing on n1: no interface in 10.213.0.0/24');
    assert.equal(resourceStateText(view('x', '10.213.0.9', { state: 'failed', failure: { kind: 'register-failed', node: 'n2', detail: 'EPERM' } })), 'failed: could not register on n2: EPERM');
    assert.equal(resourceStateText(view('x', '10.213.0.9', { state: 'failed' })), 'failed');
  });
});

describe('status', () => {
  test('nodes, resources, failures and conflicts, sorted by name', () => {
    assert.deepEqual(formatStatus(SNAPSHOT, NOW), [
      'NODE  STATE   VERSION  LAST SEEN',
      'n1    paused  0.1.0    2s ago',
      'n2    up      0.1.0    1s ago',
      'n3    down    0.1.0    2h ago',
      '',
      'RESOURCE  ADDRESS         STATE               OWNER  OWNER MAC          SINCE    LAST HANDOFF',
      'db        10.213.0.51/24  failed              -      -                  12s ago  -',
      'mail      10.213.1.9/24   offline (disabled)  -      -                  1m ago   -',
      'web       10.213.0.50/24  online              n2     02:00:00:00:00:02  5m ago   3.2 ms',
      'db failed: conflict with MAC 02:00:00:00:00:66',
      '',
      'CONFLICT     THEIR MAC          OUR MAC  SEEN BY  FRAMES  LAST SEEN  DEFENDED  ALARM',
      '10.213.0.51  02:00:00:00:00:66  -        n1       3       12s ago    no',
    ]);
  });

  test('store records left out are listed with key and reason, control characters never reach the terminal', () => {
    const lines = formatStatus({ ...SNAPSHOT, rejected: [{ collection: 'resources', name: 'evil', key: 'ipfo/default/resources/evil', reason: 'possibleOwners: expected array, received undefined', revision: 4 }] }, NOW);
    const at = lines.indexOf('1 store record is not what it claims to be and left out (fix or delete the key):');
    assert.ok(at > 0, lines.join('\n'));
    assert.deepEqual(lines.slice(at + 1), ['REJECTED  KEY                          REASON', 'evil      ipfo/default/resources/evil  possibleOwners: expected array, received undefined']);
    assert.deepEqual(statusJson({ ...SNAPSHOT, rejected: [] }).rejected, []);
  });

  test('an empty cluster says what to do', () => {
    assert.deepEqual(formatStatus({ nodes: [], resources: [], conflicts: [], events: [], rejected: [] }, NOW), [
      'no nodes have joined (start one: ipfo agent --node <name>)',
      '',
      'no resources (add one: ipfo resource add <name> <ip>/<prefix>)',
    ]);
  });

  test('--json: one object with each resource state and owner', () => {
    const json = JSON.parse(JSON.stringify(statusJson(SNAPSHOT))) as { nodes: unknown[]; resources: Array<Record<string, unknown>>; conflicts: unknown[] };
    assert.deepEqual(json.nodes[0], { name: 'n1', state: 'paused', version: '0.1.0', lastSeen: NOW - 2000, macs: { eth0: '02:00:00:00:00:01' }, maintenanceUntil: null, health: [] });
    assert.deepEqual(json.resources.map((r) => r.name), ['db', 'mail', 'web']);
    assert.deepEqual(json.resources[2], {
      name: 'web', ip: '10.213.0.50', prefix: 24, enabled: true, state: 'online', owner: 'n2', ownerMac: '02:00:00:00:00:02', since: NOW - 300_000, lastHandoffMs: 3.24, failure: null, health: null, group: null, bans: [],
    });
    assert.deepEqual(json.resources[0]?.failure, { kind: 'conflict', mac: '02:00:00:00:00:66' });
    assert.equal(json.conflicts.length, 1);
  });
});

describe('status with health checks', () => {
  const health = { checks: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 8080 }], intervalMs: 500, timeoutMs: 200, fall: 2, rise: 2 };
  const key = healthKey(health);
  const withHealth = (name: string, state: NodeRecord['state'], healthy: boolean | null, reason = ''): NodeRecord => ({
    ...node(name, state, 1),
    ...(healthy === null ? {} : { health: [{ key, healthy, reason, since: NOW - 10_000 }] }),
  });
  const api = view('api', '10.213.0.60', { state: 'online', owner: 'n1', ownerMac: '02:00:00:00:00:01', since: NOW - 60_000 }, { health });

  test('a HEALTH column, and a line for a holder that fails while another node passes', () => {
    const snapshot: Snapshot = { ...SNAPSHOT, nodes: [withHealth('n1', 'up', false, 'tcp 127.0.0.1:8080: connection refused'), withHealth('n2', 'up', true, 'accepted'), withHealth('n3', 'up', null)], resources: [api, WEB], conflicts: [] };
    const lines = formatStatus(snapshot, NOW);
    assert.match(lines.find((line) => line.startsWith('RESOURCE'))!, /LAST HANDOFF {2}HEALTH$/);
    assert.match(lines.find((line) => line.startsWith('api '))!, / FAILING$/);
    assert.match(lines.find((line) => line.startsWith('web '))!, / -$/);
    assert.ok(lines.includes('api health: failing on n1 (tcp 127.0.0.1:8080: connection refused); passes on n2, fails on n1'), lines.join('\n'));
  });

  test('a holder that fails where no other node passes says it stays', () => {
    const snapshot: Snapshot = { ...SNAPSHOT, nodes: [withHealth('n1', 'up', false, 'refused'), withHealth('n2', 'up', false, 'refused'), withHealth('n3', 'down', true, 'old')], resources: [api], conflicts: [] };
    const lines = formatStatus(snapshot, NOW);
    assert.ok(lines.includes('api health: failing on n1 (refused); passes on no node, fails on n1, n2 — fails on n1 and no other node passes: it stays on n1'), lines.join('\n'));
    const json = statusJson(snapshot) as { resources: Array<{ health: { state: string; stuck: string | null } }> };
    assert.equal(json.resources[0]!.health.state, 'failing');
    assert.match(json.resources[0]!.health.stuck ?? '', /stays on n1/);
  });

  test('without checks anywhere the table has no HEALTH column', () => {
    assert.ok(!formatStatus(SNAPSHOT, NOW).some((line) => line.includes('HEALTH')));
  });
});

describe('resource list', () => {
  test('definitions in the syntax of the options', () => {
    assert.deepEqual(formatResourceList(SNAPSHOT.resources), [
      'RESOURCE  ADDRESS         ENABLED  OWNERS    PREFERRED  FAILBACK   INTERFACES       ANNOUNCE  REFRESH  DEFEND  CHECKS',
      'db        10.213.0.51/24  yes      all       -          never      auto             request   off      once    -',
      'mail      10.213.1.9/24   no       all       -          immediate  auto             both      off      always  -',
      'web       10.213.0.50/24  yes      n1,n2,n3  n1,n2      22-06      n1=eth1,n2=eth1  request   off      always  -',
    ]);
    const refreshed = formatResourceList(SNAPSHOT.resources.map((resource) => ({ ...resource, announceRefreshSec: 90 })));
    assert.match(refreshed[1] ?? '', /request {3}90s {6}once {4}-$/);
    const checked = formatResourceList([{ ...WEB, health: { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }, { kind: 'gateway' }], intervalMs: 500, timeoutMs: 200, fall: 2, rise: 3 } }]);
    assert.match(checked[1] ?? '', / tcp:127\.0\.0\.1:80 \| gateway every 500ms \(timeout 200ms, fall 2, rise 3\)$/);
  });

  test('a refresh period in the unit --announce-refresh takes it in', () => {
    assert.deepEqual([1, 59, 60, 90, 300, 3600, 5400, 86_400].map(formatPeriod), ['1s', '59s', '1m', '90s', '5m', '1h', '90m', '1d']);
    assert.deepEqual(formatResourceList([]), ['no resources (add one: ipfo resource add <name> <ip>/<prefix>)']);
  });
});

describe('events', () => {
  const entry = (fields: Partial<AuditEntry>): AuditEntry => ({
    seq: 7, at: NOW + 1, actor: 'cli:alice@127.0.0.1', action: 'resource.move', target: 'web', outcome: 'ok', detail: null, durationMs: null, handoffMs: null, ...fields,
  });

  test('one line per entry: when, who, what, outcome, timings, detail', () => {
    assert.equal(formatEvent(entry({ detail: 'web moved to n2', durationMs: 41.5, handoffMs: 3.1 })), '2024-05-01T12:00:00.001Z #7 cli:alice@127.0.0.1 resource.move web ok (handoff 3.1 ms, took 42 ms) web moved to n2');
    assert.equal(formatEvent(entry({ action: 'node.pause', target: 'n1' })), '2024-05-01T12:00:00.001Z #7 cli:alice@127.0.0.1 node.pause n1 ok');
    assert.equal(formatEvent(entry({ actor: 'agent:n2', action: 'failover', outcome: 'failed', detail: 'no eligible node', target: null, durationMs: 250 })), '2024-05-01T12:00:00.001Z #7 agent:n2 failover failed (took 250 ms) no eligible node');
  });
});

describe('command outcomes', () => {
  const result = (fields: Partial<ActionResult>): ActionResult => ({ outcome: 'done', detail: null, auditSeq: 3, resource: null, node: null, handoffMs: null, durationMs: 12, ...fields });
  const add: ClusterOperation = { kind: 'resource-add', spec: { name: 'web', ip: '10.213.0.50', prefix: 24 } };
  const online: ClusterOperation = { kind: 'online', name: 'db' };
  const move: ClusterOperation = { kind: 'move', name: 'web', target: 'n2' };

  test('resource add: online, failed on a conflict, still pending', () => {
    assert.equal(formatAction(add, result({ resource: WEB })), 'added web 10.213.0.50/24: online on n2 (02:00:00:00:00:02)');
    assert.equal(formatAction(add, result({ resource: { ...DB, name: 'web' } })), 'added web 10.213.0.51/24: failed: conflict with MAC 02:00:00:00:00:66');
    assert.equal(
      formatAction(add, result({ outcome: 'accepted', resource: view('web', '10.213.0.50', { state: 'online-pending', owner: 'n1' }) })),
      'added web 10.213.0.50/24: online-pending on n1 (the agent is still carrying it out; follow with: ipfo events --follow)',
    );
    assert.equal(actionExitCode(add, result({ resource: WEB })), EXIT.ok);
    assert.equal(actionExitCode(add, result({ resource: DB })), EXIT.conflict);
    assert.equal(actionExitCode(add, result({ resource: view('web', '10.213.0.50', { state: 'failed', failure: { kind: 'no-eligible-node' } }) })), EXIT.runtime);
    assert.equal(actionExitCode(add, result({ outcome: 'accepted', resource: view('web', '10.213.0.50', { state: 'online-pending' }) })), EXIT.ok);
  });

  test('move: the handoff time, already there, still running', () => {
    assert.equal(formatAction(move, result({ resource: WEB, handoffMs: 3.2, detail: 'web moved to n2' })), 'web moved to n2 (handoff 3.2 ms)');
    assert.equal(formatAction({ ...move, target: 'best' }, result({ resource: WEB, handoffMs: 0.84 })), 'web moved to n2 (handoff 0.84 ms)');
    assert.equal(formatAction(move, result({ resource: WEB })), 'web moved to n2');
    assert.equal(formatAction(move, result({ resource: WEB, auditSeq: null, detail: 'web is already on n2' })), 'web is already on n2');
    assert.equal(formatAction(move, result({ outcome: 'accepted', detail: 'moving web to n2', resource: WEB })), 'moving web to n2 (the agent is still carrying it out; follow with: ipfo events --follow)');
    assert.equal(actionExitCode(move, result({ resource: DB })), EXIT.ok); // a move's failure comes as an error, not a state
  });

  test('online, offline, edit, rm, node pause and resume', () => {
    assert.equal(formatAction(online, result({ resource: DB })), 'db failed: conflict with MAC 02:00:00:00:00:66');
    assert.equal(actionExitCode(online, result({ resource: DB })), EXIT.conflict);
    assert.equal(formatAction({ kind: 'offline', name: 'mail' }, result({ resource: MAIL })), 'mail offline');
    assert.equal(formatAction({ kind: 'resource-edit', name: 'web', patch: { preferredOwners: ['n2'] } }, result({ outcome: 'accepted', resource: WEB })), 'updated web: online on n2 (02:00:00:00:00:02)');
    assert.equal(formatAction({ kind: 'resource-remove', name: 'web' }, result({})), 'removed web');
    assert.equal(formatAction({ kind: 'node-pause', node: 'n1' }, result({ node: node('n1', 'paused', 0) })), 'paused n1: drained');
    assert.equal(formatAction({ kind: 'node-pause', node: 'n1' }, result({ outcome: 'accepted' })), 'paused n1: still draining (the agent is still carrying it out; follow with: ipfo events --follow)');
    assert.equal(formatAction({ kind: 'node-resume', node: 'n1' }, result({})), 'resumed n1');
  });
});

describe('failures', () => {
  const agent: AgentAddress = { host: '127.0.0.1', port: 7795, tokenFile: '/tmp/token', tls: false, caFile: '/tmp/ca.pem' };
  const add: ClusterOperation = { kind: 'resource-add', spec: { name: 'web', ip: '10.213.0.50', prefix: 24 } };
  const edit: ClusterOperation = { kind: 'resource-edit', name: 'web', patch: { possibleOwners: ['n9'] } };
  const move: ClusterOperation = { kind: 'move', name: 'web', target: 'n2' };

  test('agent unreachable or the token refused: exit 4 with what to check', () => {
    const refused = new ApiRequestError('unavailable', 'cannot reach the agent at ws://127.0.0.1:7795/api: connect ECONNREFUSED 127.0.0.1:7795', { cause: new Error('connect ECONNREFUSED 127.0.0.1:7795') });
    assert.deepEqual(describeFailure(refused, agent, 'connect', add).lines, ['cannot reach the agent at 127.0.0.1:7795 (connect ECONNREFUSED 127.0.0.1:7795): is `ipfo agent` running?']);
    assert.equal(describeFailure(refused, agent, 'connect', add).exitCode, EXIT.environment);
    const tls = new ApiRequestError('unavailable', 'x', { cause: new Error('write EPROTO 80:error:0A00010B:SSL routines:wrong version number:ssl3_record.c:350:\n') });
    assert.deepEqual(describeFailure(tls, { ...agent, host: '::1' }, 'connect', add).lines, ['cannot reach the agent at [::1]:7795 (write EPROTO 80:error:0A00010B:SSL routines:wrong version number:ssl3_record.c:350): is `ipfo agent` running?']);
    const wrongToken = describeFailure(new ApiRequestError('auth-failed', 'wrong token'), agent, 'connect', add);
    assert.equal(wrongToken.exitCode, EXIT.environment);
    assert.deepEqual(wrongToken.lines, ['the agent at 127.0.0.1:7795 refused the token in /tmp/token: wrong token (use the --token-file of that agent)']);
    const unproven = describeFailure(new ApiRequestError('auth-failed', 'the agent at ws://127.0.0.1:7795/api could not prove it holds this token'), agent, 'connect', add);
    assert.equal(unproven.exitCode, EXIT.environment);
    assert.deepEqual(unproven.lines, [
      'the agent at 127.0.0.1:7795 could not prove it holds the token in /tmp/token: wrong token (use the --token-file of that agent), or another program on that address; nothing secret was sent',
    ]);
    assert.equal(describeFailure(new ApiRequestError('timeout', 'auth: no reply'), agent, 'connect', add).exitCode, EXIT.environment);
  });

  test('token and CA files', () => {
    const missing = new TokenFileError('/tmp/token', 'does not exist', { cause: Object.assign(new Error('ENOENT'), { code: 'ENOENT' }) });
    const failure = describeFailure(missing, agent, 'token', add);
    assert.equal(failure.exitCode, EXIT.environment);
    assert.deepEqual(failure.lines, ['token file /tmp/token: does not exist: the agent creates it when it starts; is `ipfo agent` running on this host, or is it another --token-file?']);
    const denied = new TokenFileError('/tmp/token', 'cannot be opened (EACCES)', { cause: Object.assign(new Error('EACCES'), { code: 'EACCES' }) });
    assert.deepEqual(describeFailure(denied, agent, 'token', add).lines, ['token file /tmp/token: cannot be opened (EACCES): run as root, or as the user the agent runs as']);
    const ca = describeFailure(new Error("ENOENT: no such file or directory, open '/tmp/ca.pem'"), agent, 'ca', add);
    assert.equal(ca.exitCode, EXIT.badInput);
    assert.deepEqual(ca.lines, ["--ca /tmp/ca.pem: ENOENT: no such file or directory, open '/tmp/ca.pem'"]);
  });

  test("the agent's 'invalid': every issue on its own line, named by the option typed", () => {
    const invalid = new ApiRequestError('invalid', 'unknown node "n9"', {
      field: 'spec.possibleOwners',
      issues: [
        { field: 'spec.possibleOwners', message: 'unknown node "n9" (known nodes: n1, n2)' },
        { field: 'spec.ip', message: '10.213.0.50 is already the address of resource "db"' },
        { field: 'spec', message: 'a resource definition must be an object' },
      ],
    });
    const failure = describeFailure(invalid, agent, 'command', add);
    assert.equal(failure.exitCode, EXIT.badInput);
    assert.deepEqual(failure.lines, [
      '--owners: unknown node "n9" (known nodes: n1, n2)',
      '<ip>/<prefix>: 10.213.0.50 is already the address of resource "db"',
      'a resource definition must be an object',
    ]);
    assert.deepEqual(failure.json.issues?.[0], { field: 'spec.possibleOwners', option: '--owners', message: 'unknown node "n9" (known nodes: n1, n2)' });
    const onEdit = describeFailure(new ApiRequestError('invalid', 'x', { issues: [{ field: 'patch.prefix', message: 'prefix must be 1..32' }] }), agent, 'command', edit);
    assert.deepEqual(onEdit.lines, ['--ip: prefix must be 1..32']);
  });

  test('each error code of a command maps to its exit code', () => {
    const code = (error: ApiRequestError): number => describeFailure(error, agent, 'command', move).exitCode;
    assert.equal(code(new ApiRequestError('not-found', 'no resource named "web"')), EXIT.badInput);
    assert.equal(code(new ApiRequestError('bad-request', 'spec.name: too long')), EXIT.badInput);
    assert.equal(code(new ApiRequestError('conflict', 'node n2 is paused')), EXIT.conflict);
    assert.equal(code(new ApiRequestError('failed', 'move of web to n2 failed: conflict with MAC 02:00:00:00:00:66')), EXIT.conflict);
    assert.equal(code(new ApiRequestError('failed', 'move of web to n2 failed: n2 did not answer')), EXIT.runtime);
    assert.equal(code(new ApiRequestError('unavailable', 'the cluster store cannot be reached')), EXIT.environment);
    assert.equal(code(new ApiRequestError('timeout', 'resource.move: no reply within 60000 ms')), EXIT.runtime);
    assert.equal(code(new ApiRequestError('internal', 'a bug')), EXIT.runtime);
    assert.deepEqual(describeFailure(new ApiRequestError('failed', 'move of web to n2 failed: n2 did not answer'), agent, 'command', move).lines, ['move of web to n2 failed: n2 did not answer']);
    assert.deepEqual(describeFailure(new Error('boom'), agent, 'command', move), { exitCode: EXIT.runtime, lines: ['boom'], json: { code: 'internal', message: 'boom' } });
  });
});

describe('bindings', () => {
  test('every node\'s stations, by node then address in numeric order', () => {
    const station = (ip: string, mac: string, vendor: string | null, secondsAgo: number) => ({ ip, vlan: null, mac, vendor, firstSeen: NOW - 600_000, lastSeen: NOW - secondsAgo * 1000, count: 12, changes: 1 });
    assert.deepEqual(
      formatBindings([
        { node: 'n2', at: NOW, bindings: [station('10.0.0.9', '00:1b:21:00:00:09', 'Intel Corporate', 2)] },
        { node: 'n1', at: NOW, bindings: [station('10.0.0.10', '02:00:00:00:00:0a', null, 3), station('10.0.0.9', '00:1b:21:00:00:09', 'Intel Corporate', 1)] },
      ], NOW),
      [
        'SEEN BY  ADDRESS    MAC                VENDOR           FIRST SEEN  LAST SEEN  FRAMES  CHANGES',
        'n1       10.0.0.9   00:1b:21:00:00:09  Intel Corporate  10m ago     1s ago     12      1',
        'n1       10.0.0.10  02:00:00:00:00:0a  -                10m ago     3s ago     12      1',
        'n2       10.0.0.9   00:1b:21:00:00:09  Intel Corporate  10m ago     2s ago     12      1',
      ],
    );
    assert.deepEqual(formatBindings([], NOW), ['no bindings saved yet (agents save their ARP tables every 10 s while frames arrive)']);
  });

  test('IPv6 stations (the ND watch\'s) after the IPv4 ones, in numeric order', () => {
    const station = (ip: string) => ({ ip, vlan: null, mac: '02:00:00:00:00:0a', vendor: null, firstSeen: NOW - 600_000, lastSeen: NOW - 1000, count: 1, changes: 0 });
    const rows = formatBindings([{ node: 'n1', at: NOW, bindings: ['2001:db8::a', 'fe80::a', '10.0.0.10', '2001:db8::9', '10.0.0.9'].map(station) }], NOW);
    assert.deepEqual(rows.slice(1).map((row) => row.split(/\s+/)[1]), ['10.0.0.9', '10.0.0.10', '2001:db8::9', '2001:db8::a', 'fe80::a']);
  });
});
