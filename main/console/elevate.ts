// Starts the local agent as root through the OS password prompt (@vscode/sudo-prompt: pkexec or
// kdesudo on Linux), by running the launcher (launch-agent.ts) with the command elevation.ts
// builds. A declined prompt is an answer ('cancelled'), not an error.
import { resolve } from 'node:path';
import { buildElevatedCommand, classifyElevationError, ELEVATION_PROMPT_NAME, isSafeWorkingDirectory, type ElevationPlatform } from './elevation';
import { launchFromReport, parseLaunchReport, type LocalAgentLaunch } from './launch-report';
import type { LocalAgentSettings } from './local-agent';
import { untrustedProgramProblems, untrustedProgramText } from '../service/program-trust';

/** build/main/console/launch-agent.js, next to this file once compiled. */
export const LAUNCHER_SCRIPT = resolve(__dirname, 'launch-agent.js');
/** The installation's root (the repository, or <resources>/app.asar): what runs as root. */
const APP_ROOT = resolve(__dirname, '..', '..', '..');

export interface ElevationHost {
  platform: NodeJS.Platform;
  /** process.execPath: node, or the Electron binary. */
  executable: string;
  /** The executable is Electron (process.versions.electron is set). */
  isElectron: boolean;
}

export function currentElevationHost(): ElevationHost {
  return { platform: process.platform, executable: process.execPath, isElectron: process.versions.electron !== undefined };
}

function supported(platform: NodeJS.Platform): platform is ElevationPlatform {
  // The agent needs rtnetlink and libpcap: Linux only so far (elevation.ts also quotes for the others).
  return platform === 'linux';
}

/** Asks for the administrator password, then starts (or finds) the local agent and returns its token. */
export async function startLocalAgentElevated(settings: LocalAgentSettings, host: ElevationHost = currentElevationHost()): Promise<LocalAgentLaunch> {
  if (!supported(host.platform)) {
    return { outcome: 'unsupported', detail: `the agent runs on Linux only; on ${host.platform} connect to a remote cluster` };
  }
  const built = buildElevatedCommand({
    platform: host.platform,
    executable: host.executable,
    runAsNode: host.isElectron,
    launcher: LAUNCHER_SCRIPT,
    node: settings.node,
    storeDir: settings.storeDir,
    port: settings.port,
    tokenFile: settings.tokenFile,
  });
  if (!built.ok) return { outcome: 'failed', detail: `cannot start the local agent safely: ${built.problem}` };
  // The prompt runs the launcher and the agent as root from this installation: not when others can change it.
  const program = { executable: host.executable, appRoot: APP_ROOT };
  const problems = untrustedProgramProblems(program);
  if (problems.length > 0) return { outcome: 'failed', detail: untrustedProgramText(program, problems, 'the password prompt') };
  // sudo-prompt writes the working directory into its shell line; all our paths are absolute.
  if (!isSafeWorkingDirectory(host.platform, process.cwd())) process.chdir('/');
  const sudo = await import('@vscode/sudo-prompt');
  const options = built.elevated.env === undefined ? { name: ELEVATION_PROMPT_NAME } : { name: ELEVATION_PROMPT_NAME, env: built.elevated.env };
  return new Promise<LocalAgentLaunch>((done) => {
    sudo.exec(built.elevated.command, options, (error, stdout) => {
      const text = typeof stdout === 'string' ? stdout : (stdout?.toString('utf8') ?? '');
      if (error !== undefined && error !== null) {
        const failure = classifyElevationError(error);
        if (failure.kind === 'cancelled') done({ outcome: 'cancelled', detail: 'the password prompt was cancelled; no agent was started' });
        else if (failure.kind === 'no-prompt-program') {
          done({ outcome: 'failed', detail: `no graphical password prompt is available (${failure.detail}); start the agent as root instead: sudo npm start` });
        } else done(launchOrFailure(text, failure.detail));
        return;
      }
      done(launchFromReport(parseLaunchReport(text)));
    });
  });
}

/** A failed command may still have printed its report (a crash after it would not hide it). */
function launchOrFailure(stdout: string, detail: string): LocalAgentLaunch {
  const report = parseLaunchReport(stdout);
  return report === null ? { outcome: 'failed', detail: `the elevated launcher failed: ${detail.slice(0, 500)}` } : launchFromReport(report);
}
