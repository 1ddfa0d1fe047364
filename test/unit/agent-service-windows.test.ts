// The agent at boot on Windows: CommandLineToArgvW quoting (checked against Microsoft's documented
// examples and by round trip through a parser of the same rules), the boot task's action and XML, and
// the schtasks.exe argument vectors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceSpecError, type AgentLaunch } from '../../main/service/systemd';
import { TASK_NAME, parseWindowsCommandLine, quoteWindowsArgument, schtasks, taskAction, taskXml, taskXmlBytes, windowsCommandLine } from '../../main/service/windows';

const EXE = 'C:\\Program Files\\IP Failover Console\\IP Failover Console.exe';

describe('CommandLineToArgvW', () => {
  test('the parser follows Microsoft\'s documented examples', () => {
    // learn.microsoft.com: "Parsing C++ command-line arguments" (argv[0] is the program here).
    assert.deepEqual(parseWindowsCommandLine('p "abc" d e'), ['p', 'abc', 'd', 'e']);
    assert.deepEqual(parseWindowsCommandLine('p a\\\\\\b d"e f"g h'), ['p', 'a\\\\\\b', 'de fg', 'h']);
    assert.deepEqual(parseWindowsCommandLine('p a\\\\\\"b c d'), ['p', 'a\\"b', 'c', 'd']);
    assert.deepEqual(parseWindowsCommandLine('p a\\\\\\\\"b c" d e'), ['p', 'a\\\\b c', 'd', 'e']);
    assert.deepEqual(parseWindowsCommandLine('p a"b"" c d'), ['p', 'ab" c d']);
    assert.deepEqual(parseWindowsCommandLine('"C:\\Program Files\\x.exe" a'), ['C:\\Program Files\\x.exe', 'a']);
  });

  test('quoting: only what needs it, backslashes doubled only before a quote', () => {
    assert.equal(quoteWindowsArgument('agent'), 'agent');
    assert.equal(quoteWindowsArgument('C:\\ProgramData\\ipfo\\agent.json'), 'C:\\ProgramData\\ipfo\\agent.json');
    assert.equal(quoteWindowsArgument('a b'), '"a b"');
    assert.equal(quoteWindowsArgument(''), '""');
    assert.equal(quoteWindowsArgument('a"b'), '"a\\"b"');
    assert.equal(quoteWindowsArgument('C:\\my dir\\'), '"C:\\my dir\\\\"');
    assert.equal(quoteWindowsArgument('a\\"b'), '"a\\\\\\"b"');
  });

  test('hostile arguments come back exactly', () => {
    const args = [
      'C:\\Program Files\\IP Failover Console\\resources\\app.asar\\bin\\ipfo', 'agent', '--config', 'C:\\ProgramData\\ipfo\\agent.json',
      '', ' ', 'a b', 'a"b', '"', '""', '\\', '\\\\', 'a\\', 'a b\\', 'a b\\\\', '\\"', 'x\\\\"y z', 'tab\there', '%PATH%', '!x!', '^&|<>()', 'jörg 日本',
    ];
    const line = windowsCommandLine(EXE, args);
    assert.deepEqual(parseWindowsCommandLine(line), [EXE, ...args]);
    for (const arg of args) assert.deepEqual(parseWindowsCommandLine(`p ${quoteWindowsArgument(arg)}`), ['p', arg], JSON.stringify(arg));
  });

  test('refused: control characters, a quote in the program path, a relative program', () => {
    assert.throws(() => quoteWindowsArgument('a\nb'), ServiceSpecError);
    assert.throws(() => quoteWindowsArgument('a\rb'), ServiceSpecError);
    assert.throws(() => windowsCommandLine('C:\\a"b\\x.exe', []), ServiceSpecError);
    assert.throws(() => windowsCommandLine('x.exe', []), /absolute/);
    assert.throws(() => windowsCommandLine('\\\\server\\share\\x.exe', []), /absolute/);
  });
});

const ELECTRON: AgentLaunch = {
  executable: EXE,
  args: ['C:\\Program Files\\IP Failover Console\\resources\\app.asar\\bin\\ipfo', 'agent', '--config', 'C:\\ProgramData\\ipfo\\agent.json'],
  env: { ELECTRON_RUN_AS_NODE: '1' },
};

