// The cluster commands' parser: every command, its defaults, and every bad input as a UsageError
// with a message that names the problem (nothing is sent for those: parsing never connects).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
// args.ts first: it loads cluster-args.ts for its dispatch (see the import note in cluster-args.ts).
import { DEFAULT_API, DEFAULT_TOKEN_FILE, parseCommand, UsageError, USAGE } from '../../main/cli/args';
import { actionRequest, CLUSTER_COMMAND_NAMES, CLUSTER_USAGE, optionForField, parseClusterCommand, type ActionOperation, type ClusterCommand } from '../../main/cli/cluster-args';
import { auditEntryMatches } from '../../preload/contract/protocol';

function parse(...argv: string[]): ClusterCommand {
  const command = parseCommand(argv);
  assert.equal(command.kind, 'cluster');
  return command;
}

function rejects(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseCommand(argv),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
      assert.match(error.message, message);
      assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
      return true;
    },
  );
}

const LOCAL = { host: '127.0.0.1', port: 7790, tokenFile: '/var/lib/ipfo/token', tls: false, caFile: null };

describe('connection options', () => {
  test('default to the local agent and its token file', () => {
    const command = parse('status');
    // Without --agent, the CLI tries the local agent's socket first (when this user may use it), then host:port.
    assert.deepEqual(command.agent, { ...LOCAL, preferSocket: true });
    assert.equal(command.json, false);
    assert.equal(`${command.agent.host}:${command.agent.port}`, DEFAULT_API);
    assert.equal(command.agent.tokenFile, DEFAULT_TOKEN_FILE);
  });

  test('--agent, --token-file, --json on every command', () => {
    const common = ['--agent', '127.0.0.2:7795', '--token-file', '/tmp/t', '--json'];
    const commands = [
      ['resource', 'add', 'web', '10.0.0.50/24'], ['resource', 'edit', 'web', '--offline'], ['resource', 'rm', 'web'], ['resource', 'list'],
      ['move', 'web', 'n2'], ['online', 'web'], ['offline', 'web'], ['announce', 'web'], ['node', 'pause', 'n1'], ['node', 'resume', 'n1'], ['status'], ['events'], ['bindings'], ['plan', '--pause', 'n1'],
      ['user', 'add', 'alice', '--role', 'viewer'], ['user', 'list'], ['user', 'rm', 'alice'], ['user', 'rotate', 'alice'],
      ['group', 'add', 'gw', 'inside', 'outside'], ['group', 'rm', 'gw'], ['group', 'move', 'gw', 'n2'], ['group', 'list'],
      ['hook', 'add', 'h', '--on', 'move', '--syslog'], ['hook', 'list'], ['hook', 'rm', 'h'], ['hook', 'test', 'h'],
    ];
    for (const argv of commands) {
      const command = parse(...argv, ...common);
      assert.deepEqual(command.agent, { host: '127.0.0.2', port: 7795, tokenFile: '/tmp/t', tls: false, caFile: null }, argv.join(' '));
      assert.equal(command.json, true, argv.join(' '));
    }
    // Every name the dispatch knows is covered above.
    assert.deepEqual([...new Set(commands.map((argv) => argv[0]))].sort(), [...CLUSTER_COMMAND_NAMES].sort());
  });

  test('--agent /path names the agent socket (no TLS there); an explicit host:port never prefers the socket', () => {
    assert.deepEqual(parse('status', '--agent', '/run/ipfo/api/n1.sock').agent, { ...LOCAL, socketPath: '/run/ipfo/api/n1.sock' });
    assert.throws(() => parse('status', '--agent', '/run/ipfo/api/n1.sock', '--tls'), /takes no --tls/);
    assert.equal(parse('status', '--agent', '127.0.0.1:7790').agent.preferSocket, undefined);
  });

  test('--tls and --ca (which implies --tls) allow a remote agent', () => {
    assert.deepEqual(parse('status', '--agent', '10.213.0.1:7790', '--tls').agent, { host: '10.213.0.1', port: 7790, tokenFile: DEFAULT_TOKEN_FILE, tls: true, caFile: null });
    assert.deepEqual(parse('status', '--agent', 'n1.lab:7790', '--ca', '/etc/ipfo/ca.pem').agent, { host: 'n1.lab', port: 7790, tokenFile: DEFAULT_TOKEN_FILE, tls: true, caFile: '/etc/ipfo/ca.pem' });
    assert.deepEqual(parse('status', '--agent', '[::1]:7790').agent, { ...LOCAL, host: '::1' });
    assert.equal(parse('status', '--agent', 'localhost:7790').agent.host, 'localhost');
  });

  test('bad connection options', () => {
    rejects(['status', '--agent', '10.213.0.1:7790'], /--agent 10\.213\.0\.1:7790 is not on this host: add --tls/);
    rejects(['status', '--agent', '127.0.0.1'], /--agent wants host:port, got "127\.0\.0\.1"/);
    rejects(['status', '--agent', '127.0.0.1:99999'], /--agent wants host:port/);
    rejects(['status', '--token-file', ''], /--token-file wants a file name/);
    rejects(['status', '--ca', ''], /--ca wants a file name/);
    rejects(['status', '--agent'], /status: Option '--agent <value>' argument missing/);
    rejects(['status', '--bogus'], /^status: Unknown option '--bogus'$/);
  });
});

