/**
 * TLS for `serve`: the user's certificate and key, or a certificate authority and a server certificate
 * made at start (for trying it out), whose CA is written to a file so that a client (curl, or a
 * webhook configuration's caBundle) can trust it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { generate } from 'selfsigned';
import { readText } from '../adapters/files';
import { FileError } from '../domain/errors';

export interface ServerTls {
  readonly cert: string;
  readonly key: string;
  /** Set when the certificate was made at start: its CA, for `writeCa` once the server listens. */
  readonly caPem?: string;
}

/** Checked here, so that a bad file is a one-line error naming it rather than a stack trace at listen. */
export function loadTls(certFile: string, keyFile: string): ServerTls {
  const cert = readText(certFile);
  const key = readText(keyFile);
  checkPem(certFile, cert, 'not a PEM certificate', { cert });
  checkPem(keyFile, key, 'not a PEM private key', { key });
  checkPem(keyFile, key, `does not match the certificate in ${certFile}`, { cert, key });
  return { cert, key };
}

function checkPem(file: string, text: string, problem: string, options: SecureContextOptions): void {
  if (text.trim() === '') throw new FileError(file, 'is empty');
  try {
    createSecureContext(options);
  } catch (error) {
    throw new FileError(file, `${problem} (${(error as Error).message})`, { cause: error });
  }
}

/**
 * A CA and a server certificate for `hosts` (DNS names or IP addresses), in memory: the caller writes
 * the CA (`writeCa`) only once the server listens, so that a second server that cannot start never
 * overwrites the first one's CA.
 */
export async function makeSelfSignedTls(hosts: readonly string[]): Promise<ServerTls> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 86_400_000);
  const ca = await generate([{ name: 'commonName', value: 'ecr-admission local CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const altNames = hosts.map((host) =>
    /^[\d.]+$/.test(host) || host.includes(':')
      ? { type: 7 as const, ip: host }
      : { type: 2 as const, value: host },
  );
  const leaf = await generate([{ name: 'commonName', value: hosts[0] ?? 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: `${leaf.cert}`, key: leaf.private, caPem: ca.cert };
}

export function writeCa(caFile: string, caPem: string): void {
  mkdirSync(dirname(caFile), { recursive: true });
  writeFileSync(caFile, caPem);
}
