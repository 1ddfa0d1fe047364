// The agent at boot on Windows: a scheduled task that runs as SYSTEM at startup, restarts on failure
// and never times out. Pure: the argument vectors for schtasks.exe and the task's XML definition.
//
// Why not a Windows service (sc.exe create)? A service process must call StartServiceCtrlDispatcher
// and answer the Service Control Manager; Node and Electron do not, so the SCM gives up after 30 s
// (error 1053) and ends the process. That needs a native service host (a wrapper executable or
// addon), which the app does not ship. A boot task needs nothing but what Windows and the app
// already have: see docs/agent-service.md.
//
// Windows passes ONE command line to a program, which splits it with CommandLineToArgvW's rules
// (quoteWindowsArgument below). The packaged app must run Electron with ELECTRON_RUN_AS_NODE=1, and a
// task cannot set environment variables, so that action goes through
// `cmd.exe /d /v:off /s /c "set ELECTRON_RUN_AS_NODE=1&& <command>"`. cmd.exe expands %VAR% even
// inside double quotes and a `"` toggles its quoting, so parts holding `"`, `%` or a control character
// are refused there; every part is quoted, so & | < > ( ) ^ stay literal (delayed `!` expansion is off).
import { win32 } from 'node:path';
import { ServiceSpecError, type AgentLaunch } from './systemd';
import { quoteWindowsArg } from '../net/windows/quote';

export const TASK_NAME = 'ipfo-agent';

const CONTROL = /[\p{Cc}\u2028\u2029\p{Cs}]/u;

/** One argument quoted for CommandLineToArgvW (and the MSVC runtime's argv parser); control characters refused. */
export function quoteWindowsArgument(arg: string): string {
  if (CONTROL.test(arg.replace(/\t/g, ''))) throw new ServiceSpecError(`an argument contains a control character: ${JSON.stringify(arg)}`);
  return quoteWindowsArg(arg);
}

function checkExecutable(path: string): void {
  if (!/^[A-Za-z]:\\/.test(path) || !win32.isAbsolute(path)) throw new ServiceSpecError(`the executable must be an absolute path like C:\\..., got ${JSON.stringify(path)}`);
  if (/["\p{Cc}\u2028\u2029\p{Cs}]/u.test(path)) throw new ServiceSpecError(`the executable path contains a quote or a control character: ${JSON.stringify(path)}`);
}

/** argv[0] is split by simpler rules (quotes only, no escapes): it is always quoted and never holds a quote. */
export function windowsCommandLine(executable: string, args: readonly string[]): string {
  checkExecutable(executable);
  return [`"${executable}"`, ...args.map(quoteWindowsArgument)].join(' ');
}

/** CommandLineToArgvW, for tests and for checking what a command line means (post-2008 rules). */
export function parseWindowsCommandLine(line: string): string[] {
  const argv: string[] = [];
  let i = 0;
  // argv[0]: up to the next space or tab, quotes toggle and are removed, backslashes are literal.
  let first = '';
  let quoted = false;
  for (; i < line.length; i += 1) {
    const char = line[i]!;
    if (char === '"') quoted = !quoted;
    else if ((char === ' ' || char === '\t') && !quoted) break;
    else first += char;
  }
  argv.push(first);
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i += 1;
    if (i >= line.length) break;
    let arg = '';
    let inQuotes = false;
    while (i < line.length) {
      const char = line[i]!;
      if ((char === ' ' || char === '\t') && !inQuotes) break;
      if (char === '\\') {
        let count = 0;
        while (line[i] === '\\') {
          count += 1;
          i += 1;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(count / 2));
          if (count % 2 === 1) {
            arg += '"';
            i += 1;
          }
        } else {
          arg += '\\'.repeat(count);
        }
        continue;
      }
      if (char === '"') {
        // "" inside quotes is a literal quote (and stays in quotes).
        if (inQuotes && line[i + 1] === '"') {
          arg += '"';
          i += 2;
          continue;
        }
        inQuotes = !inQuotes;
        i += 1;
        continue;
      }
      arg += char;
      i += 1;
    }
    argv.push(arg);
  }
  return argv;
}

/** What the task runs: a program and its argument string (the task's Exec action). */
export interface TaskAction {
  command: string;
  arguments: string;
  workingDirectory: string;
}

