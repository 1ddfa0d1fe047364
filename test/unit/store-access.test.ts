// The agent's credentials for a secured etcd (--store-ca, --store-cert, --store-key, --store-user,
// --store-password-file and the same keys in agent.json): which combinations are refused before
// anything starts (exit 2), how the files are read (private password file and key, one line, PEM
// that parses, the key of the certificate), and the one line an etcd refusal becomes (exit 4).
// Certificates are made by the openssl CLI in a temp dir; the real etcd is test/lab/etcd-secure.test.ts.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { EtcdAuthenticationFailedError, EtcdPermissionDeniedError, GRPCInvalidArgumentError, GRPCUnavailableError } from 'etcd3';
import { parseCommand, resolveAgentConfig, UsageError, type AgentCommand, type AgentConfigCommand } from '../../main/cli/args';
import { exitCodeFor } from '../../main/cli/errors';
import { EXIT } from '../../main/cli/exit-codes';
import { parseAgentConfig } from '../../main/service/agent-config';
import { isLoopbackEndpoint, loadStoreAccess, StoreAccessError, type StoreAccessFiles } from '../../main/store/etcd-access';
import { connectionReason, refusalOf, unreachableHint, type RefusalContext } from '../../main/store/etcd-refusal';
import { isStoreError, StoreError } from '../../main/store/store';

const run = promisify(execFile);
const ETCD = ['--node', 'n1', '--store', 'etcd://10.0.0.1:2379,10.0.0.2:2379'];
const LOCAL_ETCD = ['--node', 'n1', '--store', 'etcd://127.0.0.1:2379'];

function agent(...argv: string[]): AgentCommand {
  const command = parseCommand(['agent', ...argv]);
  assert.ok(command.kind === 'agent' && command.action === 'run', JSON.stringify(command));
  return command;
}

function refused(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseCommand(['agent', ...argv]),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, `a UsageError for ${argv.join(' ')}, got ${String(error)}`);
      assert.match(error.message, message);
      assert.equal(exitCodeFor(error), EXIT.badInput);
      return true;
    },
  );
}