describe('resource add', () => {
  test('a minimal definition sends only what was typed (the agent fills the defaults)', () => {
    assert.deepEqual(parse('resource', 'add', 'web', '10.0.0.50/24').op, { kind: 'resource-add', spec: { name: 'web', ip: '10.0.0.50', prefix: 24 } });
  });

  test('every option', () => {
    const op = parse(
      'resource', 'add', 'web', '10.0.0.50/24', '--owners', 'n1,n2,n3', '--preferred', 'n2,n1', '--failback', '22-6',
      '--if', 'n1=eth1,n2=ens3', '--offline', '--announce-form', 'both', '--defend', 'once',
    ).op;
    assert.deepEqual(op, {
      kind: 'resource-add',
      spec: {
        name: 'web', ip: '10.0.0.50', prefix: 24, possibleOwners: ['n1', 'n2', 'n3'], preferredOwners: ['n2', 'n1'],
        failback: { mode: 'window', startHour: 22, endHour: 6 }, interfaces: { n1: 'eth1', n2: 'ens3' }, enabled: false,
        announceForm: 'both', defendPolicy: 'once',
      },
    });
  });

  test('failback modes and empty lists', () => {
    const spec = (...extra: string[]): unknown => (parse('resource', 'add', 'web', '10.0.0.50/24', ...extra).op as { spec: unknown }).spec;
    assert.deepEqual(spec('--failback', 'never'), { name: 'web', ip: '10.0.0.50', prefix: 24, failback: { mode: 'never' } });
    assert.deepEqual(spec('--failback', 'immediate'), { name: 'web', ip: '10.0.0.50', prefix: 24, failback: { mode: 'immediate' } });
    assert.deepEqual(spec('--failback', '08-17'), { name: 'web', ip: '10.0.0.50', prefix: 24, failback: { mode: 'window', startHour: 8, endHour: 17 } });
    assert.deepEqual(spec('--owners', ''), { name: 'web', ip: '10.0.0.50', prefix: 24, possibleOwners: [] });
    assert.deepEqual(spec('--owners=', '--if='), { name: 'web', ip: '10.0.0.50', prefix: 24, possibleOwners: [], interfaces: {} });
  });

  test('bad input', () => {
    const add = (...rest: string[]): string[] => ['resource', 'add', ...rest];
    rejects(add(), /^resource add: missing <name>$/);
    rejects(add('web'), /^resource add: missing <ip>\/<prefix>$/);
    rejects(add('web', '10.0.0.50/24', 'extra'), /^resource add: unexpected argument "extra"$/);
    rejects(add('-web', '10.0.0.50/24'), /Unknown option '-w'/);
    rejects(add('w eb', '10.0.0.50/24'), /^resource add: resource name "w eb" may contain only letters/);
    rejects(add('web', '10.0.0.50'), /^<ip>\/<prefix>: expected an address with its prefix such as 10\.0\.0\.50\/24 or 2001:db8::50\/64, got "10\.0\.0\.50"$/);
    rejects(add('web', '10.0.0.256/24'), /^<ip>\/<prefix>: .*10\.0\.0\.256/);
    rejects(add('web', '10.0.0.50/33'), /^<ip>\/<prefix>: .*at most 32/);
    rejects(add('web', '10.0.0.50/0'), /^<ip>\/<prefix>: .*prefix/);
    rejects(add('web', '10.0.0.0/24'), /^<ip>\/<prefix>: 10\.0\.0\.0 is the network address of 10\.0\.0\.0\/24/);
    rejects(add('web', '10.0.0.255/24'), /^<ip>\/<prefix>: 10\.0\.0\.255 is the broadcast address/);
    rejects(add('web', '127.0.0.5/8'), /^<ip>\/<prefix>: 127\.0\.0\.5 is a loopback address/);
    rejects(add('web', '224.0.0.5/24'), /^<ip>\/<prefix>: 224\.0\.0\.5 is a multicast address/);
    rejects(add('web', '10.0.0.50/24', '--owners', 'n1,,n2'), /^--owners: node name is required$/);
    rejects(add('web', '10.0.0.50/24', '--owners', 'n1,n$'), /^--owners: node name "n\$" may contain only/);
    rejects(add('web', '10.0.0.50/24', '--owners', 'n1,n1'), /^--owners: node "n1" is listed twice$/);
    rejects(add('web', '10.0.0.50/24', '--preferred', 'n2,n2'), /^--preferred: node "n2" is listed twice$/);
    rejects(add('web', '10.0.0.50/24', '--owners', 'n1', '--preferred', 'n2'), /^--preferred: preferred owner "n2" is not one of the possible owners$/);
    rejects(add('web', '10.0.0.50/24', '--failback', 'sometimes'), /^--failback must be never, immediate or a window of hours such as 22-06, got "sometimes"$/);
    rejects(add('web', '10.0.0.50/24', '--failback', '22-24'), /^--failback hours must be 0\.\.23, got "22-24"$/);
    rejects(add('web', '10.0.0.50/24', '--failback', '7-7'), /^--failback window "7-7" is empty/);
    rejects(add('web', '10.0.0.50/24', '--if', 'eth1'), /^--if wants node=interface pairs such as n1=eth1, got "eth1"$/);
    rejects(add('web', '10.0.0.50/24', '--if', '=eth1'), /^--if wants node=interface pairs/);
    rejects(add('web', '10.0.0.50/24', '--if', 'n1=eth 1'), /^--if n1: invalid interface name "eth 1"/);
    rejects(add('web', '10.0.0.50/24', '--if', 'n1='), /^--if n1: invalid interface name ""/);
    rejects(add('web', '10.0.0.50/24', '--if', 'n1=a-very-long-interface-name'), /^--if n1: invalid interface name .*1 to 15 bytes/);
    rejects(add('web', '10.0.0.50/24', '--if', 'n1=eth1,n1=eth2'), /^--if: node "n1" is given twice$/);
    rejects(add('web', '10.0.0.50/24', '--if', 'n/1=eth1'), /^--if: node name "n\/1" may contain only/);
    rejects(add('web', '10.0.0.50/24', '--online', '--offline'), /^--online and --offline exclude each other$/);
    rejects(add('web', '10.0.0.50/24', '--announce-form', 'gratuitous'), /^--announce-form must be one of request, reply, both, got "gratuitous"$/);
    rejects(add('web', '10.0.0.50/24', '--defend', 'sometimes'), /^--defend must be one of never, once, always, got "sometimes"$/);
  });
});

