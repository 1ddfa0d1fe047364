// The agent's configuration file (/etc/ipfo/agent.json) and the `ipfo agent` command line around it:
// --config, install, uninstall. Every refusal is a UsageError (exit 2) naming the file and the key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCommand, resolveAgentConfig, UsageError, USAGE, type AgentConfigCommand } from '../../main/cli/args';
import { AGENT_CONFIG_KEYS, agentConfigArgv, agentConfigPath, defaultAgentConfigText, parseAgentConfig } from '../../main/service/agent-config';

const FILE = '/etc/ipfo/agent.json';

function refuses(text: string, message: RegExp, platform: 'linux' | 'win32' = 'linux'): void {
  assert.throws(
    () => parseAgentConfig(text, FILE, platform),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, `a UsageError, got ${String(error)}`);
      assert.match(error.message, message);
      assert.ok(error.message.startsWith(`${FILE}: `), `names the file: ${error.message}`);
      assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
      return true;
    },
    text,
  );
}

const FULL = {
  node: 'n1', store: 'etcd://10.0.0.1:2379,10.0.0.2:2379', cluster: 'prod', api: '0.0.0.0:7790', 'api-socket': '/run/ipfo/api/n1.sock', 'token-file': '/var/lib/ipfo/token',
  'tls-cert': '/etc/ipfo/agent.crt', 'tls-key': '/etc/ipfo/agent.key', 'lease-ttl': 4, 'failover-profile': 'fast', 'owner-silence-ms': 200, 'stats-interval': 60, 'state-dir': '/run/ipfo', 'web-dir': '/srv/web', json: true,
  'store-ca': '/etc/ipfo/etcd-ca.crt', 'store-cert': '/etc/ipfo/etcd.crt', 'store-key': '/etc/ipfo/etcd.key', 'store-user': 'ipfo', 'store-password-file': '/etc/ipfo/etcd-password',
  metrics: '10.0.0.1:9790', 'metrics-tls-cert': '/etc/ipfo/metrics.crt', 'metrics-tls-key': '/etc/ipfo/metrics.key',
};