describe('ipfo agent --store-ca/--store-cert/--store-key/--store-user/--store-password-file', () => {
  test('all of them, for an etcd store', () => {
    const command = agent(...ETCD, '--store-ca', '/etc/ipfo/etcd-ca.crt', '--store-cert', '/etc/ipfo/c.crt', '--store-key', '/etc/ipfo/c.key', '--store-user', 'ipfo', '--store-password-file', '/etc/ipfo/pw');
    assert.deepEqual(command.storeAccess, { ca: '/etc/ipfo/etcd-ca.crt', cert: '/etc/ipfo/c.crt', key: '/etc/ipfo/c.key', user: 'ipfo', passwordFile: '/etc/ipfo/pw' });
    assert.deepEqual(agent(...ETCD, '--store-ca', '/ca').storeAccess, { ca: '/ca', cert: null, key: null, user: null, passwordFile: null });
  });

  test('none of them: the command is what it was', () => {
    assert.equal('storeAccess' in agent(...ETCD), false);
  });

  test('a certificate without its key, or a key without its certificate', () => {
    refused([...ETCD, '--store-ca', '/ca', '--store-cert', '/c'], /^--store-cert and --store-key go together$/);
    refused([...ETCD, '--store-ca', '/ca', '--store-key', '/k'], /^--store-cert and --store-key go together$/);
  });

  test('a client certificate without a CA (it is sent over TLS only)', () => {
    refused([...ETCD, '--store-cert', '/c', '--store-key', '/k'], /^--store-cert needs --store-ca/);
  });

  test('a user without a password file, a password file without a user; never a password on the command line', () => {
    refused([...LOCAL_ETCD, '--store-user', 'ipfo'], /^--store-user and --store-password-file go together$/);
    refused([...LOCAL_ETCD, '--store-password-file', '/pw'], /^--store-user and --store-password-file go together$/);
    refused([...LOCAL_ETCD, '--store-user', 'ipfo', '--store-password', 'secret'], /Unknown option '--store-password'/);
  });

  test('hostile user names', () => {
    refused([...LOCAL_ETCD, '--store-user', '', '--store-password-file', '/pw'], /^--store-user must not be empty$/);
    refused([...LOCAL_ETCD, '--store-user', 'ip\nfo', '--store-password-file', '/pw'], /^--store-user contains a control character$/);
    refused([...LOCAL_ETCD, '--store-user', ' ipfo', '--store-password-file', '/pw'], /^--store-user starts or ends with a space$/);
    refused([...LOCAL_ETCD, '--store-user', 'ipfo:secret', '--store-password-file', '/pw'], /^--store-user contains ":"/);
    refused([...LOCAL_ETCD, '--store-user', 'x'.repeat(257), '--store-password-file', '/pw'], /^--store-user longer than 256/);
  });

  test('empty file names', () => {
    refused([...ETCD, '--store-ca', ''], /^--store-ca wants a file name$/);
    refused([...LOCAL_ETCD, '--store-user', 'ipfo', '--store-password-file', ''], /^--store-password-file wants a file name$/);
  });

  test('for the file store they mean nothing, and say so', () => {
    refused(['--node', 'n1', '--store-ca', '/ca'], /^--store-ca is for an etcd store, and --store is file:\/var\/lib\/ipfo\/store$/);
    refused(['--node', 'n1', '--store', 'file:/x', '--store-user', 'u', '--store-password-file', '/pw'], /^--store-user is for an etcd store, and --store is file:\/x$/);
  });

  test('a password in the clear over the network is refused; TLS or loopback is fine', () => {
    refused([...ETCD, '--store-user', 'ipfo', '--store-password-file', '/pw'], /^--store-user would send the etcd password in the clear to 10\.0\.0\.1:2379: add --store-ca/);
    refused(['--node', 'n1', '--store', 'etcd://127.0.0.1:2379,10.0.0.2:2379', '--store-user', 'ipfo', '--store-password-file', '/pw'], /in the clear to 10\.0\.0\.2:2379/);
    assert.equal(agent(...LOCAL_ETCD, '--store-user', 'ipfo', '--store-password-file', '/pw').storeAccess?.user, 'ipfo');
    assert.equal(agent(...ETCD, '--store-ca', '/ca', '--store-user', 'ipfo', '--store-password-file', '/pw').storeAccess?.user, 'ipfo');
    for (const endpoint of ['127.0.0.1:2379', '127.1.2.3:1', 'localhost:2379', 'LOCALHOST:2379', '[::1]:2379']) assert.ok(isLoopbackEndpoint(endpoint), endpoint);
    for (const endpoint of ['10.0.0.1:2379', '127.0.0.1.example:2379', 'localhost.example:2379', '[::2]:2379', '128.0.0.1:1']) assert.ok(!isLoopbackEndpoint(endpoint), endpoint);
  });
});

describe('the same keys in agent.json', () => {
  const FILE = '/etc/ipfo/agent.json';
  function refusesConfig(config: Record<string, unknown>, message: RegExp): void {
    assert.throws(
      () => parseAgentConfig(JSON.stringify(config), FILE),
      (error: unknown) => {
        assert.ok(error instanceof UsageError, String(error));
        assert.ok(error.message.startsWith(`${FILE}: `), error.message);
        assert.match(error.message, message);
        return true;
      },
    );
  }
  const store = 'etcd://10.0.0.1:2379';

  test('accepted, and the same command as the options', () => {
    const config = { node: 'n1', store, 'store-ca': '/etc/ipfo/ca.crt', 'store-cert': '/etc/ipfo/c.crt', 'store-key': '/etc/ipfo/c.key', 'store-user': 'ipfo', 'store-password-file': '/etc/ipfo/pw' };
    assert.deepEqual(parseAgentConfig(JSON.stringify(config), FILE), config);
    const command: AgentConfigCommand = { kind: 'agent', action: 'run-config', configFile: FILE, flags: [] };
    assert.deepEqual(
      resolveAgentConfig(command, JSON.stringify(config)),
      agent('--node', 'n1', '--store', store, '--store-ca', '/etc/ipfo/ca.crt', '--store-cert', '/etc/ipfo/c.crt', '--store-key', '/etc/ipfo/c.key', '--store-user', 'ipfo', '--store-password-file', '/etc/ipfo/pw'),
    );
  });

  test('refusals name the key', () => {
    refusesConfig({ store, 'store-ca': '/ca', 'store-cert': '/c' }, /"store-cert" and "store-key" go together/);
    refusesConfig({ store, 'store-cert': '/c', 'store-key': '/k' }, /"store-cert" needs "store-ca"/);
    refusesConfig({ store, 'store-ca': '/ca', 'store-user': 'ipfo' }, /"store-user" and "store-password-file" go together/);
    refusesConfig({ store, 'store-user': '', 'store-password-file': '/pw' }, /"store-user" must be a non-empty string/);
    refusesConfig({ store, 'store-user': 'a\u0007b', 'store-password-file': '/pw' }, /"store-user" contains a control character/);
    refusesConfig({ store, 'store-user': 'ipfo', 'store-password-file': '/pw' }, /"store-user" would send the etcd password in the clear to 10\.0\.0\.1:2379: add "store-ca"/);
    refusesConfig({ store: 'file:/var/lib/ipfo/store', 'store-ca': '/ca' }, /"store-ca" is for an etcd store, and "store" is file:\/var\/lib\/ipfo\/store/);
    refusesConfig({ store, 'store-ca': 'ca.crt' }, /"store-ca" must be an absolute path/);
    refusesConfig({ store, 'store-password-file': 7 }, /"store-password-file" must be a non-empty string, got 7/);
  });

  test('a store given on the command line is checked there, with the options named', () => {
    const command: AgentConfigCommand = { kind: 'agent', action: 'run-config', configFile: FILE, flags: ['--store', 'etcd://10.0.0.9:2379'] };
    assert.throws(() => resolveAgentConfig(command, JSON.stringify({ node: 'n1', 'store-user': 'ipfo', 'store-password-file': '/pw' })), /--store-user would send the etcd password in the clear to 10\.0\.0\.9:2379/);
  });
});

