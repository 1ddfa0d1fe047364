// The agent's systemd unit, rendered from the command that starts the agent. Pure: no I/O.
//
// systemd does not parse ExecStart= like a shell. Words split at whitespace; "double quotes" group a
// word and C escapes (\\, \") work inside them; `%` starts a specifier everywhere (`%%` is a literal
// percent sign); `$NAME` and `${NAME}` are expanded from the environment in ARGUMENTS (`$$` is a
// literal dollar sign) but not in the executable path, where `$` is literal. systemd refuses an
// executable path holding a quote or a backslash ("Executable name contains special characters"),
// so those are refused here too, and so is every control character (a newline would end the line and
// start a new setting). Checked against systemd 252's `systemd-analyze verify`
// (test/lab/agent-service.test.ts).

export const UNIT_NAME = 'ipfo-agent.service';
/** Where `ipfo agent install` writes the unit (an administrator's unit; the deb ships one in /lib). */
export const ADMIN_UNIT_DIR = '/etc/systemd/system';
/** Where the deb package installs its unit (resources/linux/ipfo-agent.service). */
export const PACKAGE_UNIT_DIR = '/lib/systemd/system';

export class ServiceSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceSpecError';
  }
}

/** What starts the agent: `executable` with `args`, and environment variables for it. */
export interface AgentLaunch {
  /** Absolute path of the program: node, or the Electron binary running as Node. */
  executable: string;
  /** Its arguments: the ipfo entry script, then `agent --config FILE`. */
  args: string[];
  /** Extra environment, e.g. { ELECTRON_RUN_AS_NODE: '1' }. */
  env: Record<string, string>;
}

// C0/C1 controls, DEL, line/paragraph separators, lone surrogates (not valid UTF-8).
const CONTROL = /[\p{Cc}\u2028\u2029\p{Cs}]/u;

function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

function controlProblem(what: string, text: string): string | null {
  const match = CONTROL.exec(text);
  return match === null ? null : `${what} contains the control character ${describeChar(match[0])}, which a unit file cannot hold`;
}