describe('resource edit, rm, list', () => {
  test('edit sends only the changed settings', () => {
    assert.deepEqual(parse('resource', 'edit', 'web', '--preferred', 'n3').op, { kind: 'resource-edit', name: 'web', patch: { preferredOwners: ['n3'] } });
    assert.deepEqual(parse('resource', 'edit', 'web', '--ip', '10.0.1.7/23', '--online', '--failback', 'immediate', '--if', '').op, {
      kind: 'resource-edit', name: 'web', patch: { ip: '10.0.1.7', prefix: 23, enabled: true, failback: { mode: 'immediate' }, interfaces: {} },
    });
    assert.deepEqual(parse('resource', 'edit', 'web', '--offline', '--defend', 'never', '--announce-form', 'reply').op, {
      kind: 'resource-edit', name: 'web', patch: { enabled: false, defendPolicy: 'never', announceForm: 'reply' },
    });
  });

  test('edit checks only what it changes (the other settings stay as the agent has them)', () => {
    // --preferred alone cannot be checked against owners the agent holds: that is the agent's to say.
    assert.deepEqual(parse('resource', 'edit', 'web', '--preferred', 'n9').op, { kind: 'resource-edit', name: 'web', patch: { preferredOwners: ['n9'] } });
  });

  test('edit: bad input', () => {
    rejects(['resource', 'edit'], /^resource edit: missing <name>$/);
    rejects(['resource', 'edit', 'web'], /^resource edit: nothing to change/);
    rejects(['resource', 'edit', 'web', '--ip', '10.0.1.7'], /^--ip: expected an address with its prefix/);
    rejects(['resource', 'edit', 'web', '--ip', '10.0.1.0/24'], /^--ip: 10\.0\.1\.0 is the network address/);
    rejects(['resource', 'edit', 'web', '--owners', 'n1', '--preferred', 'n2'], /^--preferred: preferred owner "n2" is not one of the possible owners$/);
    rejects(['resource', 'edit', 'web', '--failback', '1-1'], /^--failback window "1-1" is empty/);
    rejects(['resource', 'edit', 'web', 'web2', '--offline'], /^resource edit: unexpected argument "web2"$/);
  });

  test('rm (or remove), list (or ls) and cleanup', () => {
    assert.deepEqual(parse('resource', 'rm', 'web').op, { kind: 'resource-remove', name: 'web' });
    assert.deepEqual(parse('resource', 'remove', 'web').op, { kind: 'resource-remove', name: 'web' });
    assert.deepEqual(parse('resource', 'cleanup', 'web').op, { kind: 'resource-cleanup', name: 'web' });
    assert.deepEqual(parse('resource', 'cleanup', 'web', '--node', 'n1').op, { kind: 'resource-cleanup', name: 'web', node: 'n1' });
    assert.deepEqual(actionRequest(parse('resource', 'cleanup', 'web', '--node', 'n1').op as ActionOperation), { type: 'resource.cleanup', args: { name: 'web', node: 'n1' } });
    assert.deepEqual(parse('resource', 'list').op, { kind: 'resource-list' });
    assert.deepEqual(parse('resource', 'ls', '--json').op, { kind: 'resource-list' });
  });

  test('the failure policy: --retry, --ban-for, --failover-threshold (off in an edit)', () => {
    assert.deepEqual(parse('resource', 'add', 'web', '10.213.0.50/24', '--retry', '0', '--ban-for', '90s', '--failover-threshold', '5/1h').op, {
      kind: 'resource-add',
      spec: { name: 'web', ip: '10.213.0.50', prefix: 24, retries: 0, banForSec: 90, failoverThreshold: { count: 5, windowSec: 3600 } },
    });
    assert.deepEqual(parse('resource', 'edit', 'web', '--failover-threshold', 'off', '--ban-for', '7d').op, { kind: 'resource-edit', name: 'web', patch: { banForSec: 604_800, failoverThreshold: null } });
    rejects(['resource', 'add', 'web', '10.213.0.50/24', '--retry', '11'], /^--retry/);
    rejects(['resource', 'add', 'web', '10.213.0.50/24', '--ban-for', '8d'], /^--ban-for: at most 7d, got "8d"$/);
    rejects(['resource', 'add', 'web', '10.213.0.50/24', '--ban-for', '10'], /^--ban-for wants a duration/);
    rejects(['resource', 'add', 'web', '10.213.0.50/24', '--failover-threshold', '5'], /^--failover-threshold: expected COUNT\/WINDOW, e\.g\. 5\/1h \(window in s, m, h or d\), got "5"$/);
    rejects(['resource', 'cleanup', 'web', '--node', 'n1,n2'], /^resource cleanup: --node wants one node name$/);
    rejects(['resource', 'cleanup', 'web', '--node', 'bad name'], /^--node: /);
  });

  test('rm, list, cleanup and the subcommand: bad input', () => {
    rejects(['resource'], /^resource: missing subcommand \(add, edit, rm, list, cleanup, import or export\)$/);
    rejects(['resource', 'delete', 'web'], /^resource: unknown subcommand "delete" \(add, edit, rm, list, cleanup, import or export\)$/);
    rejects(['resource', 'rm'], /^resource rm: missing <name>$/);
    rejects(['resource', 'rm', 'web', 'db'], /^resource rm: unexpected argument "db"$/);
    rejects(['resource', 'rm', '.web'], /^resource rm: resource name "\.web"/);
    rejects(['resource', 'cleanup'], /^resource cleanup: missing <name>$/);
    rejects(['resource', 'cleanup', 'web', 'db'], /^resource cleanup: unexpected argument "db"$/);
    rejects(['resource', 'list', 'web'], /^resource list: unexpected argument "web"$/);
    rejects(['resource', 'list', '--owners', 'n1'], /^resource list: Unknown option '--owners'$/);
  });
});

