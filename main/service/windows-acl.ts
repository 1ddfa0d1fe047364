// Who may change what the agent reads on Windows, where it runs as SYSTEM. A folder made under
// %ProgramData% inherits its ACL, which lets BUILTIN\Users create files and folders in it (and write
// their attributes), and one made under C:\ (a custom installation folder) inherits Modify for
// Authenticated Users: an ordinary user could plant the token, the configuration or a store file, or
// replace the program SYSTEM runs. So `ipfo agent install` gives %ProgramData%\ipfo (and a custom
// installation folder) an ACL of their own - inheritance removed, owner Administrators, full control
// for SYSTEM and Administrators only (Users may read and run the program) - and the agent checks the
// owner and the ACL of its configuration, token and store, and of every folder above them, before it
// reads them.
//
// The POSIX rules (main/fs/trusted-path.ts) translated: the owner must be SYSTEM, Administrators or
// TrustedInstaller (an owner may always rewrite the ACL); no one else may be allowed to write, delete,
// change the ACL or take ownership of the file or folder itself; on a folder above it, others may
// create entries (like a sticky /tmp: %ProgramData% lets Users do so) but not delete its children.
// Deny entries only take rights away and inherit-only entries do not apply to the object: both are
// ignored. The ACL is read as SDDL (SIDs, whatever the UI language) through PowerShell's Get-Acl, with
// the same envelope as the address commands (main/net/windows/commands.ts: a fixed script, the request
// as JSON in the environment, one line of base64 JSON back); it is set with icacls-free Set-Acl from a
// fixed SDDL string, then read back and checked. Pure except checkWindowsTrustedPath() and
// protectWindowsDirectory(), which run the commands.
import { win32 } from 'node:path';
import { UntrustedPathError } from '../fs/trusted-path';
import { DEFAULT_SYSTEM_ROOT, encodeScript, POSTLUDE, PRELUDE, powershellPath, REQUEST_ENV, type WindowsCommand } from '../net/windows/commands';
import { decodePowerShellAnswer, WindowsParseError } from '../net/windows/parse';
import { windowsArgProblem } from '../net/windows/quote';

const TRUSTED_INSTALLER = 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464';

/** SDDL's two-letter SID aliases (those Windows prints for file ACLs), by SID string. */
const SID_ALIASES: Record<string, string> = {
  SY: 'S-1-5-18',
  BA: 'S-1-5-32-544',
  BU: 'S-1-5-32-545',
  AU: 'S-1-5-11',
  WD: 'S-1-1-0',
  CO: 'S-1-3-0',
  CG: 'S-1-3-1',
  OW: 'S-1-3-4',
  IU: 'S-1-5-4',
  NU: 'S-1-5-2',
  AN: 'S-1-5-7',
  PS: 'S-1-5-10',
  LS: 'S-1-5-19',
  NS: 'S-1-5-20',
  BG: 'S-1-5-32-546',
  PU: 'S-1-5-32-547',
  AC: 'S-1-15-2-1',
};

const SID_NAMES: Record<string, string> = {
  'S-1-5-18': 'SYSTEM',
  'S-1-5-32-544': 'Administrators',
  'S-1-5-32-545': 'Users',
  'S-1-5-11': 'Authenticated Users',
  'S-1-1-0': 'Everyone',
  'S-1-3-0': 'CREATOR OWNER',
  'S-1-5-4': 'INTERACTIVE',
  'S-1-5-32-546': 'Guests',
  'S-1-5-32-547': 'Power Users',
  [TRUSTED_INSTALLER]: 'TrustedInstaller',
};

/** Who may own and change what the agent reads: SYSTEM, Administrators, TrustedInstaller. */
const TRUSTED_SIDS = new Set(['S-1-5-18', 'S-1-5-32-544', TRUSTED_INSTALLER]);

/** SDDL access-right codes and their bits (file rights share the directory-service codes' bits). */
const RIGHTS: Record<string, number> = {
  GA: 0x1000_0000, GX: 0x2000_0000, GW: 0x4000_0000, GR: 0x8000_0000,
  RC: 0x2_0000, SD: 0x1_0000, WD: 0x4_0000, WO: 0x8_0000,
  CC: 0x1, DC: 0x2, LC: 0x4, SW: 0x8, RP: 0x10, WP: 0x20, DT: 0x40, LO: 0x80, CR: 0x100,
  FA: 0x1f_01ff, FR: 0x12_0089, FW: 0x12_0116, FX: 0x12_00a0,
};

