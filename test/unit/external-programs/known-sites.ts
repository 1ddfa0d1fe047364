// What the external-programs scanner knows about the ways this code base starts programs. Everything
// here is data: scan.ts applies it. A launch whose program it cannot work out from this data and the
// source itself is reported as not understood, so a new kind of call site fails the test instead of
// being skipped — extend these tables (with the reason) when you add one.

/** child_process functions that take (program, argv): the program is argument 0. */
export const DIRECT_LAUNCHERS: ReadonlySet<string> = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync']);

/** child_process functions that always start Node itself (fork runs a module with process.execPath). */
export const NODE_LAUNCHERS: ReadonlySet<string> = new Set(['fork']);

/** child_process values a file may import; anything else (exec, execSync: shell strings) is not understood. */
export const CHILD_PROCESS_IMPORTS: ReadonlySet<string> = new Set([...DIRECT_LAUNCHERS, ...NODE_LAUNCHERS]);

/** Project wrappers called by bare name everywhere, as (program, argv) — test/lab/netns.ts. */
export const PROGRAM_WRAPPERS: ReadonlySet<string> = new Set(['runCommand', 'runCommandSync']);

/** Project wrappers that always run one program with the argv in argument 0 — test/lab/netns.ts. */
export const FIXED_PROGRAM_WRAPPERS: ReadonlyMap<string, string> = new Map([
  ['ip', 'ip'],
  ['bridgeCommand', 'bridge'],
]);

/** The lab's methods that run argv (argument 1) inside a namespace through `ip netns exec` — test/lab/lab.ts. */
export const LAB_ARGV_METHODS: ReadonlySet<string> = new Set(['spawn', 'run']);

/** Receivers of LAB_ARGV_METHODS: `lab.run(…)`, `this.lab.spawn(…)`, `cluster.lab.spawn(…)`, and `this` inside the Lab class. */
export const LAB_RECEIVER = /(^|\.)lab$/;
export const LAB_CLASS_FILE = 'test/lab/lab.ts';

/** Wrappers local to one file, keyed `file#name`: where their program or argv argument is. */
export const FILE_WRAPPERS: ReadonlyMap<string, { program?: number; argv?: number }> = new Map([
  // run(argv): execFile(argv[0], argv.slice(1)).
  ['test/lab/agent-service.test.ts#run', { argv: 0 }],
  ['test/lab/local-attacker.test.ts#run', { argv: 0 }],
  // run(program, args) and schtasksRun(exe, args): execFile(program, args).
  ['main/cli/commands/agent-service.ts#run', { program: 0, argv: 1 }],
  ['main/cli/commands/agent-service.ts#schtasksRun', { program: 0, argv: 1 }],
  // run(command, args): spawn(command, args) — `npm run build:native`, and the runtime.
  ['main/console/start.ts#run', { program: 0, argv: 1 }],
]);

/** Functions that return an argv starting with process.execPath (the Node runtime running our JS). */
export const NODE_ARGV_BUILDERS: ReadonlySet<string> = new Set(['ipfoArgv', 'toolArgv']);

/** Programs that run another program named further along their argv; how to skip their own options. */
export const RUNNERS: ReadonlyMap<string, { optionsWithValue: ReadonlySet<string>; assignments?: boolean }> = new Map([
  ['setsid', { optionsWithValue: new Set<string>() }],
  ['setpriv', { optionsWithValue: new Set<string>() }],
  ['strace', { optionsWithValue: new Set(['-e', '-o', '-p', '-s', '-u', '-P']) }],
  ['env', { optionsWithValue: new Set(['-u', '-C']), assignments: true }],
]);

/** What a computed program (or argv) expression at a known site stands for, and why it cannot be read from the source. */
export interface ComputedSite {
  /** Programs it can run; collected like any other. Empty when the programs are collected elsewhere. */
  programs: readonly string[];
  /** Runs the Node runtime (or Electron as Node): presupposed, not a package. */
  runtime?: boolean;
  /** Never runs on Linux (Windows-only code): not checked against Debian packages. */
  windowsOnly?: boolean;
  why: string;
}