describe('resource import and export', () => {
  test('import: the format from the extension or --format; --skip-invalid, --no-wait', () => {
    assert.deepEqual(parse('resource', 'import', 'a.csv').op, { kind: 'resource-import', file: 'a.csv', format: 'csv', skipInvalid: false, wait: true });
    assert.deepEqual(parse('resource', 'import', '/tmp/x.JSON', '--skip-invalid', '--no-wait').op, { kind: 'resource-import', file: '/tmp/x.JSON', format: 'json', skipInvalid: true, wait: false });
    assert.deepEqual(parse('resource', 'import', 'list.txt', '--format', 'csv', '--json').op, { kind: 'resource-import', file: 'list.txt', format: 'csv', skipInvalid: false, wait: true });
  });

  test('export: json to stdout by default; the format of --output; --format', () => {
    assert.deepEqual(parse('resource', 'export').op, { kind: 'resource-export', format: 'json', output: null });
    assert.deepEqual(parse('resource', 'export', '--output', 'all.csv').op, { kind: 'resource-export', format: 'csv', output: 'all.csv' });
    assert.deepEqual(parse('resource', 'export', '-o', 'all.txt', '--format', 'csv').op, { kind: 'resource-export', format: 'csv', output: 'all.txt' });
  });

  test('bad input', () => {
    rejects(['resource', 'import'], /^resource import: missing <file>$/);
    rejects(['resource', 'import', 'a.txt'], /^resource import: cannot tell the format of "a\.txt" from its name: give --format json or --format csv$/);
    rejects(['resource', 'import', 'a.csv', '--format', 'xml'], /^--format must be one of json, csv, got "xml"$/);
    rejects(['resource', 'import', 'a.csv', 'b.csv'], /^resource import: unexpected argument "b\.csv"$/);
    rejects(['resource', 'export', 'x'], /^resource export: unexpected argument "x"$/);
    rejects(['resource', 'export', '--output', ''], /^--output wants a file name$/);
  });
});