const GENERIC_ALL = 0x1000_0000;
const GENERIC_WRITE = 0x4000_0000;
const DELETE = 0x1_0000;
const WRITE_DAC = 0x4_0000;
const WRITE_OWNER = 0x8_0000;
const FILE_DELETE_CHILD = 0x40;
/** Write data / add file, append / add subfolder, write extended attributes, write attributes. */
const FILE_WRITES = 0x2 | 0x4 | 0x10 | 0x100;

/** Rights that let their holder change the object itself. */
const TARGET_WRITES = GENERIC_ALL | GENERIC_WRITE | DELETE | WRITE_DAC | WRITE_OWNER | FILE_DELETE_CHILD | FILE_WRITES;
/** Rights on a folder above that let their holder replace an entry in it (creating new ones is allowed). */
const ANCESTOR_WRITES = GENERIC_ALL | DELETE | WRITE_DAC | WRITE_OWNER | FILE_DELETE_CHILD;

/** %ProgramData%\ipfo: SYSTEM and Administrators only, inheritance removed, owned by Administrators. */
export const AGENT_DATA_SDDL = 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)';
/** A custom installation folder: the same, and Users may read and run the program (0x1200a9: read and execute). */
export const PROGRAM_DIR_SDDL = 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)';

export interface Ace {
  /** A (allow), D (deny), or another SDDL type (audit, object ACEs). */
  type: string;
  flags: string[];
  mask: number;
  /** The SID as S-1-..., aliases resolved. */
  sid: string;
}

export interface SecurityDescriptor {
  owner: string | null;
  /** null: no DACL at all (everyone has every right). */
  dacl: { protected: boolean; aces: Ace[] } | null;
}

function sidOf(text: string): string {
  const sid = SID_ALIASES[text] ?? text;
  if (!/^S-1-\d+(-\d+)*$/.test(sid)) throw new WindowsParseError(`SDDL: not a SID: ${JSON.stringify(text.slice(0, 60))}`);
  return sid;
}

function rightsOf(text: string): number {
  if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (text.length % 2 !== 0) throw new WindowsParseError(`SDDL: bad access rights ${JSON.stringify(text)}`);
  let mask = 0;
  for (let i = 0; i < text.length; i += 2) {
    const bits = RIGHTS[text.slice(i, i + 2)];
    if (bits === undefined) throw new WindowsParseError(`SDDL: unknown access right ${JSON.stringify(text.slice(i, i + 2))}`);
    mask |= bits;
  }
  return mask >>> 0;
}

/** Parses a security descriptor's SDDL form (O:, G:, D:, S: parts; only O: and D: are kept). */
export function parseSddl(sddl: string): SecurityDescriptor {
  if (typeof sddl !== 'string' || sddl.length > 64 * 1024) throw new WindowsParseError('SDDL: not a string of a sane size');
  // Top-level parts start with O: G: D: S: outside parentheses (a SID inside an ACE may hold none of these).
  const parts = new Map<string, string>();
  let depth = 0;
  let key: string | null = null;
  let start = 0;
  for (let i = 0; i <= sddl.length; i += 1) {
    const char = sddl[i];
    const boundary = i === sddl.length || (depth === 0 && 'OGDS'.includes(char!) && sddl[i + 1] === ':');
    if (boundary) {
      if (key !== null) parts.set(key, sddl.slice(start, i));
      else if (i > 0) throw new WindowsParseError(`SDDL: cannot read ${JSON.stringify(sddl.slice(0, 40))}`);
      if (i === sddl.length) break;
      key = char!;
      start = i + 2;
      i += 1;
      continue;
    }
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    if (depth < 0 || depth > 1) throw new WindowsParseError(`SDDL: unbalanced parentheses in ${JSON.stringify(sddl.slice(0, 40))}`);
  }
  if (key === null) throw new WindowsParseError('SDDL: empty');
  const owner = parts.has('O') ? sidOf(parts.get('O')!) : null;
  const daclText = parts.get('D');
  if (daclText === undefined || daclText.startsWith('NO_ACCESS_CONTROL')) return { owner, dacl: null };
  const open = daclText.indexOf('(');
  const daclFlags = open < 0 ? daclText : daclText.slice(0, open);
  const aces: Ace[] = [];
  const aceText = open < 0 ? '' : daclText.slice(open);
  const aceRe = /\(([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*);([^;()]*)(?:;[^()]*)?\)/gy;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = aceRe.exec(aceText)) !== null) {
    const [, type, flags, rights, , , sid] = match;
    aces.push({ type: type!, flags: flags!.match(/../g) ?? [], mask: rightsOf(rights!), sid: sidOf(sid!) });
    consumed = aceRe.lastIndex;
  }
  if (consumed !== aceText.length) throw new WindowsParseError(`SDDL: cannot read the ACE at ${JSON.stringify(aceText.slice(consumed, consumed + 40))}`);
  return { owner, dacl: { protected: daclFlags.includes('P'), aces } };
}

