// The agent's systemd unit: ExecStart quoting against hostile paths, the hardening it must (and
// must not) carry, the command it runs from each kind of installation, and the deb's copy of it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ipfoEntry, serviceLaunch, type RuntimeFacts } from '../../main/service/launch';
import {
  DEB_LAUNCH, DEB_WRITTEN_BY, ServiceSpecError, protectHomeFor, quoteSystemdArgument, quoteSystemdExecutable, renderAgentUnit,
  systemdCommandLine, systemdEnvironment, type AgentLaunch,
} from '../../main/service/systemd';

const REPO = join(__dirname, '..', '..', '..');

/**
 * What systemd makes of one ExecStart= word (systemd.service(5), "Command lines"): quotes group,
 * C escapes inside quotes, `%%` → `%`, and in arguments `$$` → `$` (a lone `$` would expand a variable).
 */
function systemdWord(word: string, isExecutable: boolean): string {
  let text = word;
  if (text.startsWith('"')) {
    assert.ok(text.endsWith('"') && text.length >= 2, `unbalanced quotes: ${word}`);
    text = text.slice(1, -1).replace(/\\(.)/g, (_match, char: string) => {
      assert.ok(char === '\\' || char === '"', `unexpected escape \\${char} in ${word}`);
      return char;
    });
  } else {
    assert.ok(!/[\s"'\\]/.test(text), `an unquoted word with special characters: ${word}`);
  }
  assert.ok(!text.replaceAll('%%', '').includes('%'), `a lone % (a specifier) in ${word}`);
  text = text.replaceAll('%%', '%');
  if (!isExecutable) {
    assert.ok(!text.replaceAll('$$', '').includes('$'), `a lone $ (a variable) in ${word}`);
    text = text.replaceAll('$$', '$');
  }
  return text;
}

/** Splits an ExecStart= value at the whitespace between words (words are quoted or plain). */
function systemdWords(line: string): string[] {
  const words = line.match(/"(?:[^"\\]|\\.)*"|[^\s"]+/g) ?? [];
  assert.equal(words.join(' '), line, `one space between words: ${line}`);
  return words;
}

const HOSTILE_ARGS = [
  '/opt/IP Failover Console/resources/app.asar/bin/ipfo',
  'say "hi"',
  "it's",
  'C:\\path\\',
  '100%',
  '%n%i%%',
  '$HOME',
  '${PATH}',
  '$$',
  'back\\slash and "quote" and $x and %h',
  ';',
  '--flag=a b',
  'jörg/日本',
  '',
];

describe('ExecStart quoting', () => {
  test('plain words stay readable', () => {
    for (const word of ['agent', '--config', '/etc/ipfo/agent.json', 'file:/var/lib/ipfo/store', '127.0.0.1:7790', 'a=b,c+d@e']) {
      assert.equal(quoteSystemdArgument(word), word);
    }
  });

  test('every hostile argument comes back exactly as it went in', () => {
    for (const arg of HOSTILE_ARGS) {
      const quoted = quoteSystemdArgument(arg);
      assert.deepEqual(systemdWords(quoted), [quoted], `one word: ${quoted}`);
      assert.equal(systemdWord(quoted, false), arg, quoted);
    }
  });

  test('the characters systemd treats specially are escaped, not dropped', () => {
    assert.equal(quoteSystemdArgument('a b'), '"a b"');
    assert.equal(quoteSystemdArgument('say "hi"'), '"say \\"hi\\""');
    assert.equal(quoteSystemdArgument('C:\\dir\\'), '"C:\\\\dir\\\\"');
    assert.equal(quoteSystemdArgument('100%'), '"100%%"');
    assert.equal(quoteSystemdArgument('$HOME'), '"$$HOME"');
    assert.equal(quoteSystemdArgument(''), '""');
  });

  test('newlines and other control characters are refused', () => {
    for (const arg of ['a\nb', 'a\rb', 'tab\there', 'nul\0', 'del\x7f', 'c1\x85', 'ls\u2028', 'lone \ud800 surrogate']) {
      assert.throws(() => quoteSystemdArgument(arg), ServiceSpecError, JSON.stringify(arg));
      assert.throws(() => quoteSystemdExecutable(`/opt/${arg}/node`), ServiceSpecError, JSON.stringify(arg));
    }
  });

  test('the executable: quoted, % doubled, $ literal (systemd expands no variables there)', () => {
    assert.equal(quoteSystemdExecutable('/usr/bin/node'), '"/usr/bin/node"');
    assert.equal(quoteSystemdExecutable('/opt/IP Failover Console/ip-failover-console'), '"/opt/IP Failover Console/ip-failover-console"');
    assert.equal(quoteSystemdExecutable('/opt/100% $sure/node'), '"/opt/100%% $sure/node"');
    assert.equal(systemdWord(quoteSystemdExecutable('/opt/100% $sure/node'), true), '/opt/100% $sure/node');
  });

  test('executable paths systemd refuses are refused here, with the reason', () => {
    assert.throws(() => quoteSystemdExecutable('node'), /absolute/);
    assert.throws(() => quoteSystemdExecutable('./node'), /absolute/);
    assert.throws(() => quoteSystemdExecutable('/opt/a"b/node'), /systemd refuses/);
    assert.throws(() => quoteSystemdExecutable("/opt/a'b/node"), /systemd refuses/);
    assert.throws(() => quoteSystemdExecutable('/opt/a\\b/node'), /systemd refuses/);
    assert.throws(() => quoteSystemdExecutable('/opt/../usr/bin/node'), /normalized/);
    assert.throws(() => quoteSystemdExecutable('/opt//node'), /normalized/);
  });

  test('a whole command line from a hostile installation path splits back into the argv', () => {
    const launch: AgentLaunch = {
      executable: '/opt/IP Failover Console %i $x/ip-failover-console',
      args: ['/opt/IP Failover Console %i $x/resources/app.asar/bin/ipfo', 'agent', '--config', '/etc/ipfo/agent.json'],
      env: {},
    };
    const words = systemdWords(systemdCommandLine(launch));
    assert.deepEqual([systemdWord(words[0]!, true), ...words.slice(1).map((word) => systemdWord(word, false))], [launch.executable, ...launch.args]);
  });

  test('Environment= assignments', () => {
    assert.equal(systemdEnvironment('ELECTRON_RUN_AS_NODE', '1'), 'ELECTRON_RUN_AS_NODE=1');
    assert.equal(systemdEnvironment('X', 'a b%'), '"X=a b%%"');
    assert.throws(() => systemdEnvironment('A B', '1'), ServiceSpecError);
    assert.throws(() => systemdEnvironment('X', 'a\nB=2'), ServiceSpecError);
  });
});