describe('group', () => {
  test('add, rm, move and list, each sent as its group command', () => {
    const add = parse('group', 'add', 'gw', 'inside', 'outside', '--apart-from', 'db,cache').op;
    assert.deepEqual(add, { kind: 'group-add', name: 'gw', resources: ['inside', 'outside'], apartFrom: ['db', 'cache'] });
    assert.deepEqual(actionRequest(add as ActionOperation), { type: 'group.add', args: { name: 'gw', resources: ['inside', 'outside'], apartFrom: ['db', 'cache'] } });
    assert.deepEqual(parse('group', 'add', 'gw', 'extra').op, { kind: 'group-add', name: 'gw', resources: ['extra'] });
    assert.deepEqual(parse('group', 'add', 'gw', '--apart-from', 'off').op, { kind: 'group-add', name: 'gw', resources: [], apartFrom: [] });
    const remove = parse('group', 'rm', 'gw', 'inside').op;
    assert.deepEqual(actionRequest(remove as ActionOperation), { type: 'group.remove', args: { name: 'gw', resources: ['inside'] } });
    assert.deepEqual(actionRequest(parse('group', 'rm', 'gw').op as ActionOperation), { type: 'group.remove', args: { name: 'gw' } });
    assert.deepEqual(actionRequest(parse('group', 'move', 'gw', '--best').op as ActionOperation), { type: 'group.move', args: { name: 'gw', target: 'best' } });
    assert.deepEqual(parse('group', 'move', 'gw', 'n2').op, { kind: 'group-move', name: 'gw', target: 'n2' });
    assert.deepEqual(parse('group', 'list').op, { kind: 'group-list' });
  });

  test('bad input is refused before any connection', () => {
    rejects(['group'], /^group: missing subcommand \(add, rm, move or list\)$/);
    rejects(['group', 'split'], /^group: unknown subcommand "split"/);
    rejects(['group', 'add'], /^group add: missing <group>$/);
    rejects(['group', 'add', 'gw'], /^group add: name at least one <resource>/);
    rejects(['group', 'add', 'g/w', 'a'], /^group add: resource name "g\/w"/);
    rejects(['group', 'add', 'gw', 'a', '--apart-from', 'd b'], /^group add --apart-from: /);
    rejects(['group', 'add', 'gw', ...Array.from({ length: 33 }, (_, i) => `r${i}`)], /at most 32 members, got 33/);
    rejects(['group', 'move', 'gw'], /^group move: missing <node> \(or --best\)$/);
    rejects(['group', 'move', 'gw', 'n2', '--best'], /^group move: give a node or --best, not both/);
    rejects(['group', 'list', 'x'], /^group list: unexpected argument "x"$/);
  });
});