/** The executable path as an ExecStart= word (quoted, `%` doubled). Throws for what systemd refuses. */
export function quoteSystemdExecutable(path: string): string {
  const control = controlProblem('the executable path', path);
  if (control !== null) throw new ServiceSpecError(control);
  if (!path.startsWith('/')) throw new ServiceSpecError(`the executable path must be absolute, got ${JSON.stringify(path)}`);
  const special = /["'\\]/.exec(path);
  if (special !== null) throw new ServiceSpecError(`the executable path contains ${JSON.stringify(special[0])}, which systemd refuses in an executable name: ${JSON.stringify(path)}`);
  if (path.split('/').some((segment, index, all) => segment === '.' || segment === '..' || (segment === '' && index > 0 && index < all.length - 1))) {
    throw new ServiceSpecError(`the executable path must be normalized (no ".", ".." or "//"): ${JSON.stringify(path)}`);
  }
  return `"${path.replaceAll('%', '%%')}"`;
}

/** One ExecStart= argument, quoted so that systemd passes exactly `arg` to the program. */
export function quoteSystemdArgument(arg: string): string {
  const control = controlProblem('an argument', arg);
  if (control !== null) throw new ServiceSpecError(control);
  // Plain words stay readable (agent, --config, /etc/ipfo/agent.json); everything else is quoted.
  if (/^[A-Za-z0-9_./:,=+@-]+$/.test(arg)) return arg;
  const escaped = arg.replace(/[\\"]/g, (char) => `\\${char}`).replaceAll('%', '%%').replaceAll('$', '$$$$');
  return `"${escaped}"`;
}

/** The ExecStart= value for `launch`. */
export function systemdCommandLine(launch: Pick<AgentLaunch, 'executable' | 'args'>): string {
  return [quoteSystemdExecutable(launch.executable), ...launch.args.map(quoteSystemdArgument)].join(' ');
}

/** An Environment= assignment, quoted as a whole ("NAME=value"). Names are plain identifiers. */
export function systemdEnvironment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ServiceSpecError(`invalid environment variable name ${JSON.stringify(name)}`);
  const control = controlProblem(`the value of ${name}`, value);
  if (control !== null) throw new ServiceSpecError(control);
  const assignment = `${name}=${value}`;
  if (/^[A-Za-z0-9_./:,=+@-]+$/.test(assignment)) return assignment;
  return `"${assignment.replace(/[\\"]/g, (char) => `\\${char}`).replaceAll('%', '%%')}"`;
}

/** The two capabilities the agent needs: ARP sockets (CAP_NET_RAW), addresses and net sysctls (CAP_NET_ADMIN). */
export const AGENT_CAPABILITIES = ['CAP_NET_RAW', 'CAP_NET_ADMIN'] as const;
/** Sockets the agent opens: API and etcd (inet), rtnetlink (netlink), ARP (packet), local IPC (unix). */
export const AGENT_ADDRESS_FAMILIES = ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_PACKET'] as const;

/** The unit's SystemCallFilter= allow list. */
export const AGENT_SYSCALL_FILTER = '@system-service @pkey';

export interface UnitOptions {
  launch: AgentLaunch;
  /** Extra writable paths (a file store or token file outside /var/lib/ipfo and /run/ipfo). */
  readWritePaths?: readonly string[];
  /** Who wrote the file (first comment line); default `ipfo agent install`. */
  writtenBy?: string;
}

/** The deb package's layout (electron-builder: /opt/<productName>/<executableName>, the app in resources/app.asar). */
export const DEB_LAUNCH: AgentLaunch = {
  executable: '/opt/IP Failover Console/ip-failover-console',
  args: ['/opt/IP Failover Console/resources/app.asar/bin/ipfo', 'agent', '--config', '/etc/ipfo/agent.json'],
  env: { ELECTRON_RUN_AS_NODE: '1' },
};
export const DEB_WRITTEN_BY = 'the ip-failover-console package (resources/linux/ipfo-agent.service)';

function readWritePath(path: string): string {
  const control = controlProblem('a writable path', path);
  if (control !== null) throw new ServiceSpecError(control);
  if (!path.startsWith('/')) throw new ServiceSpecError(`a writable path must be absolute, got ${JSON.stringify(path)}`);
  // ReadWritePaths= is a space-separated list with the same quoting as ExecStart= (no $ expansion).
  if (/^[A-Za-z0-9_./:,=+@-]+$/.test(path)) return path;
  return `"${path.replace(/[\\"]/g, (char) => `\\${char}`).replaceAll('%', '%%')}"`;
}

/** Directories ProtectHome=yes hides; a source checkout or a runtime there needs ProtectHome=read-only. */
const HOME_DIRS = ['/home', '/root', '/run/user'];

/** yes, unless the program or its script lives under a home directory (then read-only: it must be readable). */
export function protectHomeFor(launch: Pick<AgentLaunch, 'executable' | 'args'>): 'yes' | 'read-only' {
  const paths = [launch.executable, ...launch.args.filter((arg) => arg.startsWith('/'))];
  return paths.some((path) => HOME_DIRS.some((dir) => path === dir || path.startsWith(`${dir}/`))) ? 'read-only' : 'yes';
}

/** The unit file's text. Every line is fixed or built from a quoted, checked value. */
export function renderAgentUnit(options: UnitOptions): string {
  const { launch } = options;
  const environment = Object.entries(launch.env).map(([name, value]) => `Environment=${systemdEnvironment(name, value)}`);
  const writable = (options.readWritePaths ?? []).map(readWritePath);
  const lines = [
    `# The IP Failover Console node agent (\`ipfo agent\`). Written by ${options.writtenBy ?? '`ipfo agent install`'}; see docs/agent-service.md.`,
    '# Configure the agent in /etc/ipfo/agent.json, then: systemctl enable --now ipfo-agent',
    '# Local changes belong in a drop-in (systemctl edit ipfo-agent), not in this file.',
    '[Unit]',
    'Description=IP Failover Console node agent',
    'After=network-online.target',
    'Wants=network-online.target',
    // A crash loop stops after 10 starts in 2 minutes instead of hammering the store forever.
    'StartLimitIntervalSec=120',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=simple',
    ...environment,
    `ExecStart=${systemdCommandLine(launch)}`,
    'Restart=on-failure',
    'RestartSec=1',
    // Exit 2 is bad input (a missing or invalid /etc/ipfo/agent.json): restarting cannot fix it.
    'RestartPreventExitStatus=2',
    // SIGTERM hands every address to another node first; give it time before SIGKILL.
    'TimeoutStopSec=30',
    // Root, bounded to the two network capabilities (docs/agent-service.md says why not DynamicUser).
    `AmbientCapabilities=${AGENT_CAPABILITIES.join(' ')}`,
    `CapabilityBoundingSet=${AGENT_CAPABILITIES.join(' ')}`,
    'NoNewPrivileges=yes',
    // /etc/ipfo (read-only), /var/lib/ipfo (store, token), /run/ipfo (lease deadline: kept across restarts).
    'ConfigurationDirectory=ipfo',
    'StateDirectory=ipfo',
    'StateDirectoryMode=0700',
    'RuntimeDirectory=ipfo',
    'RuntimeDirectoryMode=0700',
    'RuntimeDirectoryPreserve=yes',
    'UMask=0077',
    'ProtectSystem=strict',
    ...(writable.length > 0 ? [`ReadWritePaths=${writable.join(' ')}`] : []),
    `ProtectHome=${protectHomeFor(launch)}`,
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    // Other users' processes hidden in /proc (the file store's lock checks a root process: visible);
    // mounts made inside stay inside.
    'ProtectProc=invisible',
    'PrivateMounts=yes',
    // The system calls of an ordinary service, and memory protection keys (V8 allocates one at start);
    // test/lab/agent-service.test.ts traces a real agent taking and handing over an address and checks
    // each call it makes is in this set. One outside fails with EPERM instead of killing the agent.
    `SystemCallFilter=${AGENT_SYSCALL_FILTER}`,
    'SystemCallErrorNumber=EPERM',
    'SystemCallArchitectures=native',
    `RestrictAddressFamilies=${AGENT_ADDRESS_FAMILIES.join(' ')}`,
    // Not set on purpose: ProtectKernelTunables (the agent turns on net.ipv4.conf.<if>.promote_secondaries),
    // MemoryDenyWriteExecute (V8 compiles JavaScript to machine code), PrivateNetwork/IPAddressDeny (it is a network agent).
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}
