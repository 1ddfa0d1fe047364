// TLS material of the API server (`--tls-cert F --tls-key F`), checked at start so that a wrong
// file is a clear error then, not a handshake failure every console reports differently later.
import { checkTrustedPath } from '../fs/trusted-path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface TlsMaterial {
  /** PEM certificate chain, the server's own certificate first. */
  cert: string;
  /** PEM private key of that certificate. */
  key: string;
}

export class TlsConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsConfigError';
  }
}

/** Checks that `cert` parses, has not expired, and belongs to `key`. */
export function checkTlsMaterial(material: TlsMaterial, now: Date = new Date()): X509Certificate {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(material.cert);
  } catch (error) {
    throw new TlsConfigError('the TLS certificate is not a PEM X.509 certificate', { cause: error });
  }
  let key;
  try {
    key = createPrivateKey(material.key);
  } catch (error) {
    throw new TlsConfigError('the TLS key is not a PEM private key (encrypted keys are not supported)', { cause: error });
  }
  if (!certificate.checkPrivateKey(key)) throw new TlsConfigError('the TLS key does not belong to the certificate');
  if (new Date(certificate.validTo).getTime() < now.getTime()) {
    throw new TlsConfigError(`the TLS certificate expired on ${certificate.validTo}`);
  }
  return certificate;
}

/** Reads and checks the certificate and key files. */
export async function loadTlsFiles(certFile: string, keyFile: string): Promise<TlsMaterial> {
  const read = async (file: string, what: string): Promise<string> => {
    // Whoever can change these files (or a directory on the way) can pose as this agent.
    checkTrustedPath(file, { label: `the TLS ${what} ${file}` });
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new TlsConfigError(`cannot read the TLS ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
  };
  const material = { cert: await read(certFile, 'certificate'), key: await read(keyFile, 'key') };
  checkTlsMaterial(material);
  return material;
}