describe('move, online, offline, node', () => {
  test('move to a node or to the best one', () => {
    assert.deepEqual(parse('move', 'web', 'n2').op, { kind: 'move', name: 'web', target: 'n2' });
    assert.deepEqual(parse('move', 'web', '--best').op, { kind: 'move', name: 'web', target: 'best' });
    assert.deepEqual(parse('move', '--best', 'web').op, { kind: 'move', name: 'web', target: 'best' });
    assert.deepEqual(parse('move', 'web', 'best').op, { kind: 'move', name: 'web', target: 'best' });
  });

  test('move: bad input', () => {
    rejects(['move'], /^move: missing <resource>$/);
    rejects(['move', 'web'], /^move: missing <node> \(or --best\)$/);
    rejects(['move', 'web', 'n2', '--best'], /^move: give a node or --best, not both/);
    rejects(['move', 'web', 'n2', 'n3'], /^move: unexpected argument "n3"$/);
    rejects(['move', 'web', 'n 2'], /^move: node name "n 2" may contain only/);
    rejects(['move', 'w/eb', 'n2'], /^move: resource name "w\/eb"/);
  });

  test('online and offline', () => {
    assert.deepEqual(parse('online', 'web').op, { kind: 'online', name: 'web' });
    assert.deepEqual(parse('offline', 'web').op, { kind: 'offline', name: 'web' });
    rejects(['online'], /^online: missing <resource>$/);
    rejects(['offline', 'web', 'db'], /^offline: unexpected argument "db"$/);
    rejects(['online', '--best', 'web'], /^online: Unknown option '--best'$/);
  });

  test('announce: one resource, sent as resource.announce', () => {
    const op = parse('announce', 'web').op;
    assert.deepEqual(op, { kind: 'announce', name: 'web' });
    assert.deepEqual(actionRequest(op as ActionOperation), { type: 'resource.announce', args: { name: 'web' } });
    rejects(['announce'], /^announce: missing <resource>$/);
    rejects(['announce', 'web', 'db'], /^announce: unexpected argument "db"$/);
  });

  test('node pause and resume', () => {
    assert.deepEqual(parse('node', 'pause', 'n1').op, { kind: 'node-pause', node: 'n1' });
    assert.deepEqual(parse('node', 'resume', 'n1').op, { kind: 'node-resume', node: 'n1' });
    rejects(['node'], /^node: missing subcommand \(pause, resume or maintenance\)$/);
    rejects(['node', 'drain', 'n1'], /^node: unknown subcommand "drain" \(pause, resume or maintenance\)$/);
    rejects(['node', 'pause'], /^node pause: missing <node>$/);
    rejects(['node', 'resume', 'n1', 'n2'], /^node resume: unexpected argument "n2"$/);
    rejects(['node', 'pause', 'n:1'], /^node pause: node name "n:1" may contain only/);
  });

  test('node maintenance: a window from now, or its end', () => {
    const before = Date.now();
    const op = parse('node', 'maintenance', 'n1', '--for', '30m').op;
    assert.equal(op.kind, 'node-maintenance');
    const until = op.kind === 'node-maintenance' ? op.until : null;
    assert.ok(until !== null && until >= before + 1_800_000 && until <= Date.now() + 1_800_000, String(until));
    assert.deepEqual(parse('node', 'maintenance', 'n1', '--end').op, { kind: 'node-maintenance', node: 'n1', until: null });
    rejects(['node', 'maintenance', 'n1'], /^node maintenance: give either --for DURATION or --end$/);
    rejects(['node', 'maintenance', 'n1', '--for', '1h', '--end'], /^node maintenance: give either --for DURATION or --end$/);
    rejects(['node', 'maintenance', 'n1', '--for', '30'], /^--for wants a duration such as 30m, 2h or 90s, got "30"$/);
    rejects(['node', 'maintenance', 'n1', '--for', '0m'], /^--for wants a duration/);
    rejects(['node', 'maintenance', 'n1', '--for', '31d'], /^--for: at most 30d, got "31d"$/);
  });

  test('GARP count and spacing, and a resource\'s maintenance window', () => {
    const added = parse('resource', 'add', 'web', '10.0.0.50/24', '--announce-count', '5', '--announce-interval-ms', '100').op;
    assert.deepEqual(added, { kind: 'resource-add', spec: { name: 'web', ip: '10.0.0.50', prefix: 24, announceCount: 5, announceIntervalMs: 100 } });
    assert.deepEqual(parse('resource', 'edit', 'web', '--maintenance', 'off').op, { kind: 'resource-edit', name: 'web', patch: { maintenanceUntil: null } });
    const edit = parse('resource', 'edit', 'web', '--maintenance', '2h').op;
    const until = edit.kind === 'resource-edit' ? edit.patch.maintenanceUntil : null;
    assert.ok(typeof until === 'number' && until > Date.now() + 7_000_000);
    rejects(['resource', 'add', 'web', '10.0.0.50/24', '--announce-count', '11'], /^--announce-count must be a whole number from 1 to 10, got "11"$/);
    rejects(['resource', 'add', 'web', '10.0.0.50/24', '--announce-count', '2.5'], /^--announce-count must be a whole number/);
    rejects(['resource', 'edit', 'web', '--announce-interval-ms', '5'], /^--announce-interval-ms must be a whole number from 10 to 60000, got "5"$/);
  });

  test('--announce-refresh: a duration in whole seconds, off in an edit', () => {
    const added = parse('resource', 'add', 'web', '10.0.0.50/24', '--announce-refresh', '5m').op;
    assert.deepEqual(added, { kind: 'resource-add', spec: { name: 'web', ip: '10.0.0.50', prefix: 24, announceRefreshSec: 300 } });
    assert.deepEqual(parse('resource', 'edit', 'web', '--announce-refresh', '60s').op, { kind: 'resource-edit', name: 'web', patch: { announceRefreshSec: 60 } });
    assert.deepEqual(parse('resource', 'edit', 'web', '--announce-refresh', 'off').op, { kind: 'resource-edit', name: 'web', patch: { announceRefreshSec: null } });
    assert.deepEqual(parse('resource', 'edit', 'web', '--announce-refresh', '1d').op, { kind: 'resource-edit', name: 'web', patch: { announceRefreshSec: 86_400 } });
    rejects(['resource', 'edit', 'web', '--announce-refresh', '60'], /^--announce-refresh wants a duration such as 30m, 2h or 90s, got "60"$/);
    rejects(['resource', 'edit', 'web', '--announce-refresh', '0s'], /^--announce-refresh wants a duration/);
    rejects(['resource', 'edit', 'web', '--announce-refresh', '25h'], /^--announce-refresh: at most 1d, got "25h"$/);
    rejects(['resource', 'add', 'web', '10.0.0.50/24', '--announce-refresh', '-5s'], /announce-refresh/);
  });

  test('--check (repeatable), its timing, and off in an edit', () => {
    const added = parse('resource', 'add', 'web', '10.0.0.50/24', '--check', 'tcp:127.0.0.1:80', '--check', 'exec:/usr/bin/pgrep -x haproxy', '--check-interval', '500ms', '--check-timeout', '200ms', '--fall', '2', '--rise', '4').op;
    assert.deepEqual(added, {
      kind: 'resource-add',
      spec: { name: 'web', ip: '10.0.0.50', prefix: 24, health: { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }, { kind: 'exec', argv: ['/usr/bin/pgrep', '-x', 'haproxy'] }], intervalMs: 500, timeoutMs: 200, fall: 2, rise: 4 } },
    });
    assert.deepEqual(parse('resource', 'edit', 'web', '--check', 'off').op, { kind: 'resource-edit', name: 'web', patch: { health: null } });
    // Timing alone keeps the checks (the agent merges it into the current ones).
    assert.deepEqual(parse('resource', 'edit', 'web', '--fall', '5', '--check-interval', '1m').op, { kind: 'resource-edit', name: 'web', patch: { health: { intervalMs: 60_000, fall: 5 } } });
    rejects(['resource', 'add', 'web', '10.0.0.50/24', '--check', 'tcp:127.0.0.1'], /^--check "tcp:127.0.0.1": a TCP check is tcp:HOST:PORT$/);
    rejects(['resource', 'add', 'web', '10.0.0.50/24', '--check', 'exec:sh -c reboot'], /absolute path/);
    rejects(['resource', 'add', 'web', '10.0.0.50/24', '--fall', '2'], /^--check: health.checks must list at least one check$/);
    rejects(['resource', 'add', 'web', '10.0.0.50/24', '--check', 'gateway', '--check-interval', '500ms', '--check-timeout', '1s'], /^--check-timeout: the check timeout \(1000 ms\) must not exceed the interval \(500 ms\)$/);
    rejects(['resource', 'edit', 'web', '--check-interval', '50ms'], /^--check-interval wants a duration from 100 ms to 3600 s/);
    rejects(['resource', 'edit', 'web', '--check', 'off', '--fall', '2'], /--check off removes the checks/);
    rejects(['resource', 'edit', 'web', '--check', 'off', '--check', 'gateway'], /--check off cannot be given with other checks/);
    rejects(['resource', 'edit', 'web', '--rise', '0'], /^--rise must be a whole number from 1 to 100, got "0"$/);
  });
});

