// The command sudo-prompt runs as root (main/console/elevation.ts), the launcher's own argument
// check (launch-agent.ts) and its report (launch-report.ts).
//
// The round-trip tests run the built command through the same two shells sudo-prompt uses on
// Linux (/bin/sh -c around `/bin/bash -c "echo SUDOPROMPT; <command, only " escaped>"`, with the
// pkexec step left out) and check that the program receives exactly the intended argument vector
// and that nothing else ran. That shell line is the thing under test, hence the shell string.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  buildElevatedCommand,
  classifyElevationError,
  isSafeWorkingDirectory,
  launcherOptions,
  PROMPT_DECLINED_MESSAGE,
  type ElevatedAgentLaunch,
} from '../../main/console/elevation';
import { parseLauncherArgs } from '../../main/console/launch-agent';
import { launchFromReport, parseLaunchReport } from '../../main/console/launch-report';

const run = promisify(execFile);

const BASE: ElevatedAgentLaunch = {
  platform: 'linux',
  executable: '/usr/bin/node',
  runAsNode: false,
  launcher: '/opt/IP Failover Console/resources/app/build/main/console/launch-agent.js',
  node: 'desk-1',
  storeDir: '/var/lib/ipfo/store',
  port: 7790,
  tokenFile: '/var/lib/ipfo/token',
};

/** What sudo-prompt's Linux path hands to /bin/sh (see @vscode/sudo-prompt index.js, Linux()). */
function sudoPromptShellLine(command: string): string {
  return `/bin/bash -c "echo SUDOPROMPT; ${command.replace(/"/g, '\\"')}"`;
}

