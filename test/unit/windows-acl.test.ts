// main/service/windows-acl.ts: the Get-Acl / Set-Acl commands (exact argument vectors, data only in the
// environment, fixed scripts), SDDL parsing, and the verdicts on Windows' own default ACLs. The SDDL
// strings below are Windows 10/11's defaults as Microsoft documents them and `(Get-Acl X).Sddl` prints
// them (written by hand here, not captured on a host: no Windows machine in this lab).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeScript, REQUEST_ENV } from '../../main/net/windows/commands';
import { WindowsParseError } from '../../main/net/windows/parse';
import { UntrustedPathError } from '../../main/fs/trusted-path';
import {
  ACL_SCRIPTS,
  AGENT_DATA_SDDL,
  PROGRAM_DIR_SDDL,
  aclListingProblems,
  aclProblem,
  checkWindowsTrustedPath,
  parseReadAclAnswer,
  parseSddl,
  pathAndAncestors,
  protectDirectoryCommand,
  protectWindowsDirectory,
  readAclCommand,
  type AclRunner,
} from '../../main/service/windows-acl';
import { HOSTILE_ALIASES } from './windows-fixtures';

const TI = 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464';
/** C:\ : Authenticated Users may create folders there, and get Modify on what they create (inherit-only). */
const DRIVE_ROOT = `O:${TI}G:${TI}D:PAI(A;OICIIO;SDGXGWGR;;;AU)(A;;LC;;;AU)(A;OICI;FA;;;SY)(A;OICIIO;GA;;;CO)(A;OICI;0x1200a9;;;BU)(A;OICI;FA;;;BA)`;
/** C:\ProgramData: Users may create files and folders (container-inherited), like a sticky /tmp. */
const PROGRAM_DATA = 'O:SYG:SYD:PAI(A;OICIIO;FA;;;CO)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)(A;CI;DCLCRPCR;;;BU)';
/** A folder made under C:\ProgramData by an administrator: it inherits the Users' "create files". */
const INHERITED_UNDER_PROGRAM_DATA = 'O:BAG:SYD:AI(A;OICIIOID;FA;;;CO)(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)';
/** A folder made under C:\ (a custom installation folder): Modify (0x1301bf) for Authenticated Users. */
const INHERITED_UNDER_DRIVE_ROOT = 'O:BAG:SYD:AI(A;OICIID;FA;;;BA)(A;OICIID;FA;;;SY)(A;OICIID;0x1200a9;;;BU)(A;OICIID;0x1301bf;;;AU)';
/** A file an ordinary user created (owner: that user). */
const USER_OWNED_FILE = 'O:S-1-5-21-1004336348-1177238915-682003330-1001G:S-1-5-21-1004336348-1177238915-682003330-513D:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)';

function psArgs(script: string): string[] {
  return ['-NoLogo', '-NoProfile', '-NonInteractive', '-InputFormat', 'None', '-OutputFormat', 'Text', '-EncodedCommand', encodeScript(script)];
}