function nameOf(sid: string): string {
  return SID_NAMES[sid] ?? sid;
}

/**
 * What lets someone other than SYSTEM and Administrators change `path` ('target': the file or folder
 * the agent reads; 'ancestor': a folder above it), or null.
 */
export function aclProblem(path: string, sddl: string, role: 'target' | 'ancestor'): string | null {
  const descriptor = parseSddl(sddl);
  if (descriptor.owner === null) return `${path}: its owner is unknown`;
  if (!TRUSTED_SIDS.has(descriptor.owner)) return `${path} is owned by ${nameOf(descriptor.owner)}, not by SYSTEM or Administrators (an owner can always rewrite the ACL)`;
  if (descriptor.dacl === null) return `${path} has no ACL: everyone may change it`;
  const forbidden = role === 'target' ? TARGET_WRITES : ANCESTOR_WRITES;
  for (const ace of descriptor.dacl.aces) {
    if (ace.type !== 'A' || ace.flags.includes('IO')) continue;
    // OWNER RIGHTS stands for the owner, checked above.
    if (TRUSTED_SIDS.has(ace.sid) || ace.sid === 'S-1-3-4') continue;
    if ((ace.mask & forbidden) !== 0) {
      const what = role === 'target' ? 'may change it' : 'may delete or replace what is in it';
      return `${path}: ${nameOf(ace.sid)} ${what} (access mask 0x${ace.mask.toString(16)})`;
    }
  }
  return null;
}

// ---------- the commands ----------

/** The scripts. Constants: the paths and the SDDL travel in IPFO_REQUEST. */
export const ACL_SCRIPTS = {
  /** Each path of `paths`: { path, exists, sddl }. -LiteralPath: no wildcard in a path is expanded. */
  readAcl: `${PRELUDE}  $results = @(foreach ($path in $request.paths) {
    if (Test-Path -LiteralPath ([string]$path)) {
      @{ path = [string]$path; exists = $true; sddl = [string](Get-Acl -LiteralPath ([string]$path)).Sddl }
    } else {
      @{ path = [string]$path; exists = $false; sddl = $null }
    }
  })
  Send-Result @{ ok = $true; value = $results }${POSTLUDE}`,

  /** Creates the folder `path` when missing, gives it exactly `sddl`, and answers with the SDDL read back. */
  protectDirectory: `${PRELUDE}  $path = [string]$request.path
  if (-not (Test-Path -LiteralPath $path -PathType Container)) { $null = New-Item -ItemType Directory -Path $path -Force }
  $acl = New-Object System.Security.AccessControl.DirectorySecurity
  $acl.SetSecurityDescriptorSddlForm([string]$request.sddl)
  Set-Acl -LiteralPath $path -AclObject $acl
  Send-Result @{ ok = $true; value = [string](Get-Acl -LiteralPath $path).Sddl }${POSTLUDE}`,
} as const;

function aclCommand(name: keyof typeof ACL_SCRIPTS, request: Record<string, unknown>, systemRoot: string): WindowsCommand {
  const json = JSON.stringify({ v: 1, ...request });
  const problem = windowsArgProblem(json);
  if (problem !== null) throw new Error(`ACL request ${problem}`);
  return {
    file: powershellPath(systemRoot),
    args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-InputFormat', 'None', '-OutputFormat', 'Text', '-EncodedCommand', encodeScript(ACL_SCRIPTS[name])],
    env: { [REQUEST_ENV]: json },
  };
}

function checkWindowsPath(path: string): void {
  if (!win32.isAbsolute(path) || !/^[A-Za-z]:\\|^\\\\/.test(path)) throw new Error(`not an absolute Windows path: ${JSON.stringify(path)}`);
}

