// `ipfo agent install|uninstall`: the agent as a system service, and `ipfo agent --config FILE`'s
// file reading. The unit, the task definition and the configuration rules are pure (main/service/);
// this file only writes files and runs systemctl / schtasks.exe (argument vectors, never a shell).
//
// Linux: writes /etc/systemd/system/ipfo-agent.service and, only when there is none, a commented
// /etc/ipfo/agent.json (both 0644, atomically: main/fs/atomic-write.ts); runs `systemctl daemon-reload` when systemd runs this system; enables and
// starts the service only with --enable. `--root DIR` writes under DIR and runs nothing (packaging,
// tests). uninstall stops, disables and removes the unit; it keeps the configuration (unless it is
// still the untouched default) and the state unless --purge.
// Windows: a boot task running as SYSTEM (main/service/windows.ts says why not a service).
import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, mkdtemp, readFile, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, win32 } from 'node:path';
import { replaceFileAtomically } from '../../fs/atomic-write';
import type { AgentServiceCommand } from '../args';
import { UsageError } from '../usage';
import { EXIT } from '../exit-codes';
import { createOutput, type Output } from '../output';
import { LINUX_CONFIG_FILE, MAX_CONFIG_BYTES, agentConfigPath, defaultAgentConfigText } from '../../service/agent-config';
import { currentRuntime, serviceLaunch } from '../../service/launch';
import { untrustedProgramProblems, untrustedProgramText } from '../../service/program-trust';
import { AGENT_DATA_SDDL, PROGRAM_DIR_SDDL, checkWindowsTrustedPath, protectWindowsDirectory } from '../../service/windows-acl';
import { UntrustedPathError } from '../../fs/trusted-path';
import { ADMIN_UNIT_DIR, UNIT_NAME, renderAgentUnit } from '../../service/systemd';
import { TASK_NAME, schtasks, taskAction, taskXml, taskXmlBytes } from '../../service/windows';

/** The installation's root: the repository, or <resources>/app.asar in the packaged app. */
export const APP_ROOT = resolve(__dirname, '..', '..', '..', '..');
const STATE_DIRS = ['/var/lib/ipfo', '/run/ipfo'];

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** Reads `ipfo agent --config FILE`: a regular, small file that only its owner (root, for root) may change. */
export async function readAgentConfigFile(file: string): Promise<string> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new UsageError(`${file}: no such configuration file (ipfo agent install writes a commented one)`);
    throw error;
  }
  if (!info.isFile()) throw new UsageError(`${file}: not a regular file`);
  if (info.size > MAX_CONFIG_BYTES) throw new UsageError(`${file}: larger than ${MAX_CONFIG_BYTES} bytes: not a configuration file`);
  if (process.platform !== 'win32') {
    // Like sshd's StrictModes: whoever can change the file decides what a privileged agent does.
    if ((info.mode & 0o022) !== 0) throw new UsageError(`${file}: writable by group or others (chmod go-w ${file})`);
    const uid = process.getuid?.();
    if (uid === 0 && info.uid !== 0) throw new UsageError(`${file}: the agent runs as root, so its configuration must be owned by root (owner uid ${info.uid})`);
  } else {
    // The same rule in ACLs: owner and writers SYSTEM or Administrators, the folders above too (main/service/windows-acl.ts).
    await checkWindowsTrustedPath(file, { label: file });
  }
  return readFile(file, 'utf8');
}