describe('status and events', () => {
  test('status takes no arguments', () => {
    assert.deepEqual(parse('status', '--json').op, { kind: 'status' });
    rejects(['status', 'web'], /^status: unexpected argument "web"$/);
  });

  test('events: defaults, filters, follow', () => {
    assert.deepEqual(parse('events').op, { kind: 'events', follow: false, limit: 50, filter: {} });
    assert.deepEqual(parse('events', '--follow').op, { kind: 'events', follow: true, limit: 10, filter: {} });
    assert.deepEqual(parse('events', '-f', '--limit', '0').op, { kind: 'events', follow: true, limit: 0, filter: {} });
    assert.deepEqual(parse('events', '--limit', '1000', '--target', 'web', '--action', 'resource.move', '--outcome', 'failed').op, {
      kind: 'events', follow: false, limit: 1000, filter: { target: 'web', action: 'resource.move', outcome: 'failed' },
    });
  });

  test('events: bad input', () => {
    rejects(['events', '--limit', '0'], /^--limit must be between 1 and 1000 \(0 only with --follow\), got 0$/);
    rejects(['events', '--limit', '1001'], /^--limit must be between 1 and 1000/);
    rejects(['events', '--follow', '--limit', '-1'], /--limit/);
    rejects(['events', '--limit', 'ten'], /^--limit must be a whole number, got "ten"$/);
    rejects(['events', '--outcome', 'good'], /^--outcome must be one of ok, failed, rejected, started, got "good"$/);
    rejects(['events', '--target', ''], /^--target wants a resource or node name$/);
    rejects(['events', '--action', ''], /^--action wants an action/);
    rejects(['events', 'web'], /^events: unexpected argument "web"$/);
  });
});