describe('configuration file', () => {
  test('every key maps onto the `ipfo agent` option of the same name', () => {
    const config = parseAgentConfig(JSON.stringify(FULL), FILE);
    assert.deepEqual(config, FULL);
    assert.deepEqual(agentConfigArgv(config), [
      '--node', 'n1', '--store', 'etcd://10.0.0.1:2379,10.0.0.2:2379', '--cluster', 'prod', '--api', '0.0.0.0:7790', '--api-socket', '/run/ipfo/api/n1.sock', '--token-file', '/var/lib/ipfo/token',
      '--tls-cert', '/etc/ipfo/agent.crt', '--tls-key', '/etc/ipfo/agent.key', '--lease-ttl', '4', '--failover-profile', 'fast', '--owner-silence-ms', '200', '--stats-interval', '60', '--state-dir', '/run/ipfo', '--web-dir', '/srv/web', '--json',
      '--store-ca', '/etc/ipfo/etcd-ca.crt', '--store-cert', '/etc/ipfo/etcd.crt', '--store-key', '/etc/ipfo/etcd.key', '--store-user', 'ipfo', '--store-password-file', '/etc/ipfo/etcd-password',
      '--metrics', '10.0.0.1:9790', '--metrics-tls-cert', '/etc/ipfo/metrics.crt', '--metrics-tls-key', '/etc/ipfo/metrics.key',
    ]);
    assert.deepEqual(Object.keys(AGENT_CONFIG_KEYS).sort(), Object.keys(FULL).sort());
    for (const key of Object.keys(AGENT_CONFIG_KEYS)) assert.ok(USAGE.includes(`--${key}`), `ipfo help lists --${key}`);
  });

  test('comment lines, a trailing comma and a byte order mark are accepted', () => {
    const text = '\uFEFF// the agent\n{\n  // "node": "old",\n  "node": "n2",\n    // indented comment\n  "store": "file:/var/lib/ipfo/store",\n}\n';
    assert.deepEqual(parseAgentConfig(text, FILE), { node: 'n2', store: 'file:/var/lib/ipfo/store' });
    assert.deepEqual(parseAgentConfig('{}', FILE), {});
  });

  test('the shortest owner silence (8 ms) is accepted and passed on as the option', () => {
    const config = parseAgentConfig('{"failover-profile": "fast", "owner-silence-ms": 8}', FILE);
    assert.deepEqual(agentConfigArgv(config), ['--failover-profile', 'fast', '--owner-silence-ms', '8']);
  });

  test('// inside a value is not a comment', () => {
    assert.deepEqual(parseAgentConfig('{"node": "n1", "web-dir": "/srv//web"}', FILE), { node: 'n1', 'web-dir': '/srv//web' });
  });

  test('unknown keys are refused, with the known ones listed', () => {
    refuses('{"nodes": "n1"}', /unknown key "nodes" \(known: node, store/);
    refuses('{"--node": "n1"}', /unknown key "--node"/);
    refuses('{"__proto__": {"node": "x"}}', /unknown key "__proto__"/);
    refuses('{"constructor": "x"}', /unknown key "constructor"/);
  });

  test('wrong types name the key', () => {
    refuses('{"node": 5}', /"node" must be a non-empty string, got 5/);
    refuses('{"node": ""}', /"node" must be a non-empty string/);
    refuses('{"node": null}', /"node" must be a non-empty string, got null/);
    refuses('{"lease-ttl": "3"}', /"lease-ttl" must be a whole number, got "3"/);
    refuses('{"lease-ttl": 2.5}', /"lease-ttl" must be a whole number/);
    refuses('{"json": "yes"}', /"json" must be true or false/);
    refuses('{"store": ["a"]}', /"store" must be a non-empty string/);
  });

  test('bad values name the key', () => {
    refuses('{"node": "best"}', /"node": node name "best" is reserved/);
    refuses('{"node": "a b"}', /"node": /);
    refuses('{"store": "mysql://x"}', /"store": .*expected etcd:\/\/host:port/);
    refuses('{"store": "etcd://host"}', /"store": .*is not host:port/);
    refuses('{"store": "file:relative/dir"}', /"store" must be an absolute path/);
    refuses('{"api": "7790"}', /"api" wants host:port, got "7790"/);
    refuses('{"api": "127.0.0.1:99999"}', /"api" wants host:port/);
    refuses('{"lease-ttl": 1}', /"lease-ttl" must be between 2 and 60/);
    refuses('{"lease-ttl": 61}', /"lease-ttl" must be between 2 and 60/);
    refuses('{"failover-profile": "fastest"}', /"failover-profile" must be one of default, fast, got "fastest"/);
    refuses('{"failover-profile": 1}', /"failover-profile" must be a non-empty string/);
    refuses('{"owner-silence-ms": 7}', /"owner-silence-ms" must be between 8 and 10000, got 7/);
    refuses('{"owner-silence-ms": 10001}', /"owner-silence-ms" must be between 8 and 10000, got 10001/);
    refuses('{"token-file": "token"}', /"token-file" must be an absolute path, got "token"/);
    refuses('{"tls-cert": "/etc/ipfo/c.pem"}', /"tls-cert" and "tls-key" go together/);
    refuses('{"node": "n1\\nExecStart=/bin/sh"}', /"node" contains a control character/);
  });

  test('not JSON, or not an object', () => {
    refuses('{\n  "node": "n1"\n  "store": "file:/x"\n}', /not valid JSON \(line 3\)/);
    refuses('', /not valid JSON/);
    refuses('[]', /must hold one JSON object/);
    refuses('"n1"', /must hold one JSON object/);
    refuses('null', /must hold one JSON object/);
    refuses(`{"node": "${'x'.repeat(70_000)}"}`, /larger than/);
  });

  test('Windows paths on Windows', () => {
    const text = JSON.stringify({ store: 'file:C:\\ProgramData\\ipfo\\store', 'token-file': 'C:\\ProgramData\\ipfo\\token' });
    assert.deepEqual(parseAgentConfig(text, FILE, 'win32'), { store: 'file:C:\\ProgramData\\ipfo\\store', 'token-file': 'C:\\ProgramData\\ipfo\\token' });
    refuses(JSON.stringify({ 'token-file': '\\ipfo\\token' }), /"token-file" must be an absolute path/, 'win32');
    refuses(JSON.stringify({ 'token-file': 'C:\\ProgramData\\ipfo\\token' }), /"token-file" must be an absolute path/, 'linux');
  });

  test('locations', () => {
    assert.equal(agentConfigPath('linux'), '/etc/ipfo/agent.json');
    assert.equal(agentConfigPath('win32', 'C:\\ProgramData'), 'C:\\ProgramData\\ipfo\\agent.json');
    assert.throws(() => agentConfigPath('win32', null), /ProgramData/);
  });
});

describe('the default configuration file', () => {
  test('Linux: every setting commented out, and it parses to nothing', () => {
    const text = defaultAgentConfigText('linux');
    assert.deepEqual(parseAgentConfig(text, FILE), {});
    assert.match(text, /systemctl enable --now ipfo-agent/);
  });

  test('uncommenting any one setting keeps it valid', () => {
    const lines = defaultAgentConfigText('linux').split('\n');
    const settings = lines.map((line, index) => ({ line, index })).filter(({ line }) => /^\s*\/\/ "/.test(line));
    assert.ok(settings.length >= 10);
    for (const { line, index } of settings) {
      const key = /"([^"]+)"/.exec(line)![1]!;
      if (key === 'tls-cert' || key === 'tls-key') continue; // these two go together
      if (key.startsWith('store-')) continue; // for an etcd store, and in pairs (test/unit/store-access.test.ts)
      const edited = lines.map((text, at) => (at === index ? text.replace('// ', '') : text)).join('\n');
      assert.ok(key in parseAgentConfig(edited, FILE), key);
    }
    const everything = lines.map((text) => text.replace(/^(\s*)\/\/ "/, '$1"')).join('\n');
    assert.equal(parseAgentConfig(everything, FILE).node, 'node1');
  });

  test('Windows: the paths that default to Linux locations point to %ProgramData%\\ipfo', () => {
    const config = parseAgentConfig(defaultAgentConfigText('win32', 'D:\\Data'), 'agent.json', 'win32');
    assert.deepEqual(config, { store: 'file:D:\\Data\\ipfo\\store', 'token-file': 'D:\\Data\\ipfo\\token', 'state-dir': 'D:\\Data\\ipfo\\run' });
  });
});

describe('ipfo agent --config', () => {
  function configCommand(...argv: string[]): AgentConfigCommand {
    const command = parseCommand(['agent', ...argv]);
    assert.equal(command.kind, 'agent');
    assert.ok('action' in command && command.action === 'run-config', JSON.stringify(command));
    return command;
  }

  test('defers to the file, keeping the other options in canonical form', () => {
    assert.deepEqual(configCommand('--config', FILE), { kind: 'agent', action: 'run-config', configFile: FILE, flags: [] });
    assert.deepEqual(configCommand('--json', '--config=/x.json', '--api', '127.0.0.1:0').flags, ['--json', '--api', '127.0.0.1:0']);
  });

  test('command-line options override the file', () => {
    const text = JSON.stringify({ node: 'n1', store: 'file:/var/lib/ipfo/store', api: '127.0.0.1:7790', 'lease-ttl': 5 });
    const command = resolveAgentConfig(configCommand('--config', FILE, '--api', '127.0.0.1:7800', '--node', 'n9'), text);
    assert.equal(command.node, 'n9');
    assert.equal(command.apiPort, 7800);
    assert.equal(command.leaseTtlSec, 5);
    assert.equal(command.store, 'file:/var/lib/ipfo/store');
    assert.equal(command.action, 'run');
  });

  test('gives the same command as the same options on the command line', () => {
    const fromFile = resolveAgentConfig(configCommand('--config', FILE), JSON.stringify(FULL));
    const fromFlags = parseCommand(['agent', ...agentConfigArgv(FULL)]);
    assert.deepEqual(fromFile, fromFlags);
  });

  test('without a node name anywhere, says where to put one', () => {
    assert.throws(() => resolveAgentConfig(configCommand('--config', FILE), '{}'), /\/etc\/ipfo\/agent\.json: no node name: set "node" in the file \(or pass --node <name>\)/);
    assert.equal(resolveAgentConfig(configCommand('--config', FILE, '--node', 'n3'), '{}').node, 'n3');
  });

  test('bad options are still refused before the file is read', () => {
    assert.throws(() => parseCommand(['agent', '--config', FILE, '--bogus']), UsageError);
    assert.throws(() => parseCommand(['agent', '--config', FILE, 'extra']), /unexpected argument "extra"/);
    assert.throws(() => parseCommand(['agent', '--config']), UsageError);
    assert.throws(() => parseCommand(['agent', '--config', '']), /--config wants a file name/);
  });

  test('without --config, `ipfo agent` is what it was', () => {
    const command = parseCommand(['agent', '--node', 'n1']);
    assert.deepEqual(command, {
      kind: 'agent', action: 'run', node: 'n1', store: 'file:/var/lib/ipfo/store', cluster: 'default', apiHost: '127.0.0.1', apiPort: 7790,
      tokenFile: '/var/lib/ipfo/token', tlsCert: null, tlsKey: null, leaseTtlSec: 3, failoverProfile: 'default', ownerSilenceMs: null, statsIntervalSec: 600, stateDir: '/run/ipfo', webDir: null, json: false,
    });
    assert.throws(() => parseCommand(['agent']), /--node <name> is required/);
    assert.throws(() => parseCommand(['agent', '--node', 'n1', 'start']), /unexpected argument "start"/);
  });
});

describe('ipfo agent install | uninstall', () => {
  test('defaults: the real system, installed disabled', () => {
    assert.deepEqual(parseCommand(['agent', 'install']), { kind: 'agent', action: 'install', root: null, enable: false, purge: false, json: false });
    assert.deepEqual(parseCommand(['agent', 'uninstall']), { kind: 'agent', action: 'uninstall', root: null, enable: false, purge: false, json: false });
  });

  test('--enable, --purge, --root, --json', () => {
    assert.deepEqual(parseCommand(['agent', 'install', '--enable', '--json']), { kind: 'agent', action: 'install', root: null, enable: true, purge: false, json: true });
    assert.deepEqual(parseCommand(['agent', 'uninstall', '--purge', '--root', '/tmp/pkg/']), { kind: 'agent', action: 'uninstall', root: '/tmp/pkg', enable: false, purge: true, json: false });
    assert.equal((parseCommand(['agent', 'install', '--root', '/']) as { root: string | null }).root, null);
  });

  test('refusals', () => {
    assert.throws(() => parseCommand(['agent', 'install', '--root', 'relative']), /--root must be an absolute directory/);
    assert.throws(() => parseCommand(['agent', 'install', '--root', '/tmp/x', '--enable']), /cannot go with --root/);
    assert.throws(() => parseCommand(['agent', 'install', '--purge']), UsageError);
    assert.throws(() => parseCommand(['agent', 'uninstall', '--enable']), UsageError);
    assert.throws(() => parseCommand(['agent', 'install', 'now']), /agent install: unexpected argument "now"/);
    assert.throws(() => parseCommand(['agent', 'install', '--node', 'n1']), UsageError);
  });

  test('ipfo help shows them', () => {
    assert.match(USAGE, /agent install \[--enable\] \[--root DIR\]/);
    assert.match(USAGE, /agent uninstall \[--purge\] \[--root DIR\]/);
    assert.match(USAGE, /agent --config FILE/);
  });
});