describe('reading the files (once, at start)', () => {
  let dir: string;
  let ca: string;
  let cert: string;
  let key: string;
  let otherKey: string;
  const files = (over: Partial<StoreAccessFiles>): StoreAccessFiles => ({ ca: null, cert: null, key: null, user: null, passwordFile: null, ...over });

  async function makeCertificate(name: string, signer?: { cert: string; key: string }): Promise<{ cert: string; key: string }> {
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    if (signer === undefined) {
      await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`]);
    } else {
      const csr = join(dir, `${name}.csr`);
      await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
      await run('openssl', ['x509', '-req', '-in', csr, '-CA', signer.cert, '-CAkey', signer.key, '-CAcreateserial', '-out', certFile, '-days', '2']);
    }
    await chmod(keyFile, 0o600);
    return { cert: certFile, key: keyFile };
  }

  async function secret(name: string, text: string, mode = 0o600): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, text, { mode });
    await chmod(file, mode);
    return file;
  }

  function rejectsWith(promise: Promise<unknown>, message: RegExp, reason: 'file' | 'permission' = 'file'): Promise<void> {
    return assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof StoreAccessError, String(error));
      assert.match(error.message, message);
      assert.equal(error.reason, reason);
      assert.equal(exitCodeFor(error), reason === 'file' ? EXIT.badInput : EXIT.environment);
      assert.ok(!error.message.includes('\n'), error.message);
      return true;
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ipfo-store-access-'));
    const authority = await makeCertificate('ca');
    ca = authority.cert;
    const client = await makeCertificate('client', authority);
    cert = client.cert;
    key = client.key;
    otherKey = (await makeCertificate('other')).key;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the CA, the client certificate and key, the password: contents for the etcd client', async () => {
    const passwordFile = await secret('pw', 'se cret\n');
    const access = await loadStoreAccess(files({ ca, cert, key, user: 'ipfo', passwordFile }));
    assert.deepEqual(access.tls?.ca, await readFile(ca));
    assert.deepEqual(access.tls?.cert, await readFile(cert));
    assert.deepEqual(access.tls?.key, await readFile(key));
    assert.deepEqual(access.auth, { username: 'ipfo', password: 'se cret' });
    assert.deepEqual(await loadStoreAccess(files({ user: 'ipfo', passwordFile: await secret('pw-crlf', 'x\r\n') })), { auth: { username: 'ipfo', password: 'x' } });
    assert.deepEqual(await loadStoreAccess(files({})), {});
  });

  test('a password file others can read (or group) is refused, naming the file and the fix', async () => {
    const open = await secret('pw-644', 'secret\n', 0o644);
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: open })), new RegExp(`^--store-password-file ${open}: is accessible by other users \\(mode 644\\): run chmod 600 ${open}$`));
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: await secret('pw-640', 'secret', 0o640) })), /mode 640/);
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: await secret('pw-604', 'secret', 0o604) })), /mode 604/);
  });

  test('so is a private key others can read', async () => {
    await chmod(key, 0o644);
    try {
      await rejectsWith(loadStoreAccess(files({ ca, cert, key })), /^--store-key .*: is accessible by other users \(mode 644\)/);
    } finally {
      await chmod(key, 0o600);
    }
  });

  test('a symbolic link in place of a secret is refused (a planted link must not redirect it)', async () => {
    const target = await secret('pw-target', 'secret');
    const link = join(dir, 'pw-link');
    await symlink(target, link);
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: link })), /^--store-password-file .*pw-link: is a symbolic link; name the real file$/);
  });

  test('a password file owned by another user is refused (it could change what the agent sends)', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
    const file = await secret('pw-nobody', 'secret');
    await chown(file, 65534, 65534);
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: file })), /belongs to uid 65534, not to the agent's user \(uid 0\) or root/);
  });

  test('empty, several lines, too large, missing, a directory, a FIFO (without hanging)', async () => {
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: await secret('pw-empty', '\n') })), /is empty: it should hold the etcd password/);
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: await secret('pw-lines', 'a\nb\n') })), /holds more than one line/);
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: await secret('pw-big', 'x'.repeat(5000)) })), /larger than 4096 bytes/);
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: join(dir, 'nope') })), /^--store-password-file .*nope: no such file$/);
    await rejectsWith(loadStoreAccess(files({ ca: join(dir, 'nope.crt') })), /^--store-ca .*nope\.crt: no such file$/);
    const sub = join(dir, 'sub');
    await mkdir(sub, { mode: 0o700 });
    await rejectsWith(loadStoreAccess(files({ ca: sub })), /is not a regular file/);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: fifo })), /is not a regular file/);
  });

  test('PEM that is not, and a key that is not the certificate\'s', async () => {
    const notPem = await secret('not-pem', 'hello\n', 0o644);
    await rejectsWith(loadStoreAccess(files({ ca: notPem })), /^--store-ca .*: holds no PEM certificate/);
    await rejectsWith(loadStoreAccess(files({ ca, cert: notPem, key })), /^--store-cert .*: holds no PEM certificate/);
    const broken = await secret('broken.crt', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 0o644);
    await rejectsWith(loadStoreAccess(files({ ca: broken })), /holds a certificate that does not parse/);
    await rejectsWith(loadStoreAccess(files({ ca, cert, key: await secret('not-key', 'nope') })), /^--store-key .*: is not a PEM private key/);
    await rejectsWith(loadStoreAccess(files({ ca, cert, key: otherKey })), new RegExp(`^--store-key ${otherKey}: is not the key of the certificate in ${cert}$`));
  });

  test('a client certificate outside its validity (the clock of the check is a parameter)', async () => {
    await rejectsWith(loadStoreAccess(files({ ca, cert, key }), new Date(Date.now() + 10 * 86_400_000)), /^--store-cert .*: the certificate expired on /);
    await rejectsWith(loadStoreAccess(files({ ca, cert, key }), new Date(Date.now() - 10 * 86_400_000)), /the certificate is not valid before .* \(is the clock right\?\)/);
  });

  test('a file the agent may not read is the environment\'s (exit 4)', { skip: process.getuid?.() === 0 && 'root reads every file' }, async () => {
    const file = await secret('pw-000', 'secret', 0o000);
    await rejectsWith(loadStoreAccess(files({ user: 'ipfo', passwordFile: file })), /cannot be read by this user \(EACCES\)/, 'permission');
  });
});

describe('what an etcd refusal becomes', () => {
  const context: RefusalContext = { urls: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], prefix: 'ipfo/prod/', tls: true, clientCert: false, user: null };
  // As grpc-js words them (recorded from etcd 3.4 and @grpc/grpc-js 1.14).
  const unavailable = (last: string): GRPCUnavailableError => new GRPCUnavailableError(`14 UNAVAILABLE: No connection established. Last error: ${last} (2026-12-04T08:19:37.237Z). Resolution note: `);
  const badCertificate = unavailable('80FCE723FE7E0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42\n');

  function line(error: unknown, over: Partial<RefusalContext> = {}): string {
    const refusal = refusalOf(error, { ...context, ...over });
    assert.ok(refusal !== null, `a refusal: ${String(error)}`);
    assert.ok(isStoreError(refusal, 'refused'));
    assert.equal(exitCodeFor(refusal), EXIT.environment);
    assert.ok(!refusal.message.includes('\n'), refusal.message);
    return refusal.message;
  }

  test('the reason inside grpc-js\'s message, one line', () => {
    assert.equal(connectionReason(badCertificate.message), 'sslv3 alert bad certificate');
    assert.equal(connectionReason(unavailable('Error: unable to verify the first certificate.').message), 'unable to verify the first certificate');
    assert.equal(connectionReason(unavailable("Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: localhost. is not cert's CN: etcd-server.").message), "Hostname/IP does not match certificate's altnames: Host: localhost. is not cert's CN: etcd-server");
    assert.equal(connectionReason('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: '), 'connect ECONNREFUSED 127.0.0.1:1');
    assert.equal(connectionReason('something else'), 'something else');
  });

  test('no client certificate, or one etcd does not trust', () => {
    assert.equal(line(badCertificate), "etcd at https://10.0.0.1:2379, https://10.0.0.2:2379 rejected the TLS handshake (sslv3 alert bad certificate): it wants a client certificate: give --store-cert and --store-key (signed by the CA of etcd's --trusted-ca-file)");
    assert.match(line(badCertificate, { clientCert: true }), /it does not accept the client certificate in --store-cert/);
    assert.match(line(unavailable('error:0A00045C:SSL routines::tlsv13 alert certificate required:')), /rejected the TLS handshake \(tlsv13 alert certificate required\)/);
  });

  test('etcd\'s own certificate not verified', () => {
    assert.match(line(unavailable('Error: unable to verify the first certificate.')), /^cannot verify the TLS certificate of etcd at .* \(unable to verify the first certificate\): --store-ca must name the CA that signed it/);
    assert.match(line(unavailable("Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list: .")), /subjectAltName must hold the address given in --store/);
    assert.match(line(unavailable('Error: self-signed certificate.')), /cannot verify the TLS certificate/);
  });

  test('authentication and permissions', () => {
    const wrong = new EtcdAuthenticationFailedError('3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password');
    assert.match(line(wrong, { user: 'ipfo' }), /refused user "ipfo": authentication failed \(wrong user name or password\): check --store-user and the password in --store-password-file$/);
    assert.match(line(new GRPCInvalidArgumentError('3 INVALID_ARGUMENT: etcdserver: user name is empty')), /has authentication enabled and the agent gave no user: give --store-user and --store-password-file \(an etcd user with readwrite on ipfo\/prod\/\)$/);
    const denied = new EtcdPermissionDeniedError('7 PERMISSION_DENIED: etcdserver: permission denied');
    assert.equal(line(denied, { user: 'ipfo' }), 'etcd at https://10.0.0.1:2379, https://10.0.0.2:2379: permission denied to user "ipfo" on ipfo/prod/: grant its role readwrite on that prefix (etcdctl role grant-permission <role> --prefix=true readwrite ipfo/prod/)');
    assert.match(line(denied, { clientCert: true }), /permission denied to the user named by the client certificate's CN/);
  });

  test('anything else is not a refusal (it keeps its usual error and exit code)', () => {
    assert.equal(refusalOf(unavailable('Error: connect ECONNREFUSED 10.0.0.1:2379.'), context), null);
    assert.equal(refusalOf(badCertificate, { ...context, tls: false }), null);
    assert.equal(refusalOf(new GRPCInvalidArgumentError('3 INVALID_ARGUMENT: etcdserver: something'), context), null);
    assert.equal(refusalOf(new Error('boom'), context), null);
    assert.equal(exitCodeFor(new StoreError('unavailable', 'x')), EXIT.runtime);
  });

  test('an unreachable etcd gets a hint when TLS may be the cause', () => {
    assert.equal(unreachableHint(unavailable('Failed to connect'), { ...context, tls: false }), ' (if etcd serves TLS there, give --store-ca)');
    assert.match(unreachableHint(unavailable('Error: Client network socket disconnected before secure TLS connection was established.'), context), /does etcd serve TLS there/);
    assert.equal(unreachableHint(unavailable('Error: connect ECONNREFUSED 10.0.0.1:2379.'), context), '');
  });
});