const NODE_LAUNCH: AgentLaunch = { executable: '/usr/bin/node', args: ['/srv/ipfo/bin/ipfo', 'agent', '--config', '/etc/ipfo/agent.json'], env: {} };

function settings(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match !== null) map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!]);
  }
  return map;
}

describe('the unit', () => {
  test('runs the agent on the configuration file, restarts on failure but not on bad input', () => {
    const unit = settings(renderAgentUnit({ launch: NODE_LAUNCH }));
    assert.deepEqual(unit.get('ExecStart'), ['"/usr/bin/node" /srv/ipfo/bin/ipfo agent --config /etc/ipfo/agent.json']);
    assert.deepEqual(unit.get('Restart'), ['on-failure']);
    assert.deepEqual(unit.get('RestartPreventExitStatus'), ['2']);
    assert.deepEqual(unit.get('WantedBy'), ['multi-user.target']);
    assert.equal(unit.get('Environment'), undefined);
  });

  test('capabilities bounded to CAP_NET_RAW and CAP_NET_ADMIN, with the hardening that leaves the agent working', () => {
    const unit = settings(renderAgentUnit({ launch: NODE_LAUNCH }));
    assert.deepEqual(unit.get('AmbientCapabilities'), ['CAP_NET_RAW CAP_NET_ADMIN']);
    assert.deepEqual(unit.get('CapabilityBoundingSet'), ['CAP_NET_RAW CAP_NET_ADMIN']);
    assert.deepEqual(unit.get('RestrictAddressFamilies'), ['AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET']);
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['StateDirectory', 'ipfo'], ['RuntimeDirectory', 'ipfo'],
      ['RuntimeDirectoryPreserve', 'yes'], ['ConfigurationDirectory', 'ipfo'], ['PrivateTmp', 'yes'], ['RestrictSUIDSGID', 'yes'],
    ] as const) {
      assert.deepEqual(unit.get(key), [value], key);
    }
    // These would break it: net.ipv4.conf.*.promote_secondaries, V8's JIT, the network itself.
    for (const key of ['ProtectKernelTunables', 'MemoryDenyWriteExecute', 'PrivateNetwork', 'IPAddressDeny', 'DynamicUser', 'User']) {
      assert.equal(unit.get(key), undefined, key);
    }
  });

  test('ProtectHome is read-only when the runtime or the checkout lives in a home directory', () => {
    assert.equal(protectHomeFor(NODE_LAUNCH), 'yes');
    assert.equal(protectHomeFor({ executable: '/root/.nvm/versions/node/v20/bin/node', args: ['/srv/bin/ipfo'] }), 'read-only');
    assert.equal(protectHomeFor({ executable: '/usr/bin/node', args: ['/home/ann/ipfo/bin/ipfo'] }), 'read-only');
    assert.equal(protectHomeFor({ executable: '/usr/bin/node', args: ['/homework/bin/ipfo'] }), 'yes');
    assert.deepEqual(settings(renderAgentUnit({ launch: { ...NODE_LAUNCH, args: ['/home/a/bin/ipfo'] } })).get('ProtectHome'), ['read-only']);
  });

  test('extra writable paths are quoted like ExecStart words', () => {
    const unit = settings(renderAgentUnit({ launch: NODE_LAUNCH, readWritePaths: ['/srv/ipfo store', '/data/ipfo'] }));
    assert.deepEqual(unit.get('ReadWritePaths'), ['"/srv/ipfo store" /data/ipfo']);
    assert.throws(() => renderAgentUnit({ launch: NODE_LAUNCH, readWritePaths: ['relative'] }), /absolute/);
  });

  test('the Electron runtime runs as Node', () => {
    const unit = settings(renderAgentUnit({ launch: DEB_LAUNCH }));
    assert.deepEqual(unit.get('Environment'), ['ELECTRON_RUN_AS_NODE=1']);
    assert.deepEqual(unit.get('ExecStart'), ['"/opt/IP Failover Console/ip-failover-console" "/opt/IP Failover Console/resources/app.asar/bin/ipfo" agent --config /etc/ipfo/agent.json']);
  });

  test('no line of the unit can be injected through a path', () => {
    assert.throws(() => renderAgentUnit({ launch: { ...NODE_LAUNCH, args: ['/srv/x\n[Service]\nExecStartPre=/bin/sh'] } }), ServiceSpecError);
    assert.throws(() => renderAgentUnit({ launch: { ...NODE_LAUNCH, env: { X: 'a\nExecStart=/bin/sh' } } }), ServiceSpecError);
  });

  test('the deb ships exactly the unit `ipfo agent install` would write for its layout', () => {
    const shipped = readFileSync(join(REPO, 'resources', 'linux', 'ipfo-agent.service'), 'utf8');
    assert.equal(shipped, renderAgentUnit({ launch: DEB_LAUNCH, writtenBy: DEB_WRITTEN_BY }), 'regenerate resources/linux/ipfo-agent.service from renderAgentUnit');
  });
});