describe('the boot task', () => {
  test('node needs no environment: the task runs it directly', () => {
    const action = taskAction({ executable: 'C:\\Program Files\\nodejs\\node.exe', args: ['C:\\src\\ipfo x\\bin\\ipfo', 'agent', '--config', 'C:\\ProgramData\\ipfo\\agent.json'], env: {} }, 'C:\\Windows');
    assert.equal(action.command, 'C:\\Program Files\\nodejs\\node.exe');
    assert.deepEqual(parseWindowsCommandLine(`x ${action.arguments}`).slice(1), ['C:\\src\\ipfo x\\bin\\ipfo', 'agent', '--config', 'C:\\ProgramData\\ipfo\\agent.json']);
    assert.equal(action.workingDirectory, 'C:\\Program Files\\nodejs');
  });

  test('Electron runs as Node through cmd.exe, every part quoted', () => {
    const action = taskAction(ELECTRON, 'C:\\Windows');
    assert.equal(action.command, 'C:\\Windows\\System32\\cmd.exe');
    assert.equal(
      action.arguments,
      '/d /v:off /s /c "set ELECTRON_RUN_AS_NODE=1&& "C:\\Program Files\\IP Failover Console\\IP Failover Console.exe" "C:\\Program Files\\IP Failover Console\\resources\\app.asar\\bin\\ipfo" "agent" "--config" "C:\\ProgramData\\ipfo\\agent.json""',
    );
    // What cmd.exe runs after /s strips the outer quotes splits back into the argv.
    const inner = action.arguments.slice(action.arguments.indexOf('&& ') + 3, -1);
    assert.deepEqual(parseWindowsCommandLine(inner), [ELECTRON.executable, ...ELECTRON.args]);
  });

  test('cmd.exe metacharacters inside quotes are fine; % and quotes are refused', () => {
    const tricky = { ...ELECTRON, args: ['C:\\R&D (x86)\\a^b!\\bin\\ipfo', 'agent', '--config', 'C:\\cfg\\'] };
    const inner = taskAction(tricky, 'C:\\Windows').arguments;
    assert.ok(inner.includes('"C:\\R&D (x86)\\a^b!\\bin\\ipfo"'));
    assert.ok(inner.endsWith('"C:\\cfg\\\\""'), inner);
    assert.throws(() => taskAction({ ...ELECTRON, args: ['C:\\100%\\ipfo'] }, 'C:\\Windows'), /cmd\.exe/);
    assert.throws(() => taskAction({ ...ELECTRON, args: ['C:\\a"b\\ipfo'] }, 'C:\\Windows'), /cmd\.exe/);
    assert.throws(() => taskAction({ ...ELECTRON, env: { X: 'a&b' } }, 'C:\\Windows'), /cmd\.exe/);
  });

  test('the XML: boot trigger, SYSTEM, no time limit, restart on failure, escaped action', () => {
    const action = taskAction({ ...ELECTRON, args: ['C:\\R&D\\<x>\\ipfo', 'agent'] }, 'C:\\Windows');
    const xml = taskXml(action, false);
    assert.match(xml, /<BootTrigger><Enabled>true<\/Enabled><\/BootTrigger>/);
    assert.match(xml, /<UserId>S-1-5-18<\/UserId>/);
    assert.match(xml, /<ExecutionTimeLimit>PT0S<\/ExecutionTimeLimit>/);
    assert.match(xml, /<RestartOnFailure><Interval>PT1M<\/Interval><Count>999<\/Count><\/RestartOnFailure>/);
    assert.match(xml, /<Settings>[\s\S]*<Enabled>false<\/Enabled>[\s\S]*<\/Settings>/);
    assert.match(taskXml(action, true), /<Settings>[\s\S]*<Enabled>true<\/Enabled>[\s\S]*<\/Settings>/);
    assert.ok(xml.includes('C:\\R&amp;D\\&lt;x&gt;\\ipfo'));
    assert.ok(xml.includes('<Command>C:\\Windows\\System32\\cmd.exe</Command>'));
    assert.ok(!/&(?!amp;|lt;|gt;|quot;|apos;)/.test(xml), 'every & is an entity');
    const bytes = taskXmlBytes(xml);
    assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe]);
    assert.equal(bytes.subarray(2).toString('utf16le'), xml);
  });

  test('schtasks.exe argument vectors', () => {
    assert.equal(TASK_NAME, 'ipfo-agent');
    assert.deepEqual(schtasks.create('C:\\Temp\\ipfo task\\ipfo-agent.xml'), ['/Create', '/TN', 'ipfo-agent', '/XML', 'C:\\Temp\\ipfo task\\ipfo-agent.xml', '/F']);
    assert.deepEqual(schtasks.enable(), ['/Change', '/TN', 'ipfo-agent', '/ENABLE']);
    assert.deepEqual(schtasks.run(), ['/Run', '/TN', 'ipfo-agent']);
    assert.deepEqual(schtasks.end(), ['/End', '/TN', 'ipfo-agent']);
    assert.deepEqual(schtasks.delete(), ['/Delete', '/TN', 'ipfo-agent', '/F']);
  });
});
