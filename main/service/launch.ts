// Which program a system service runs to start the agent: the app's own runtime, never a `node` the
// service manager would have to find on PATH. Pure: the caller passes the facts of the running process.
//
//   packaged app  (appRoot = <resources>/app.asar):  <Electron binary> <resources>/app.asar/bin/ipfo agent --config F
//                 with ELECTRON_RUN_AS_NODE=1 (Electron's Node mode reads scripts inside app.asar)
//   source checkout (appRoot = the repository):       <process.execPath> <repo>/bin/ipfo agent --config F
//                 (Electron-as-Node from node_modules also works: the same variable is set)
import { posix, win32 } from 'node:path';
import type { AgentLaunch } from './systemd';

export type ServicePlatform = 'linux' | 'win32';

export interface RuntimeFacts {
  platform: ServicePlatform;
  /** process.execPath: node, or the Electron binary. */
  execPath: string;
  /** process.versions.electron is set: the runtime is Electron (running as Node). */
  electron: boolean;
  /** process.resourcesPath when Electron sets it (packaged app), else null. */
  resourcesPath: string | null;
  /** The directory holding bin/ipfo and build/: the repository, or <resources>/app.asar. */
  appRoot: string;
}

export interface ServiceLaunchFacts extends RuntimeFacts {
  /** The configuration file the service reads (absolute). */
  configFile: string;
}

/** bin/ipfo of the running installation: inside app.asar when packaged. */
export function ipfoEntry(facts: RuntimeFacts): string {
  const path = facts.platform === 'win32' ? win32 : posix;
  // In a packaged app the entry sits in the archive next to resources/; resourcesPath says where that is.
  if (facts.electron && facts.resourcesPath !== null && path.basename(facts.appRoot) === 'app.asar') {
    return path.join(facts.resourcesPath, 'app.asar', 'bin', 'ipfo');
  }
  return path.join(facts.appRoot, 'bin', 'ipfo');
}

/** The command a service runs: this runtime, this installation's ipfo, `agent --config F`. */
export function serviceLaunch(facts: ServiceLaunchFacts): AgentLaunch {
  const path = facts.platform === 'win32' ? win32 : posix;
  for (const [what, value] of [['the runtime', facts.execPath], ['the application directory', facts.appRoot], ['the configuration file', facts.configFile]] as const) {
    if (!path.isAbsolute(value)) throw new Error(`${what} must be an absolute path, got ${JSON.stringify(value)}`);
  }
  return {
    executable: facts.execPath,
    args: [ipfoEntry(facts), 'agent', '--config', facts.configFile],
    env: facts.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {},
  };
}

/** The facts of this process. */
export function currentRuntime(appRoot: string): RuntimeFacts {
  const resources = (process as { resourcesPath?: unknown }).resourcesPath;
  return {
    platform: process.platform === 'win32' ? 'win32' : 'linux',
    execPath: process.execPath,
    electron: typeof process.versions.electron === 'string',
    resourcesPath: typeof resources === 'string' && resources !== '' ? resources : null,
    appRoot,
  };
}