describe('the command a service runs', () => {
  const packaged: RuntimeFacts = {
    platform: 'linux', execPath: '/opt/IP Failover Console/ip-failover-console', electron: true,
    resourcesPath: '/opt/IP Failover Console/resources', appRoot: '/opt/IP Failover Console/resources/app.asar',
  };

  test('packaged app: the Electron binary as Node, on bin/ipfo inside app.asar', () => {
    assert.deepEqual(serviceLaunch({ ...packaged, configFile: '/etc/ipfo/agent.json' }), DEB_LAUNCH);
    // Electron's Node mode may not set process.resourcesPath: the app root says the same.
    assert.equal(ipfoEntry({ ...packaged, resourcesPath: null }), '/opt/IP Failover Console/resources/app.asar/bin/ipfo');
  });

  test('source checkout: this node and the repository\'s bin/ipfo, no extra environment', () => {
    const launch = serviceLaunch({ platform: 'linux', execPath: '/usr/local/bin/node', electron: false, resourcesPath: null, appRoot: '/srv/ipfo', configFile: '/etc/ipfo/agent.json' });
    assert.deepEqual(launch, { executable: '/usr/local/bin/node', args: ['/srv/ipfo/bin/ipfo', 'agent', '--config', '/etc/ipfo/agent.json'], env: {} });
  });

  test('the development Electron (node_modules) runs the checkout, not its own default app', () => {
    const launch = serviceLaunch({
      platform: 'linux', execPath: '/srv/ipfo/node_modules/electron/dist/electron', electron: true,
      resourcesPath: '/srv/ipfo/node_modules/electron/dist/resources', appRoot: '/srv/ipfo', configFile: '/etc/ipfo/agent.json',
    });
    assert.equal(launch.args[0], '/srv/ipfo/bin/ipfo');
    assert.deepEqual(launch.env, { ELECTRON_RUN_AS_NODE: '1' });
  });

  test('Windows paths', () => {
    const launch = serviceLaunch({
      platform: 'win32', execPath: 'C:\\Program Files\\IP Failover Console\\IP Failover Console.exe', electron: true,
      resourcesPath: 'C:\\Program Files\\IP Failover Console\\resources', appRoot: 'C:\\Program Files\\IP Failover Console\\resources\\app.asar',
      configFile: 'C:\\ProgramData\\ipfo\\agent.json',
    });
    assert.deepEqual(launch.args, ['C:\\Program Files\\IP Failover Console\\resources\\app.asar\\bin\\ipfo', 'agent', '--config', 'C:\\ProgramData\\ipfo\\agent.json']);
  });

  test('relative paths are refused', () => {
    assert.throws(() => serviceLaunch({ platform: 'linux', execPath: 'node', electron: false, resourcesPath: null, appRoot: '/srv', configFile: '/etc/ipfo/agent.json' }), /absolute/);
    assert.throws(() => serviceLaunch({ platform: 'linux', execPath: '/usr/bin/node', electron: false, resourcesPath: null, appRoot: '/srv', configFile: 'agent.json' }), /absolute/);
  });
});
