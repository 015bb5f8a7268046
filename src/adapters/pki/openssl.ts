/**
 * A small certificate authority made with Debian's `openssl` command (docs/security.md): one CA (P-256 key, 10
 * years) and certificates it signs for etcd members (SANs) and clients (CN = etcd user). Keys are written mode 0600.
 * Every call is idempotent per file name only where stated; issuing again replaces the certificate and its key.
 */
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PvsError } from '../../core/errors.js';

/** Paths of a certificate and its private key (PEM). */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/** What to put in a certificate the CA signs. */
export interface CertRequest {
  /** Subject CN; for a client of etcd with --client-cert-auth, its etcd user. Omitted: no CN (etcd's gateway wants none). */
  readonly commonName?: string;
  /** Subject alternative names of a server, e.g. `IP:127.0.0.1`, `DNS:localhost`. */
  readonly altNames?: readonly string[];
  /** Validity in days (default 825). */
  readonly days?: number;
}

const SUBJECT_VALUE = /^[A-Za-z0-9@._:-]{1,128}$/;
const ALT_NAME = /^(IP:[0-9a-fA-F.:]+|DNS:[A-Za-z0-9.*-]+)$/;

/** The CA of one directory: `ca.crt` and `ca.key`; `ensure()` makes them once. */
export class OpensslCa {
  constructor(readonly dir: string, private readonly opensslBin = 'openssl') {}

  /** The CA certificate and key paths. */
  get files(): CertFiles {
    return { cert: join(this.dir, 'ca.crt'), key: join(this.dir, 'ca.key') };
  }

  /** Create the CA unless its two files exist; returns their paths. */
  async ensure(commonName = 'pvsync etcd CA'): Promise<CertFiles> {
    const files = this.files;
    if ((await exists(files.cert)) && (await exists(files.key))) return files;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${files.key}.tmp`, '-out', `${files.cert}.tmp`, '-days', '3650', '-subj', subject(commonName),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await chmod(`${files.key}.tmp`, 0o600);
    await rename(`${files.key}.tmp`, files.key);
    await rename(`${files.cert}.tmp`, files.cert);
    return files;
  }

  /**
   * Issue `<outDir>/<name>.crt` and `<name>.key`, signed by this CA, usable as TLS server and client certificate
   * (etcd members dial each other and their own gateway with the same certificate).
   */
  async issue(outDir: string, name: string, req: CertRequest): Promise<CertFiles> {
    if (!/^[A-Za-z0-9@._-]{1,128}$/.test(name)) throw new PvsError('PVS_PKI', `certificate file name ${JSON.stringify(name)} is not safe`);
    for (const alt of req.altNames ?? []) {
      if (!ALT_NAME.test(alt)) throw new PvsError('PVS_PKI', `subject alternative name ${JSON.stringify(alt)}: use IP:addr or DNS:name`);
    }
    const ca = await this.ensure();
    await mkdir(outDir, { recursive: true, mode: 0o700 });
    const out = { cert: join(outDir, `${name}.crt`), key: join(outDir, `${name}.key`) };
    // Work next to the result, so the final renames stay on one file system (a reader never sees half a file).
    const work = await mkdtemp(join(outDir, '.pki-'));
    try {
      const ext = [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        ...((req.altNames ?? []).length > 0 ? [`subjectAltName=${(req.altNames ?? []).join(',')}`] : []),
      ].join('\n') + '\n';
      await writeFile(join(work, 'ext.cnf'), ext);
      // No CN at all when none is wanted; openssl needs some subject, so an O names the project.
      const subj = req.commonName === undefined ? '/O=pvsync' : subject(req.commonName);
      await this.run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(work, 'key.pem'), '-out', join(work, 'req.csr'), '-subj', subj]);
      await this.run(['x509', '-req', '-in', join(work, 'req.csr'), '-CA', ca.cert, '-CAkey', ca.key,
        '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', String(req.days ?? 825),
        '-extfile', join(work, 'ext.cnf'), '-out', join(work, 'cert.pem')]);
      await chmod(join(work, 'key.pem'), 0o600);
      await rename(join(work, 'key.pem'), out.key);
      await rename(join(work, 'cert.pem'), out.cert);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return out;
  }

  private run(args: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.opensslBin, [...args], { timeout: 30_000 }, (err, _stdout, stderr) => {
        if (err === null) return resolve();
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(new PvsError('PVS_PKI', missing
          ? 'openssl is not installed (Debian: apt-get install openssl, or scripts/install-deps.sh as root)'
          : `openssl ${args[0] ?? ''} failed: ${String(stderr).trim().split('\n').slice(-2).join(' ')}`, { cause: err }));
      });
    });
  }
}

function subject(commonName: string): string {
  if (!SUBJECT_VALUE.test(commonName.replace(/ /g, '_'))) {
    throw new PvsError('PVS_PKI', `certificate CN ${JSON.stringify(commonName)}: letters, digits, spaces and @ . _ : - only`);
  }
  return `/CN=${commonName}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