function answer(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

describe('the commands', () => {
  test('Get-Acl of the path and every folder above it: a fixed script, the paths as JSON in the environment', () => {
    assert.deepEqual(readAclCommand('C:\\ProgramData\\ipfo\\token'), {
      file: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      args: psArgs(ACL_SCRIPTS.readAcl),
      env: { [REQUEST_ENV]: JSON.stringify({ v: 1, paths: ['C:\\ProgramData\\ipfo\\token', 'C:\\ProgramData\\ipfo', 'C:\\ProgramData', 'C:\\'] }) },
    });
    assert.deepEqual(pathAndAncestors('\\\\server\\share\\ipfo\\agent.json'), ['\\\\server\\share\\ipfo\\agent.json', '\\\\server\\share\\ipfo', '\\\\server\\share\\']);
    assert.throws(() => readAclCommand('relative\\token'), /not an absolute Windows path/);
  });

  test('Set-Acl from a fixed SDDL: the folder and the SDDL as data, never script text', () => {
    assert.deepEqual(protectDirectoryCommand('D:\\Programs\\IP Failover Console', PROGRAM_DIR_SDDL, 'E:\\Win'), {
      file: 'E:\\Win\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      args: psArgs(ACL_SCRIPTS.protectDirectory),
      env: { [REQUEST_ENV]: JSON.stringify({ v: 1, path: 'D:\\Programs\\IP Failover Console', sddl: PROGRAM_DIR_SDDL }) },
    });
    assert.throws(() => protectDirectoryCommand('C:\\x', 'not sddl'), WindowsParseError);
  });

  test('hostile folder names stay data: the scripts are constants, -LiteralPath everywhere (no wildcards)', () => {
    for (const name of HOSTILE_ALIASES.filter((alias) => !/["\p{Cc}]/u.test(alias))) {
      const command = readAclCommand(`C:\\ProgramData\\${name.replace(/\\/g, '_')}`);
      assert.deepEqual(command.args, psArgs(ACL_SCRIPTS.readAcl));
      assert.equal((JSON.parse(command.env![REQUEST_ENV]!) as { paths: string[] }).paths[0], `C:\\ProgramData\\${name.replace(/\\/g, '_')}`);
    }
    for (const script of Object.values(ACL_SCRIPTS)) {
      assert.doesNotMatch(script, /Get-Acl (?!-LiteralPath)|Set-Acl (?!-LiteralPath)|Test-Path (?!-LiteralPath)/);
      assert.match(script, /^[\x20-\x7e\n]*$/, 'ASCII only');
    }
  });
});

describe('SDDL', () => {
  test('owner, protection, ACEs with aliases, flags, letter and hex rights', () => {
    assert.deepEqual(parseSddl(AGENT_DATA_SDDL), {
      owner: 'S-1-5-32-544',
      dacl: { protected: true, aces: [{ type: 'A', flags: ['OI', 'CI'], mask: 0x1f01ff, sid: 'S-1-5-18' }, { type: 'A', flags: ['OI', 'CI'], mask: 0x1f01ff, sid: 'S-1-5-32-544' }] },
    });
    const root = parseSddl(DRIVE_ROOT);
    assert.equal(root.owner, TI);
    assert.deepEqual(root.dacl!.aces[0], { type: 'A', flags: ['OI', 'CI', 'IO'], mask: 0xe001_0000, sid: 'S-1-5-11' });
    assert.equal(parseSddl(INHERITED_UNDER_DRIVE_ROOT).dacl!.aces[3]!.mask, 0x1301bf);
    assert.equal(parseSddl(`${PROGRAM_DATA}S:AI(AU;SA;FA;;;WD)`).dacl!.aces.length, 5, 'an audit part is read past');
    assert.deepEqual(parseSddl('O:BAD:NO_ACCESS_CONTROL'), { owner: 'S-1-5-32-544', dacl: null });
  });

  test('garbage is refused, not guessed', () => {
    for (const bad of ['', 'X:BA', 'O:BAD:(A;;FA;;;SY', 'O:BAD:(A;;ZZ;;;SY)', 'O:nobodyD:', 'O:BAD:(A;;FA;;;SY)junk', 'O:BAD:((A;;FA;;;SY))']) {
      assert.throws(() => parseSddl(bad), WindowsParseError, bad);
    }
  });
});

describe('verdicts', () => {
  test('what install sets passes; C:\\ and %ProgramData% pass as folders above (others may only create entries there)', () => {
    assert.equal(aclProblem('C:\\ProgramData\\ipfo', AGENT_DATA_SDDL, 'target'), null);
    assert.equal(aclProblem('D:\\IPFO', PROGRAM_DIR_SDDL, 'target'), null, 'Users may read and run the program');
    assert.equal(aclProblem('C:\\', DRIVE_ROOT, 'ancestor'), null);
    assert.equal(aclProblem('C:\\ProgramData', PROGRAM_DATA, 'ancestor'), null);
  });

  test('the issue\'s cases are refused: an inherited %ProgramData% folder, a custom installation folder, a user\'s file, no ACL', () => {
    assert.equal(aclProblem('C:\\ProgramData\\ipfo', INHERITED_UNDER_PROGRAM_DATA, 'target'), 'C:\\ProgramData\\ipfo: Users may change it (access mask 0x116)');
    assert.equal(aclProblem('C:\\IPFO', INHERITED_UNDER_DRIVE_ROOT, 'target'), 'C:\\IPFO: Authenticated Users may change it (access mask 0x1301bf)');
    assert.equal(aclProblem('C:\\IPFO', INHERITED_UNDER_DRIVE_ROOT, 'ancestor'), 'C:\\IPFO: Authenticated Users may delete or replace what is in it (access mask 0x1301bf)');
    assert.match(aclProblem('C:\\ProgramData\\ipfo\\token', USER_OWNED_FILE, 'target')!, /is owned by S-1-5-21-.*-1001, not by SYSTEM or Administrators/);
    assert.equal(aclProblem('C:\\x', 'O:BAD:NO_ACCESS_CONTROL', 'target'), 'C:\\x has no ACL: everyone may change it');
    assert.equal(aclProblem('C:\\x', 'O:BAD:PAI(A;OICI;FA;;;SY)(D;;FA;;;WD)(A;OICIIO;FA;;;BU)', 'target'), null, 'deny and inherit-only entries take nothing from the verdict');
  });

  test('a listing: the first existing entry is the target, missing ones are skipped', () => {
    const entries = [
      { path: 'C:\\ProgramData\\ipfo\\token', exists: false, sddl: null },
      { path: 'C:\\ProgramData\\ipfo', exists: true, sddl: INHERITED_UNDER_PROGRAM_DATA },
      { path: 'C:\\ProgramData', exists: true, sddl: PROGRAM_DATA },
      { path: 'C:\\', exists: true, sddl: DRIVE_ROOT },
    ];
    assert.deepEqual(aclListingProblems(entries), ['C:\\ProgramData\\ipfo: Users may change it (access mask 0x116)'], 'a token would be created in a folder Users may write');
    assert.deepEqual(aclListingProblems([{ ...entries[1]!, sddl: AGENT_DATA_SDDL }, entries[2]!, entries[3]!]), []);
  });

  test('the answer envelope: one entry or many, failures and malformed entries refused', () => {
    assert.deepEqual(parseReadAclAnswer(answer({ ok: true, value: { path: 'C:\\', exists: true, sddl: DRIVE_ROOT } })), [{ path: 'C:\\', exists: true, sddl: DRIVE_ROOT }]);
    assert.throws(() => parseReadAclAnswer(answer({ ok: false, message: 'Access is denied', errorId: 'x' })), /Get-Acl: Access is denied/);
    assert.throws(() => parseReadAclAnswer(answer({ ok: true, value: [{ path: 'C:\\', exists: true }] })), /not \{ path, exists, sddl \}/);
    assert.throws(() => parseReadAclAnswer('Get-Acl : not base64'), WindowsParseError);
  });
});

describe('checking and protecting, with a fake PowerShell', () => {
  function fake(listing: Record<string, string | null>): { run: AclRunner; seen: string[] } {
    const seen: string[] = [];
    const run: AclRunner = (command) => {
      const request = JSON.parse(command.env![REQUEST_ENV]!) as { paths?: string[]; path?: string; sddl?: string };
      seen.push(command.args.at(-1) === encodeScript(ACL_SCRIPTS.readAcl) ? 'readAcl' : 'protectDirectory');
      if (request.paths !== undefined) {
        const value = request.paths.map((path) => ({ path, exists: listing[path] !== undefined && listing[path] !== null, sddl: listing[path] ?? null }));
        return Promise.resolve({ stdout: answer({ ok: true, value }), stderr: '', exitCode: 0 });
      }
      listing[request.path!] = request.sddl!;
      return Promise.resolve({ stdout: answer({ ok: true, value: request.sddl }), stderr: '', exitCode: 0 });
    };
    return { run, seen };
  }

  test('a token in a %ProgramData%\\ipfo that inherited the Users\' rights is refused (UntrustedPathError, exit 2); after install\'s ACL it passes', async () => {
    const listing: Record<string, string | null> = { 'C:\\ProgramData\\ipfo': INHERITED_UNDER_PROGRAM_DATA, 'C:\\ProgramData': PROGRAM_DATA, 'C:\\': DRIVE_ROOT };
    const { run, seen } = fake(listing);
    await assert.rejects(checkWindowsTrustedPath('C:\\ProgramData\\ipfo\\token', { run, label: '--token-file C:\\ProgramData\\ipfo\\token' }), (error: unknown) => error instanceof UntrustedPathError && /^--token-file .*: C:\\ProgramData\\ipfo: Users may change it/.test(error.message));
    assert.equal(await protectWindowsDirectory('C:\\ProgramData\\ipfo', AGENT_DATA_SDDL, { run }), AGENT_DATA_SDDL);
    await checkWindowsTrustedPath('C:\\ProgramData\\ipfo\\token', { run });
    assert.deepEqual(seen, ['readAcl', 'protectDirectory', 'readAcl']);
  });

  test('an ACL that does not hold after Set-Acl is an error, not a success', async () => {
    const run: AclRunner = () => Promise.resolve({ stdout: answer({ ok: true, value: INHERITED_UNDER_PROGRAM_DATA }), stderr: '', exitCode: 0 });
    await assert.rejects(protectWindowsDirectory('C:\\ProgramData\\ipfo', AGENT_DATA_SDDL, { run }), /still not safe after setting it: .*Users may change it/);
    const denied: AclRunner = () => Promise.resolve({ stdout: answer({ ok: false, message: 'Attempted to perform an unauthorized operation.', errorId: 'System.UnauthorizedAccessException' }), stderr: '', exitCode: 1 });
    await assert.rejects(protectWindowsDirectory('C:\\ProgramData\\ipfo', AGENT_DATA_SDDL, { run: denied }), /cannot set the ACL of C:\\ProgramData\\ipfo: Attempted to perform an unauthorized operation/);
  });
});
