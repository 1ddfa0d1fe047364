// The machine `ipfo agent` runs on (main/host/host.ts), chosen by platform when the agent starts: Linux
// (rtnetlink, /sys, libpcap) or Windows (PowerShell, Npcap), whose module is loaded only on win32.
import { checkTrustedPath } from '../../fs/trusted-path';
import type { Host } from '../../host/host';
import type { WindowsHostOptions } from '../../host/windows-host';

export interface AgentHost {
  host: Host;
  /** Where the lease deadline is kept (`--state-dir`; on Windows its Linux default moves under %ProgramData%). */
  stateDir: string;
  /** The predecessor's addresses are renewed with a deadline (a host that applies changes later). */
  renewWithDeadline: boolean;
  /** Ends the host's background work (Windows: the periodic listing). */
  close(): void;
}

/** The host for `platform` (process.platform). `windows`: options of the Windows host (tests inject a fake PowerShell). */
export async function openAgentHost(
  platform: NodeJS.Platform,
  options: { stateDir: string; linuxStateDir: string; log: (line: string) => void; windows?: WindowsHostOptions },
): Promise<AgentHost> {
  if (platform === 'linux') {
    // The lease deadline is trusted at the next start: its directory must be root's (or the agent's
    // user's), not writable by others, nor reached through a directory or link of theirs.
    checkTrustedPath(options.stateDir, { label: `--state-dir ${options.stateDir}` });
    const { linuxHost } = await import('../../host/linux-host.js');
    return { host: linuxHost, stateDir: options.stateDir, renewWithDeadline: false, close: () => undefined };
  }
  if (platform === 'win32') {
    const { openWindowsHost, windowsStateDir } = await import('../../host/windows-host.js');
    const host = await openWindowsHost({ log: options.log, ...options.windows });
    return { host, stateDir: windowsStateDir(options.stateDir, options.linuxStateDir), renewWithDeadline: true, close: () => host.close() };
  }
  throw new Error(`ipfo agent runs on Linux and Windows, not on ${platform}`);
}