function cmdSafePart(part: string): string {
  if (/["%\p{Cc}\u2028\u2029\p{Cs}]/u.test(part)) {
    throw new ServiceSpecError(`${JSON.stringify(part)} contains a quote, % or a control character, which cmd.exe would not take literally`);
  }
  // Always quoted (so cmd.exe's & | < > ( ) ^ are literal); trailing backslashes doubled for CommandLineToArgvW.
  return `"${part.replace(/(\\+)$/, '$1$1')}"`;
}

/** The task's action for `launch`: direct when no environment is needed, else through cmd.exe. */
export function taskAction(launch: AgentLaunch, systemRoot: string): TaskAction {
  checkExecutable(launch.executable);
  const workingDirectory = win32.dirname(launch.executable);
  const names = Object.keys(launch.env);
  if (names.length === 0) return { command: launch.executable, arguments: launch.args.map(quoteWindowsArgument).join(' '), workingDirectory };
  checkExecutable(systemRoot);
  const sets = Object.entries(launch.env).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !/^[A-Za-z0-9_.-]*$/.test(value)) throw new ServiceSpecError(`environment ${name}=${value} cannot go through cmd.exe`);
    return `set ${name}=${value}&& `;
  });
  const command = [launch.executable, ...launch.args].map(cmdSafePart).join(' ');
  return { command: win32.join(systemRoot, 'System32', 'cmd.exe'), arguments: `/d /v:off /s /c "${sets.join('')}${command}"`, workingDirectory };
}

function xml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[char]!);
}

/**
 * The task definition: at boot, as SYSTEM (S-1-5-18) with highest privileges, no time limit, restart
 * every minute on failure (the shortest interval Task Scheduler allows), normal priority (a task
 * defaults to below normal), one instance. `enabled` false registers it disabled until configured.
 */
export function taskXml(action: TaskAction, enabled: boolean): string {
  return [
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo>',
    '    <Description>IP Failover Console node agent (ipfo agent). Configuration: %ProgramData%\\ipfo\\agent.json</Description>',
    `    <URI>\\${TASK_NAME}</URI>`,
    '  </RegistrationInfo>',
    '  <Triggers>',
    '    <BootTrigger><Enabled>true</Enabled></BootTrigger>',
    '  </Triggers>',
    '  <Principals>',
    '    <Principal id="Author"><UserId>S-1-5-18</UserId><RunLevel>HighestAvailable</RunLevel></Principal>',
    '  </Principals>',
    '  <Settings>',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
    '    <AllowHardTerminate>true</AllowHardTerminate>',
    '    <StartWhenAvailable>true</StartWhenAvailable>',
    '    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>',
    '    <IdleSettings><StopOnIdleEnd>false</StopOnIdleEnd><RestartOnIdle>false</RestartOnIdle></IdleSettings>',
    '    <AllowStartOnDemand>true</AllowStartOnDemand>',
    `    <Enabled>${enabled ? 'true' : 'false'}</Enabled>`,
    '    <Hidden>false</Hidden>',
    '    <RunOnlyIfIdle>false</RunOnlyIfIdle>',
    '    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>',
    '    <Priority>5</Priority>',
    '    <RestartOnFailure><Interval>PT1M</Interval><Count>999</Count></RestartOnFailure>',
    '  </Settings>',
    '  <Actions Context="Author">',
    '    <Exec>',
    `      <Command>${xml(action.command)}</Command>`,
    `      <Arguments>${xml(action.arguments)}</Arguments>`,
    `      <WorkingDirectory>${xml(action.workingDirectory)}</WorkingDirectory>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
    '',
  ].join('\r\n');
}

/** schtasks.exe wants the XML file in UTF-16 (little endian, with a byte order mark). */
export function taskXmlBytes(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

/** Argument vectors for schtasks.exe (run with execFile, never through a shell). */
export const schtasks = {
  create: (xmlFile: string): string[] => ['/Create', '/TN', TASK_NAME, '/XML', xmlFile, '/F'],
  enable: (): string[] => ['/Change', '/TN', TASK_NAME, '/ENABLE'],
  run: (): string[] => ['/Run', '/TN', TASK_NAME],
  end: (): string[] => ['/End', '/TN', TASK_NAME],
  delete: (): string[] => ['/Delete', '/TN', TASK_NAME, '/F'],
  query: (): string[] => ['/Query', '/TN', TASK_NAME],
};