/** Keyed `file#expression text` (the expression exactly as written at the call site). */
export const COMPUTED_SITES: ReadonlyMap<string, ComputedSite> = new Map<string, ComputedSite>([
  ['test/lab/netns.ts#file', { programs: [], why: 'runCommand/runCommandSync parameter; every caller is scanned as a launcher' }],
  ['test/lab/lab.ts#argv', { programs: [], why: 'Lab.spawn/run parameter; every lab.spawn/lab.run caller is scanned' }],
  ['test/lab/etcd.ts#file', { programs: [], why: 'wrap([ETCD_BIN | ETCDCTL_BIN, …]): the binary itself or `ip netns exec`; ETCD_BIN, ETCDCTL_BIN and ip are collected from their own literals' }],
  ['test/lab/agent-service.test.ts#argv[0]!', { programs: [], why: 'the local run(argv) wrapper; its callers are scanned' }],
  ['test/lab/agent-service.test.ts#program!', { programs: [], runtime: true, why: 'destructured from ipfoArgv(…): process.execPath' }],
  ['test/lab/local-attacker.test.ts#argv[0]!', { programs: [], why: 'the local run(argv) wrapper; its callers are scanned' }],
  ['test/lab/local-attacker.test.ts#program!', { programs: [], runtime: true, why: 'destructured from ipfoArgv(…): process.execPath' }],
  ['test/lab/agent-service.test.ts#SYSTEMD_ANALYZE', { programs: ['systemd-analyze'], why: 'the first of /usr/bin and /bin that exists (usrmerge)' }],
  ['main/cli/commands/agent-service.ts#program', { programs: [], why: 'the local run(program, args) wrapper; its callers are scanned' }],
  ['main/cli/commands/agent-service.ts#systemctl', { programs: ['systemctl'], why: 'systemctlPath(): /usr/bin/systemctl or /bin/systemctl, only where systemd runs' }],
  ['main/cli/commands/agent-service.ts#schtasksExe', { programs: ['schtasks.exe'], windowsOnly: true, why: '%SystemRoot%\\System32\\schtasks.exe on Windows' }],
  ['main/cli/commands/agent-service.ts#exe', { programs: [], why: 'schtasksRun(exe, …) parameter; its callers are scanned' }],
  ['main/net/windows/backend.ts#command.file', { programs: ['powershell.exe', 'netsh.exe'], windowsOnly: true, why: 'absolute System32 paths built in main/net/windows/commands.ts' }],
  ['main/console/start.ts#electron.path', { programs: [], runtime: true, why: "npm's electron package's binary (findElectronBinary), the runtime the console presupposes" }],
  ['main/console/start.ts#command', { programs: [], why: 'run(command, args) parameter: callers pass "npm" or process.execPath, the runtime' }],
  ['test/bench/watch-measure.ts#helper', { programs: [], why: 'a C helper compiled at run time by compileC (its cc is collected in test/lab/tools/arp-flood.ts)' }],
  ['test/bench/watch-measure.ts#arpFloodArgv(…)', { programs: [], why: 'arp-flood, a C helper compiled at run time by compileC (cc collected there)' }],
  ['test/lab/standby-busy.test.ts#arpFloodArgv(…)', { programs: [], why: 'arp-flood, a C helper compiled at run time by compileC (cc collected there)' }],
  ['test/bench/detect.bench.ts#arpFloodArgv(…)', { programs: [], why: 'arp-flood, a C helper compiled at run time by compileC (cc collected there)' }],
  ['test/bench/storm.bench.ts#arpFloodArgv(…)', { programs: [], why: 'arp-flood, a C helper compiled at run time by compileC (cc collected there)' }],
  ['test/lab/cluster-storm.test.ts#arpFloodArgv(…)', { programs: [], why: 'arp-flood, a C helper compiled at run time by compileC (cc collected there)' }],
  ['test/lab/watch-fold.test.ts#arpFloodArgv(…)', { programs: [], why: 'arp-flood, a C helper compiled at run time by compileC (cc collected there)' }],
  ['test/lab/browser.ts#wrapper', { programs: ['sh', 'ip', 'chromium'], why: 'a #!/bin/sh script written at run time that execs `ip netns exec <ns> /usr/bin/chromium`' }],
  ['test/lab/demo.test.ts#CHROMIUM_PATH', { programs: ['chromium'], why: "browser.ts's CHROMIUM_PATH: Debian's /usr/bin/chromium, in the host's namespace" }],
  ['test/lab/console-first-screen.test.ts#CHROMIUM_PATH', { programs: ['chromium'], why: "browser.ts's CHROMIUM_PATH: Debian's /usr/bin/chromium, in the host's namespace (no lab: the bench's synthetic cluster)" }],
  ['test/bench/svg-png.ts#CHROMIUM_PATH', { programs: ['chromium'], why: "browser.ts's CHROMIUM_PATH: Debian's /usr/bin/chromium, in the host's namespace, to turn bench:detect's SVG chart into a PNG" }],
  ['test/e2e/electron.test.ts#binary.path', { programs: [], runtime: true, why: "npm's electron package's binary (findElectronBinary), the runtime the console presupposes" }],
  ['test/lab/cluster.ts#prefix', { programs: ['setpriv'], why: "startAgent(node, prefix): a runner the agent starts under; the only caller passes setpriv (test/lab/failure-policy.test.ts), which RUNNERS follows to the agent's own argv" }],
  ['main/hooks/deliver.ts#path', { programs: [], why: "an operator's exec hook (ipfo hook add --exec /PROGRAM): a program on the node, chosen by the operator, not a dependency of ours" }],
  ['main/host/health-checks.ts#file', { programs: [], why: "an operator's exec health check (--check exec:/PROGRAM): a program on the node, chosen by the operator, not a dependency of ours" }],
  ['main/console/elevate.ts#built.elevated.command', { programs: ['pkexec'], why: '@vscode/sudo-prompt runs the command through pkexec on Linux' }],
]);

/**
 * Programs the check does not tie to a Debian package, with the reason. node/npm/npx: the README's two
 * commands start with `npm`, so the runtime is presupposed (here Debian's nodejs, elsewhere NodeSource
 * or nvm) — setup.sh cannot install the thing that runs it. pkexec: only the Electron desktop console
 * elevates through it; the deb declares it (Recommends), and nothing in setup or tests calls it.
 */
export const PRESUPPOSED_PROGRAMS: ReadonlyMap<string, string> = new Map([
  ['node', 'the Node.js runtime the README presupposes (npm run … needs it before setup.sh runs)'],
  ['npm', 'comes with the Node.js runtime the README presupposes'],
  ['npx', 'comes with the Node.js runtime the README presupposes'],
  ['pkexec', 'only the Electron desktop console elevates through it (deb Recommends); no setup, test or bench step calls it'],
]);