const scratch = mkdtempSync(join(tmpdir(), 'ipfo-elevation-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('buildElevatedCommand', () => {
  test('the default launch: each part single-quoted, the agent options fixed', () => {
    const built = buildElevatedCommand(BASE);
    assert.ok(built.ok);
    assert.deepEqual(built.elevated.argv, [
      '/usr/bin/node',
      BASE.launcher,
      '--node', 'desk-1',
      '--store', 'file:/var/lib/ipfo/store',
      '--api', '127.0.0.1:7790',
      '--token-file', '/var/lib/ipfo/token',
    ]);
    assert.equal(
      built.elevated.command,
      `'/usr/bin/node' '${BASE.launcher}' '--node' 'desk-1' '--store' 'file:/var/lib/ipfo/store' '--api' '127.0.0.1:7790' '--token-file' '/var/lib/ipfo/token'`,
    );
    assert.equal(built.elevated.env, undefined);
  });

  test('Electron runs the launcher as Node through /usr/bin/env (pkexec clears the environment)', () => {
    const built = buildElevatedCommand({ ...BASE, executable: '/opt/IP Failover Console/ip-failover-console', runAsNode: true });
    assert.ok(built.ok);
    assert.deepEqual(built.elevated.argv.slice(0, 3), ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', '/opt/IP Failover Console/ip-failover-console']);
  });

  const hostile: Array<[string, Partial<ElevatedAgentLaunch>]> = [
    ['command substitution in a path', { launcher: '/tmp/$(touch /tmp/pwned)/launch-agent.js' }],
    ['backticks in a path', { storeDir: '/var/lib/`id`' }],
    ['a variable in a path', { tokenFile: '/home/$USER/token' }],
    ['a single quote (ends the quoting)', { launcher: "/tmp/x'; touch /tmp/pwned; '/launch-agent.js" }],
    ['a double quote (ends sudo-prompt\'s quoting)', { launcher: '/tmp/x"; touch /tmp/pwned; "/launch-agent.js' }],
    ['a backslash (escapes in the outer shell)', { executable: '/usr/bin/no\\de' }],
    ['a newline', { tokenFile: '/var/lib/ipfo/token\ntouch /tmp/pwned' }],
    ['a carriage return', { storeDir: '/var/lib/ipfo/store\r' }],
    ['a NUL byte', { storeDir: '/var/lib/ipfo\0/store' }],
    ['a C1 control (NEL)', { storeDir: '/var/lib/ipfo\u0085/store' }],
    ['a Unicode line separator', { storeDir: '/var/lib/ipfo\u2028/store' }],
    ['history expansion', { storeDir: '/var/lib/!!/store' }],
    ['a relative path', { launcher: 'build/main/console/launch-agent.js' }],
    ['a ".." segment', { storeDir: '/var/lib/ipfo/../../etc' }],
    ['a "." segment', { tokenFile: '/var/lib/./ipfo/token' }],
    ['a doubled separator', { tokenFile: '/var/lib//ipfo/token' }],
    ['an empty executable', { executable: '' }],
    ['a node name with a shell tail', { node: 'desk; reboot' }],
    ['a node name that is an option', { node: '--help' }],
    ['the reserved node name', { node: 'best' }],
    ['a node name with a space', { node: 'my desk' }],
    ['port 0', { port: 0 }],
    ['port 70000', { port: 70_000 }],
    ['a fractional port', { port: 7790.5 }],
    ['a 5,000-character path', { storeDir: `/${'a'.repeat(5000)}` }],
  ];
  for (const [what, change] of hostile) {
    test(`refuses ${what}`, () => {
      const built = buildElevatedCommand({ ...BASE, ...change });
      assert.equal(built.ok, false);
      assert.ok(!built.ok && built.problem.length > 0 && !built.problem.includes('\n'));
    });
  }

  test('spaces, punctuation and Unicode survive both shells exactly, and nothing else runs', async () => {
    // Every character here is literal inside single quotes, including ; & | < > ( ) * ~ # { } [ ].
    const odd = 'dir with spaces; touch canary & echo | cat > out (x) * ~ # {a,b} [c] é 控制台 🙂';
    const directory = join(scratch, odd);
    mkdirSync(directory, { recursive: true });
    const script = join(directory, 'print-argv.js');
    writeFileSync(script, 'process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), runAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null }));\n');
    const workdir = mkdtempSync(join(scratch, 'cwd-'));
    for (const runAsNode of [false, true]) {
      const launch = { ...BASE, executable: process.execPath, runAsNode, launcher: script, storeDir: join(directory, 'store'), tokenFile: join(directory, 'token') };
      const built = buildElevatedCommand(launch);
      assert.ok(built.ok, built.ok ? '' : built.problem);
      const { stdout } = await run('/bin/sh', ['-c', sudoPromptShellLine(built.elevated.command)], { cwd: workdir });
      const [marker, json] = stdout.split('\n');
      assert.equal(marker, 'SUDOPROMPT');
      const received = JSON.parse(json ?? '') as { argv: string[]; runAsNode: string | null };
      assert.deepEqual(received.argv, launcherOptions(launch));
      assert.equal(received.runAsNode, runAsNode ? '1' : null);
      assert.equal(existsSync(join(workdir, 'canary')), false, 'the "; touch canary" in the path did not run');
      assert.equal(existsSync(join(workdir, 'out')), false, 'the "> out" in the path did not redirect');
    }
  });

  test('Windows: double quotes, and the characters cmd.exe expands inside them refused', () => {
    const windows: ElevatedAgentLaunch = {
      ...BASE,
      platform: 'win32',
      executable: 'C:\\Program Files\\IP Failover Console\\IP Failover Console.exe',
      launcher: 'C:\\Program Files\\IP Failover Console\\resources\\app\\build\\main\\console\\launch-agent.js',
      storeDir: 'C:\\ProgramData\\ipfo\\store',
      tokenFile: 'C:\\ProgramData\\ipfo\\token',
      runAsNode: true,
    };
    const built = buildElevatedCommand(windows);
    assert.ok(built.ok);
    assert.ok(built.elevated.command.startsWith('"C:\\Program Files\\IP Failover Console\\IP Failover Console.exe" "C:\\Program Files'));
    assert.deepEqual(built.elevated.env, { ELECTRON_RUN_AS_NODE: '1' });
    for (const bad of ['C:\\%PATH%\\x', 'C:\\a"b', 'C:\\a!b!', 'C:\\a^b', 'C:\\a\nb', '\\\\server\\share\\x', 'C:\\a\\..\\b']) {
      assert.equal(buildElevatedCommand({ ...windows, storeDir: bad }).ok, false, JSON.stringify(bad));
    }
  });
});

describe('the working directory sudo-prompt puts into its shell line', () => {
  test('ordinary directories are fine; ones the shell would expand are not', () => {
    assert.ok(isSafeWorkingDirectory('linux', '/home/jörg/IP Failover Console'));
    for (const cwd of ['/tmp/$(reboot)', '/tmp/`id`', '/tmp/"x', '/tmp/a\\b', '/tmp/a\nb']) {
      assert.equal(isSafeWorkingDirectory('linux', cwd), false, JSON.stringify(cwd));
    }
  });
});

describe('classifyElevationError', () => {
  test('a declined prompt is an answer; a missing prompt program and other failures are failures', () => {
    assert.deepEqual(classifyElevationError(new Error(PROMPT_DECLINED_MESSAGE)), { kind: 'cancelled' });
    assert.equal(classifyElevationError(new Error('Unable to find pkexec or kdesudo.')).kind, 'no-prompt-program');
    assert.equal(classifyElevationError(new Error('Error executing command as another user: No authentication agent found.')).kind, 'no-prompt-program');
    assert.equal(classifyElevationError(new Error('Command failed: exit 1')).kind, 'failed');
  });
});

describe('the launcher\'s own argument check', () => {
  test('accepts exactly what the console builds', () => {
    const options = { node: 'desk-1', storeDir: '/var/lib/ipfo/store', port: 7790, tokenFile: '/var/lib/ipfo/token' };
    assert.deepEqual(parseLauncherArgs(launcherOptions(options)), { ok: true, options });
  });

  const refused: Array<[string, string[]]> = [
    ['no arguments', []],
    ['options in another order', ['--store', 'file:/s', '--node', 'n', '--api', '127.0.0.1:7790', '--token-file', '/t']],
    ['an extra option', ['--node', 'n', '--store', 'file:/s', '--api', '127.0.0.1:7790', '--token-file', '/t', '--web-dir', '/']],
    ['an etcd store', ['--node', 'n', '--store', 'etcd://10.0.0.1:2379', '--api', '127.0.0.1:7790', '--token-file', '/t']],
    ['a non-loopback API', ['--node', 'n', '--store', 'file:/s', '--api', '0.0.0.0:7790', '--token-file', '/t']],
    ['a relative token file', ['--node', 'n', '--store', 'file:/s', '--api', '127.0.0.1:7790', '--token-file', 'token']],
    ['a substitution in the store', ['--node', 'n', '--store', 'file:/s/$(id)', '--api', '127.0.0.1:7790', '--token-file', '/t']],
    ['a bad node name', ['--node', 'n;id', '--store', 'file:/s', '--api', '127.0.0.1:7790', '--token-file', '/t']],
    ['a port with a leading zero', ['--node', 'n', '--store', 'file:/s', '--api', '127.0.0.1:07790', '--token-file', '/t']],
  ];
  for (const [what, argv] of refused) {
    test(`refuses ${what}`, () => assert.equal(parseLauncherArgs(argv).ok, false));
  }
});

describe('the launcher\'s report', () => {
  const token = 'ab'.repeat(32);
  test('the last line is the report; anything before it is ignored', () => {
    const report = parseLaunchReport(`some warning\n{"outcome":"started","token":"${token}","pid":4242,"logFile":"/var/lib/ipfo/agent.log"}\n`);
    assert.deepEqual(launchFromReport(report), { outcome: 'started', token, detail: 'started the local agent (pid 4242, log /var/lib/ipfo/agent.log)' });
    assert.equal(launchFromReport(parseLaunchReport(`{"outcome":"already-running","token":"${token}"}`)).outcome, 'already-running');
  });

  test('no report, a malformed token or extra fields: a failure, never a token', () => {
    for (const stdout of ['', 'SUDOPROMPT\n', `{"outcome":"started","token":"${token}x","pid":1,"logFile":"l"}`, `{"outcome":"already-running","token":"${token}","extra":1}`, 'not json']) {
      const launch = launchFromReport(parseLaunchReport(stdout));
      assert.equal(launch.outcome, 'failed', stdout);
      assert.ok(!('token' in launch));
    }
  });
});
