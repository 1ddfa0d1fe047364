// Certificates for a TLS etcd in a test, made with the openssl CLI in a private temp dir (no network):
// a CA, etcd's server certificate for the given addresses (subjectAltName IP:...; usable as a client
// certificate too, which etcd's own gateway needs under --client-cert-auth), a client certificate
// (CN=ipfo) for the agents and etcdctl, and a second, unrelated CA with a client certificate of its
// own (what etcd must turn down). remove() deletes the dir; a process-exit hook does the same.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface EtcdCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA etcd does not know, and a client certificate it signed. */
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
  remove(): void;
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', ...KEY, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

async function makeSigned(dir: string, name: string, cn: string, ca: { cert: string; key: string }, extensions: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  await run('openssl', ['req', ...KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  chmodSync(key, 0o600);
  return { cert, key };
}

const live = new Set<string>();
process.once('exit', () => {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
});

export async function makeEtcdCertificates(serverIps: readonly string[]): Promise<EtcdCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-etcd-certs-'));
  chmodSync(dir, 0o700);
  live.add(dir);
  const remove = (): void => {
    rmSync(dir, { recursive: true, force: true });
    live.delete(dir);
  };
  try {
    const ca = await makeCa(dir, 'ca');
    const san = serverIps.map((ip) => `IP:${ip}`).join(',');
    const server = await makeSigned(dir, 'server', 'etcd', ca, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    const client = await makeSigned(dir, 'client', 'ipfo', ca, 'extendedKeyUsage=clientAuth\n');
    const other = await makeCa(dir, 'other-ca');
    const otherClient = await makeSigned(dir, 'other-client', 'ipfo', other, 'extendedKeyUsage=clientAuth\n');
    return {
      dir,
      ca: ca.cert,
      serverCert: server.cert,
      serverKey: server.key,
      clientCert: client.cert,
      clientKey: client.key,
      otherCa: other.cert,
      otherClientCert: otherClient.cert,
      otherClientKey: otherClient.key,
      remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}
