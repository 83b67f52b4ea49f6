import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './services.ts';

export interface TestCertificate {
  /** PEM files, as TLS_CERT and TLS_KEY name them. */
  certFile: string;
  keyFile: string;
  /** The CA that signed it (PEM), for clients. */
  ca: string;
  remove(): Promise<void>;
}

/** A throwaway CA and a server certificate for 127.0.0.1 and localhost, made with the machine's openssl. */
export async function makeTestCertificate(): Promise<TestCertificate> {
  const openssl = requireBinary('openssl');
  if (!openssl) throw new Error('openssl is not on PATH (apt-get install openssl)');
  const dir = await mkdtemp(join(tmpdir(), 'fm-tls-'));
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Facility Monitor test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return {
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    ca: await readFile(join(dir, 'ca.pem'), 'utf8'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
