// The last files the agent read or wrote without asking who may change them: the lease-deadline file
// (never through a link, and a failure never throws on the lease timer), the etcd CA and client
// certificate, and the API's TLS certificate and key (refused when another user can change them).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LeaseDeadlineFile, stateFileName } from '../../main/agent/lease-deadline';
import { loadTlsFiles } from '../../main/api/tls';
import { exitCodeFor } from '../../main/cli/errors';
import { EXIT } from '../../main/cli/exit-codes';
import { UntrustedPathError } from '../../main/fs/trusted-path';
import { loadStoreAccess } from '../../main/store/etcd-access';

const root = mkdtempSync(join(tmpdir(), 'ipfo-trusted-files-'));
after(() => rmSync(root, { recursive: true, force: true }));
const asRoot = process.getuid?.() === 0;

function certificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'c.crt');
  const key = join(dir, 'c.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=t', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  chmodSync(key, 0o600);
  return { cert, key };
}

describe('the lease-deadline file', () => {
  test('a link planted at its temp or its own path is never followed; a failed write is returned, not thrown', () => {
    const dir = join(root, 'state');
    mkdirSync(dir, { mode: 0o700 });
    const target = join(root, 'precious');
    writeFileSync(target, 'keep me\n');
    const file = new LeaseDeadlineFile(dir, 'n1');
    symlinkSync(target, join(dir, 'n1.lease-deadline.tmp'));
    const problem = file.write(performance.now() + 3000);
    assert.match(problem ?? '', /lease deadline not recorded in .*n1\.lease-deadline: ELOOP/);
    assert.equal(readFileSync(target, 'utf8'), 'keep me\n', 'the link\'s target is intact');
    rmSync(join(dir, 'n1.lease-deadline.tmp'));
    assert.equal(file.write(performance.now() + 3000), null);
    assert.ok(file.remainingMs() > 2000);
    // A link in place of the file itself: not read (no lease is believed from someone else's file).
    rmSync(join(dir, 'n1.lease-deadline'));
    writeFileSync(target, `${process.hrtime.bigint() + 10_000_000_000n}\n`);
    symlinkSync(target, join(dir, 'n1.lease-deadline'));
    assert.equal(file.remainingMs(), 0);
  });
});

describe('certificates another user can change', { skip: !asRoot && 'needs root to give a file to another uid' }, () => {
  test('the etcd CA or client certificate in a directory of another uid is refused (exit 2)', async () => {
    const dir = join(root, 'theirs');
    mkdirSync(dir, { mode: 0o755 });
    const { cert, key } = certificate(dir);
    chownSync(dir, 42424, 42424);
    await assert.rejects(loadStoreAccess({ ca: cert, cert: null, key: null, user: null, passwordFile: null }), (error: unknown) => {
      assert.ok(error instanceof UntrustedPathError, String(error));
      assert.match(error.message, /--store-ca .*belongs to uid 42424/);
      assert.equal(exitCodeFor(error), EXIT.badInput);
      return true;
    });
    await assert.rejects(loadTlsFiles(cert, key), (error: unknown) => error instanceof UntrustedPathError && /the TLS certificate .*belongs to uid 42424/.test(error.message));
  });

  test('the same files in a directory only root can change are read', async () => {
    const dir = join(root, 'ours');
    mkdirSync(dir, { mode: 0o755 });
    const { cert, key } = certificate(dir);
    const access = await loadStoreAccess({ ca: cert, cert: null, key: null, user: null, passwordFile: null });
    assert.ok(access.tls?.ca instanceof Buffer);
    const material = await loadTlsFiles(cert, key);
    assert.match(material.cert, /BEGIN CERTIFICATE/);
    // Writable by others: refused too.
    chmodSync(cert, 0o666);
    await assert.rejects(loadTlsFiles(cert, key), (error: unknown) => error instanceof UntrustedPathError && /writable by group or others/.test(error.message));
  });
});

test('state files are named by node and cluster: two clusters with an "n1" do not share a lease deadline', () => {
  const a = stateFileName('n1', 'etcd://10.1.0.5:2379', 'default');
  assert.match(a, /^n1\.[0-9a-f]{12}$/);
  assert.equal(stateFileName('n1', 'etcd://10.1.0.5:2379', 'default'), a, 'the same cluster: the same name across restarts');
  assert.notEqual(stateFileName('n1', 'etcd://10.2.0.5:2379', 'default'), a, 'another store');
  assert.notEqual(stateFileName('n1', 'etcd://10.1.0.5:2379', 'other'), a, 'another cluster on the same store');
  assert.notEqual(stateFileName('n2', 'etcd://10.1.0.5:2379', 'default'), a);
});