/** `path` and every folder above it, the path first (C:\ProgramData\ipfo\token, C:\ProgramData\ipfo, C:\ProgramData, C:\). */
export function pathAndAncestors(path: string): string[] {
  checkWindowsPath(path);
  const out = [win32.normalize(path)];
  for (let dir = win32.dirname(out[0]!); dir !== out[out.length - 1]; dir = win32.dirname(dir)) out.push(dir);
  return out;
}

/** Get-Acl of `path` and of every folder above it. */
export function readAclCommand(path: string, systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  return aclCommand('readAcl', { paths: pathAndAncestors(path) }, systemRoot);
}

/** Creates `dir` if needed and gives it `sddl` (AGENT_DATA_SDDL or PROGRAM_DIR_SDDL). */
export function protectDirectoryCommand(dir: string, sddl: string, systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  checkWindowsPath(dir);
  parseSddl(sddl);
  return aclCommand('protectDirectory', { path: win32.normalize(dir), sddl }, systemRoot);
}

export interface AclEntry {
  path: string;
  exists: boolean;
  sddl: string | null;
}

/** readAclCommand's answer. */
export function parseReadAclAnswer(stdout: string): AclEntry[] {
  const answer = decodePowerShellAnswer(stdout);
  if (!answer.ok) throw new WindowsParseError(`Get-Acl: ${answer.message}`);
  const items = Array.isArray(answer.value) ? answer.value : [answer.value];
  return items.map((item: unknown) => {
    const entry = item as Partial<AclEntry> | null;
    if (entry === null || typeof entry !== 'object' || typeof entry.path !== 'string' || typeof entry.exists !== 'boolean' || (entry.exists && typeof entry.sddl !== 'string')) {
      throw new WindowsParseError('Get-Acl: an entry is not { path, exists, sddl }');
    }
    return { path: entry.path, exists: entry.exists, sddl: entry.exists ? entry.sddl! : null };
  });
}

/** The problems an ACL listing shows for the path it was read for (first entry: the path itself; missing ones are skipped). */
export function aclListingProblems(entries: readonly AclEntry[]): string[] {
  const problems: string[] = [];
  // The first existing entry is what the agent reads or creates in: the target. Those above are ancestors.
  let target = true;
  for (const entry of entries) {
    if (!entry.exists || entry.sddl === null) continue;
    const problem = aclProblem(entry.path, entry.sddl, target ? 'target' : 'ancestor');
    if (problem !== null) problems.push(problem);
    target = false;
  }
  return problems;
}

export type AclRunner = (command: WindowsCommand) => Promise<{ stdout: string; stderr: string; exitCode: number }>;

async function defaultRunner(): Promise<AclRunner> {
  return (await import('../net/windows/backend.js')).execFileRunner;
}

/** Windows: throws UntrustedPathError when others may change `path` or a folder above it (see the file's comment). */
export async function checkWindowsTrustedPath(path: string, options: { label?: string; run?: AclRunner; systemRoot?: string } = {}): Promise<void> {
  const run = options.run ?? (await defaultRunner());
  const result = await run(readAclCommand(path, options.systemRoot ?? process.env.SystemRoot ?? DEFAULT_SYSTEM_ROOT));
  const problems = aclListingProblems(parseReadAclAnswer(result.stdout));
  if (problems.length > 0) {
    throw new UntrustedPathError(path, `${options.label ?? path}: ${problems[0]}: whoever can change it decides what the agent (SYSTEM) reads; run ipfo agent install (it gives %ProgramData%\\ipfo an ACL of SYSTEM and Administrators only), or fix the ACL`);
  }
}

/** Creates `dir` (if missing) with `sddl`, reads it back and checks it: throws when it is still not safe. */
export async function protectWindowsDirectory(dir: string, sddl: string, options: { run?: AclRunner; systemRoot?: string } = {}): Promise<string> {
  const run = options.run ?? (await defaultRunner());
  const result = await run(protectDirectoryCommand(dir, sddl, options.systemRoot ?? process.env.SystemRoot ?? DEFAULT_SYSTEM_ROOT));
  const answer = decodePowerShellAnswer(result.stdout);
  if (!answer.ok) throw new Error(`cannot set the ACL of ${dir}: ${answer.message}`);
  const problem = aclProblem(dir, String(answer.value), 'target');
  if (problem !== null) throw new Error(`the ACL of ${dir} is still not safe after setting it: ${problem}`);
  return String(answer.value);
}