describe('help and usage', () => {
  test('--help on any cluster command asks for the usage and needs no agent', () => {
    for (const argv of [['resource', '--help'], ['resource', 'add', '-h'], ['move', '--help'], ['node', '--help'], ['node', 'pause', '--help'], ['events', '-h'], ['status', '--help']]) {
      assert.equal(parse(...argv).op.kind, 'help', argv.join(' '));
    }
  });

  test('the usage documents every command and option, with the real defaults', () => {
    for (const text of [
      'resource add <name> <ip>/<prefix>', 'resource edit <name>', 'resource rm <name>', 'resource list', 'resource cleanup <name>', 'move <resource> <node>|--best',
      'online <resource>', 'offline <resource>', 'node pause <node>', 'node resume <node>', 'status', 'events [--follow]',
      '--owners', '--preferred', '--failback never|immediate|HH-HH', '--if node=ifname', '--offline', '--announce-form', '--defend',
      '--agent host:port', '--token-file F', '--tls', '--ca F', '--json', '--limit N', '--target R', '--action A', '--ip <ip>/<prefix>',
      DEFAULT_API, DEFAULT_TOKEN_FILE,
    ]) {
      assert.ok(CLUSTER_USAGE.includes(text), `usage mentions ${text}`);
    }
    assert.ok(USAGE.includes(CLUSTER_USAGE), '`ipfo help` shows the cluster commands');
  });

  test('parseClusterCommand is what the dispatch calls', () => {
    assert.deepEqual(parseClusterCommand('move', ['web', 'n2']), parse('move', 'web', 'n2'));
  });

  test('field names of the agent map to the options typed', () => {
    assert.equal(optionForField('spec.possibleOwners'), '--owners');
    assert.equal(optionForField('patch.preferredOwners', true), '--preferred');
    assert.equal(optionForField('spec.ip'), '<ip>/<prefix>');
    assert.equal(optionForField('patch.prefix', true), '--ip');
    assert.equal(optionForField('spec.failback.endHour'), '--failback');
    assert.equal(optionForField('spec.interfaces.n1'), '--if');
    assert.equal(optionForField('spec.enabled'), '--offline');
    assert.equal(optionForField('spec.name'), '<name>');
    assert.equal(optionForField('spec'), '');
    assert.equal(optionForField('target'), '<node>');
    assert.equal(optionForField('spec.somethingNew'), 'somethingNew');
  });
});

describe('ipfo bindings', () => {
  test('takes no argument', () => {
    assert.deepEqual(parse('bindings').op, { kind: 'bindings' });
    rejects(['bindings', 'n1'], /^bindings: unexpected argument "n1"$/);
  });
});

describe('ipfo watch --cluster', () => {
  test('is the ARP watch entries of the audit log, followed live from an agent', () => {
    const command = parse('watch', '--cluster', '--agent', '127.0.0.1:7791', '--json');
    assert.deepEqual(command.op, { kind: 'events', follow: true, limit: 10, filter: { action: 'arp.*' } });
    assert.equal(command.agent.port, 7791);
    assert.equal(command.json, true);
  });

  test('an action filter ending in * is a prefix; any other is exact', () => {
    const entry = { actor: 'n1', action: 'arp.conflict', target: 'web', outcome: 'failed' as const, detail: null };
    assert.equal(auditEntryMatches(entry, { action: 'arp.*' }), true);
    assert.equal(auditEntryMatches(entry, { action: 'arp.conflict' }), true);
    assert.equal(auditEntryMatches(entry, { action: 'arp.' }), false);
    assert.equal(auditEntryMatches(entry, { action: 'node.*' }), false);
    assert.equal(auditEntryMatches({ ...entry, action: 'move' }, { action: 'arp.*' }), false);
  });
});

describe('user', () => {
  test('add, list, rm, rotate map to the protocol commands', () => {
    assert.deepEqual(parse('user', 'add', 'alice', '--role', 'viewer').op, { kind: 'user-add', name: 'alice', role: 'viewer' });
    assert.deepEqual(parse('user', 'list').op, { kind: 'user-list' });
    assert.deepEqual(parse('user', 'rm', 'alice').op, { kind: 'user-remove', name: 'alice' });
    assert.deepEqual(parse('user', 'rotate', 'ops.team-1', '--json').op, { kind: 'user-rotate', name: 'ops.team-1' });
  });

  test('bad input is refused before anything is sent', () => {
    rejects(['user'], /user: missing subcommand \(add, list, rm or rotate\)/);
    rejects(['user', 'delete', 'alice'], /user: unknown subcommand "delete"/);
    rejects(['user', 'add', 'alice'], /user add: missing --role \(viewer, operator, admin\)/);
    rejects(['user', 'add', 'alice', '--role', 'root'], /--role must be one of viewer, operator, admin, got "root"/);
    rejects(['user', 'add', 'Alice', '--role', 'admin'], /user add: user name "Alice" must be 1-32 characters/);
    rejects(['user', 'add', 'root', '--role', 'admin'], /"root" is the node token's identity/);
    rejects(['user', 'rm'], /user rm: missing <name>/);
    rejects(['user', 'rotate', 'a', 'b'], /user rotate: unexpected argument "b"/);
  });

  test('--credential-file replaces the token file; not both', () => {
    assert.deepEqual(parse('status', '--credential-file', '/home/alice/alice.cred').agent, { ...LOCAL, credentialFile: '/home/alice/alice.cred', preferSocket: true });
    rejects(['status', '--credential-file', 'a', '--token-file', 'b'], /give --token-file or --credential-file, not both/);
    rejects(['status', '--credential-file', ''], /--credential-file wants a file name/);
  });
});