function run(program: string, args: readonly string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((done) => {
    execFile(program, [...args], { timeout: 60_000, windowsHide: true }, (error, stdout, stderr) => {
      done({ ok: error === null, output: `${stdout}${stderr}`.trim() || (error?.message ?? '') });
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The unit and the configuration: 0644 whatever the umask (readable by all, writable by the owner only: the agent refuses a configuration others may write). */
const SYSTEM_FILE = { mode: 0o644, directoryMode: 0o755 };

async function removeIfEmpty(dir: string): Promise<boolean> {
  try {
    if ((await readdir(dir)).length > 0) return false;
    await rmdir(dir);
    return true;
  } catch {
    return false;
  }
}

/** systemctl only where systemd runs this system (not in a container without it, not under --root). */
async function systemctlPath(): Promise<string | null> {
  if (!(await exists('/run/systemd/system'))) return null;
  for (const candidate of ['/usr/bin/systemctl', '/bin/systemctl']) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

async function linuxInstall(command: AgentServiceCommand, out: Output): Promise<number> {
  const under = (path: string): string => (command.root === null ? path : join(command.root, path));
  const launch = serviceLaunch({ ...currentRuntime(APP_ROOT), platform: 'linux', configFile: LINUX_CONFIG_FILE });
  try {
    await access(launch.executable, constants.X_OK);
  } catch {
    throw new UsageError(`the runtime ${launch.executable} is not an executable file: the unit could not start it`);
  }
  // existsSync: Electron's asar support covers the synchronous calls for certain (the entry is inside app.asar).
  if (!existsSync(launch.args[0]!)) throw new UsageError(`the ipfo entry ${launch.args[0]!} does not exist`);
  // The unit runs this runtime and tree as root: refused when others can change them (a source
  // checkout of a user's); under --root (packaging, tests) only a warning, the tree is not final.
  const program = { executable: launch.executable, appRoot: APP_ROOT };
  const problems = untrustedProgramProblems(program);
  if (problems.length > 0) {
    const text = untrustedProgramText(program, problems, `the service ${UNIT_NAME}`);
    if (command.root === null) throw new UsageError(text);
    out.note(`warning: ${text}`);
  }
  const unit = renderAgentUnit({ launch });
  const unitFile = under(join(ADMIN_UNIT_DIR, UNIT_NAME));
  await replaceFileAtomically(unitFile, unit, SYSTEM_FILE);
  out.record({ event: 'wrote', file: unitFile, what: 'unit' }, `wrote ${unitFile}`);

  const configFile = under(LINUX_CONFIG_FILE);
  if (await exists(configFile)) {
    out.record({ event: 'kept', file: configFile, what: 'config' }, `kept ${configFile} (an existing configuration is never overwritten)`);
  } else {
    await replaceFileAtomically(configFile, defaultAgentConfigText('linux'), SYSTEM_FILE);
    out.record({ event: 'wrote', file: configFile, what: 'config' }, `wrote ${configFile} (every setting commented out: set "node" at least)`);
  }

  const systemctl = command.root === null ? await systemctlPath() : null;
  if (systemctl !== null) {
    const reload = await run(systemctl, ['daemon-reload']);
    if (!reload.ok) throw new Error(`systemctl daemon-reload failed: ${reload.output}`);
    out.record({ event: 'ran', argv: ['systemctl', 'daemon-reload'] }, 'ran systemctl daemon-reload');
    if (command.enable) {
      const enable = await run(systemctl, ['enable', '--now', UNIT_NAME]);
      if (!enable.ok) throw new Error(`systemctl enable --now ${UNIT_NAME} failed: ${enable.output}`);
      out.record({ event: 'ran', argv: ['systemctl', 'enable', '--now', UNIT_NAME] }, `ran systemctl enable --now ${UNIT_NAME}`);
    }
  } else if (command.enable) {
    throw new UsageError('--enable: systemd does not run this system (no /run/systemd/system or no systemctl); the unit is written but not enabled');
  }
  if (!command.enable) {
    out.note(`the service is installed disabled: edit ${LINUX_CONFIG_FILE}, then run: systemctl enable --now ${UNIT_NAME.replace(/\.service$/, '')}`);
  }
  return EXIT.ok;
}

async function linuxUninstall(command: AgentServiceCommand, out: Output): Promise<number> {
  const under = (path: string): string => (command.root === null ? path : join(command.root, path));
  const systemctl = command.root === null ? await systemctlPath() : null;
  if (systemctl !== null) {
    // Not an error when the unit is not loaded or not enabled: uninstall is idempotent.
    const disable = await run(systemctl, ['disable', '--now', UNIT_NAME]);
    out.record({ event: 'ran', argv: ['systemctl', 'disable', '--now', UNIT_NAME], ok: disable.ok }, `ran systemctl disable --now ${UNIT_NAME}${disable.ok ? '' : ` (${disable.output})`}`);
  }
  const unitFile = under(join(ADMIN_UNIT_DIR, UNIT_NAME));
  if (await exists(unitFile)) {
    await rm(unitFile);
    out.record({ event: 'removed', file: unitFile, what: 'unit' }, `removed ${unitFile}`);
  }
  if (systemctl !== null) await run(systemctl, ['daemon-reload']);

  const configFile = under(LINUX_CONFIG_FILE);
  if (await exists(configFile)) {
    const untouched = (await readFile(configFile, 'utf8')) === defaultAgentConfigText('linux');
    if (command.purge || untouched) {
      await rm(configFile);
      out.record({ event: 'removed', file: configFile, what: 'config' }, `removed ${configFile}${untouched ? ' (the untouched default)' : ''}`);
    } else {
      out.record({ event: 'kept', file: configFile, what: 'config' }, `kept ${configFile} (--purge removes it)`);
    }
  }
  await removeIfEmpty(dirname(configFile));
  if (command.purge) {
    for (const dir of STATE_DIRS.map(under)) {
      if (!(await exists(dir))) continue;
      await rm(dir, { recursive: true, force: true });
      out.record({ event: 'removed', file: dir, what: 'state' }, `removed ${dir}`);
    }
  }
  return EXIT.ok;
}

function windowsPaths(): { programData: string; systemRoot: string; schtasksExe: string } {
  const programData = process.env.ProgramData ?? process.env.PROGRAMDATA;
  const systemRoot = process.env.SystemRoot ?? process.env.SYSTEMROOT;
  if (programData === undefined || systemRoot === undefined) throw new UsageError('%ProgramData% or %SystemRoot% is not set');
  return { programData, systemRoot, schtasksExe: win32.join(systemRoot, 'System32', 'schtasks.exe') };
}

async function schtasksRun(exe: string, args: string[], out: Output, required = true): Promise<void> {
  const result = await run(exe, args);
  if (!result.ok && required) throw new Error(`schtasks ${args.join(' ')} failed: ${result.output}`);
  out.record({ event: 'ran', argv: ['schtasks', ...args], ok: result.ok }, `ran schtasks ${args.join(' ')}${result.ok ? '' : ` (${result.output})`}`);
}

async function windowsInstall(command: AgentServiceCommand, out: Output): Promise<number> {
  const { programData, systemRoot, schtasksExe } = windowsPaths();
  const configFile = agentConfigPath('win32', programData);
  // %ProgramData%\ipfo would inherit "Users may create files" from %ProgramData%: its own ACL first
  // (SYSTEM and Administrators only, inheritance removed), before anything is written into it.
  const dataDir = win32.dirname(configFile);
  await protectWindowsDirectory(dataDir, AGENT_DATA_SDDL, { systemRoot });
  out.record({ event: 'protected', file: dataDir, sddl: AGENT_DATA_SDDL }, `gave ${dataDir} an ACL of SYSTEM and Administrators only`);
  await checkWindowsProgram(systemRoot, out);
  if (await exists(configFile)) {
    out.record({ event: 'kept', file: configFile, what: 'config' }, `kept ${configFile}`);
  } else {
    await replaceFileAtomically(configFile, defaultAgentConfigText('win32', programData), SYSTEM_FILE);
    out.record({ event: 'wrote', file: configFile, what: 'config' }, `wrote ${configFile} (set "node" at least)`);
  }
  const launch = serviceLaunch({ ...currentRuntime(APP_ROOT), platform: 'win32', configFile });
  const xml = taskXml(taskAction(launch, systemRoot), command.enable);
  const dir = await mkdtemp(join(tmpdir(), 'ipfo-task-'));
  try {
    const file = join(dir, `${TASK_NAME}.xml`);
    await writeFile(file, taskXmlBytes(xml));
    await schtasksRun(schtasksExe, schtasks.create(file), out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (command.enable) await schtasksRun(schtasksExe, schtasks.run(), out);
  else out.note(`the boot task is installed disabled: edit ${configFile}, then: schtasks /Change /TN ${TASK_NAME} /ENABLE and schtasks /Run /TN ${TASK_NAME}`);
  return EXIT.ok;
}

/**
 * The boot task runs this runtime and tree as SYSTEM: a custom installation folder (outside
 * %ProgramFiles%) inherits Modify for Authenticated Users from C:\. Such a folder of the packaged app
 * gets PROGRAM_DIR_SDDL; anything still open to others (a source checkout) is refused.
 */
async function checkWindowsProgram(systemRoot: string, out: Output): Promise<void> {
  const runtime = currentRuntime(APP_ROOT);
  const paths = [runtime.execPath, APP_ROOT];
  try {
    for (const path of paths) await checkWindowsTrustedPath(path, { label: `the program ${path}`, systemRoot });
    return;
  } catch (error) {
    if (!(error instanceof UntrustedPathError) || !runtime.electron || runtime.resourcesPath === null) throw toUsage(error);
  }
  const installDir = win32.dirname(runtime.execPath);
  await protectWindowsDirectory(installDir, PROGRAM_DIR_SDDL, { systemRoot });
  out.record({ event: 'protected', file: installDir, sddl: PROGRAM_DIR_SDDL }, `gave ${installDir} an ACL of SYSTEM and Administrators (Users may read and run it)`);
  try {
    for (const path of paths) await checkWindowsTrustedPath(path, { label: `the program ${path}`, systemRoot });
  } catch (error) {
    throw toUsage(error);
  }
}

function toUsage(error: unknown): unknown {
  return error instanceof UntrustedPathError ? new UsageError(`the boot task would run as SYSTEM code that others can change: ${error.message}`) : error;
}

async function windowsUninstall(command: AgentServiceCommand, out: Output): Promise<number> {
  const { programData, schtasksExe } = windowsPaths();
  await schtasksRun(schtasksExe, schtasks.end(), out, false);
  await schtasksRun(schtasksExe, schtasks.delete(), out, false);
  const configFile = agentConfigPath('win32', programData);
  if (command.purge) {
    const dir = win32.dirname(configFile);
    await rm(dir, { recursive: true, force: true });
    out.record({ event: 'removed', file: dir, what: 'config and state' }, `removed ${dir}`);
  } else if ((await exists(configFile)) && (await readFile(configFile, 'utf8')) === defaultAgentConfigText('win32', programData)) {
    await rm(configFile);
    out.record({ event: 'removed', file: configFile, what: 'config' }, `removed ${configFile} (the untouched default)`);
  }
  return EXIT.ok;
}

export async function agentServiceCommand(command: AgentServiceCommand): Promise<number> {
  const out = createOutput(command.json);
  if (process.platform === 'win32') {
    if (command.root !== null) throw new UsageError('--root is for Linux packaging and tests');
    return command.action === 'install' ? windowsInstall(command, out) : windowsUninstall(command, out);
  }
  if (process.platform !== 'linux') throw new UsageError(`ipfo agent ${command.action}: not supported on ${process.platform}`);
  if (command.root === null && process.getuid?.() !== 0) {
    // EACCES: exit 4, the environment lacks a permission (not bad input).
    throw Object.assign(new Error(`ipfo agent ${command.action} changes the system: run it as root (or with --root DIR)`), { code: 'EACCES' });
  }
  return command.action === 'install' ? linuxInstall(command, out) : linuxUninstall(command, out);
}
