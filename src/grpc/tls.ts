/**
 * gRPC server credentials: plaintext, TLS, or mTLS (client certificates checked against a CA).
 * Certificates come from files and are re-read when they change, so a cert-manager rotation needs
 * no restart.
 *
 * Every version of the files is checked before the server uses it, the way the TLS stack would
 * use it (a readable file, a PEM certificate, a PEM key that belongs to it, a CA that parses):
 *  - at start-up a bad file is a TlsConfigError naming the setting (one line; the process stops);
 *  - a rotation to bad files keeps serving the last good ones and reports the problem.
 * grpc-js' own FileWatcherCertificateProvider does neither: a directory never loads (start-up
 * waits forever) and garbage is handed to the handshake, which then resets every connection.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';

export interface TlsFiles {
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly clientCaFile: string | undefined;
}

export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

export interface ServerTls {
  readonly creds: grpc.ServerCredentials;
  readonly mode: 'plaintext' | 'tls' | 'mtls';
  /** Resolves once the files have been read (they are read and checked before this returns). */
  readonly ready: Promise<void>;
  /** Stops watching the files. */
  close(): void;
}

export interface ServerTlsOptions {
  readonly refreshIntervalMs?: number;
  /** A rotation to files that fail the checks: the last good ones stay in use. */
  readonly onRejectedUpdate?: (err: TlsConfigError) => void;
}

const SETTING = { cert: 'WVA_TLS_CERT_FILE', key: 'WVA_TLS_KEY_FILE', ca: 'WVA_TLS_CLIENT_CA_FILE' } as const;
type Part = keyof typeof SETTING;

interface Material {
  readonly certificate: Buffer;
  readonly privateKey: Buffer;
  readonly caCertificate: Buffer | undefined;
}

function fail(part: Part, file: string, why: string): never {
  throw new TlsConfigError(`${SETTING[part]}=${file}: ${why}`);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/** Reads one file as the setting expects it (synchronously: start-up). */
function readPart(part: Part, file: string): Buffer {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    fail(part, file, 'file not found');
  }
  if (!isFile) fail(part, file, 'not a regular file (a directory?); expected a PEM file');
  try {
    return readFileSync(file);
  } catch (err) {
    fail(part, file, `cannot read: ${firstLine(err)}`);
  }
}

/** Checks what was read as the TLS stack will use it; throws a TlsConfigError naming the setting. */
function checkMaterial(files: { cert: string; key: string; ca: string | undefined }, m: Material): Material {
  const pemCert = (part: Part, file: string, buf: Buffer): X509Certificate => {
    const text = buf.toString('utf8');
    if (text.trim() === '') fail(part, file, 'empty file; expected a PEM certificate');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      fail(
        part,
        file,
        /PRIVATE KEY-----/.test(text)
          ? 'holds a private key, not a certificate (cert and key swapped?)'
          : 'not a PEM certificate',
      );
    }
    try {
      return new X509Certificate(buf);
    } catch (err) {
      fail(part, file, `not a valid PEM certificate (${firstLine(err)})`);
    }
  };
  const cert = pemCert('cert', files.cert, m.certificate);
  const keyText = m.privateKey.toString('utf8');
  if (keyText.trim() === '') fail('key', files.key, 'empty file; expected a PEM private key');
  if (!/PRIVATE KEY-----/.test(keyText)) {
    fail(
      'key',
      files.key,
      keyText.includes('-----BEGIN CERTIFICATE-----')
        ? 'holds a certificate, not a private key (cert and key swapped?)'
        : 'not a PEM private key',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(m.privateKey);
  } catch (err) {
    fail('key', files.key, `not a valid PEM private key (${firstLine(err)})`);
  }
  if (!cert.checkPrivateKey(key))
    fail('key', files.key, `does not belong to the certificate in ${SETTING.cert}=${files.cert}`);
  if (files.ca !== undefined && m.caCertificate !== undefined) pemCert('ca', files.ca, m.caCertificate);
  try {
    createSecureContext({
      cert: m.certificate,
      key: m.privateKey,
      ...(m.caCertificate ? { ca: m.caCertificate } : {}),
    });
  } catch (err) {
    fail('cert', files.cert, `unusable with ${SETTING.key}: ${firstLine(err)}`);
  }
  return m;
}

/**
 * A CertificateProvider that hands grpc-js only material that passed checkMaterial: the first
 * version at construction (or it throws), later versions when the files change and pass.
 */
class CheckedFileProvider implements grpc.experimental.CertificateProvider {
  private material: Material;
  private readonly identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  private readonly caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private readonly timer: NodeJS.Timeout;
  private lastRejected = '';
  private reading = false;

  constructor(
    private readonly files: { cert: string; key: string; ca: string | undefined },
    refreshIntervalMs: number,
    private readonly onRejected: (err: TlsConfigError) => void,
  ) {
    this.material = checkMaterial(files, {
      certificate: readPart('cert', files.cert),
      privateKey: readPart('key', files.key),
      caCertificate: files.ca === undefined ? undefined : readPart('ca', files.ca),
    });
    this.timer = setInterval(() => void this.refresh(), refreshIntervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    // Asynchronously, as grpc-js' own providers do: its credentials register their watcher only
    // after adding the listener, and an update before that would be lost.
    queueMicrotask(() => {
      if (this.identityListeners.has(listener))
        listener({ certificate: this.material.certificate, privateKey: this.material.privateKey });
    });
  }
  removeIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }
  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => {
      const ca = this.material.caCertificate;
      if (ca && this.caListeners.has(listener)) listener({ caCertificate: ca });
    });
  }
  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }

  private async refresh(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const read = async (part: Part, file: string): Promise<Buffer> => {
        try {
          return await readFile(file);
        } catch (err) {
          fail(part, file, `cannot read: ${firstLine(err)}`);
        }
      };
      const next: Material = {
        certificate: await read('cert', this.files.cert),
        privateKey: await read('key', this.files.key),
        caCertificate: this.files.ca === undefined ? undefined : await read('ca', this.files.ca),
      };
      const m = this.material;
      if (
        next.certificate.equals(m.certificate) &&
        next.privateKey.equals(m.privateKey) &&
        (next.caCertificate?.equals(m.caCertificate ?? Buffer.alloc(0)) ?? true)
      ) {
        this.lastRejected = '';
        return;
      }
      this.material = checkMaterial(this.files, next);
      this.lastRejected = '';
      for (const l of this.identityListeners)
        l({ certificate: this.material.certificate, privateKey: this.material.privateKey });
      const ca = this.material.caCertificate;
      if (ca) for (const l of this.caListeners) l({ caCertificate: ca });
    } catch (err) {
      const e = err instanceof TlsConfigError ? err : new TlsConfigError(firstLine(err));
      // Once per distinct problem: a half-done rotation is polled every interval until it ends.
      if (e.message !== this.lastRejected) this.onRejected(e);
      this.lastRejected = e.message;
    } finally {
      this.reading = false;
    }
  }
}

export function serverCredentials(
  files: TlsFiles,
  refreshIntervalMsOrOptions: number | ServerTlsOptions = {},
): ServerTls {
  const opts: ServerTlsOptions =
    typeof refreshIntervalMsOrOptions === 'number'
      ? { refreshIntervalMs: refreshIntervalMsOrOptions }
      : refreshIntervalMsOrOptions;
  const { certFile, keyFile, clientCaFile } = files;
  if (!certFile && !keyFile) {
    if (clientCaFile)
      throw new TlsConfigError(
        'WVA_TLS_CLIENT_CA_FILE is set but WVA_TLS_CERT_FILE/WVA_TLS_KEY_FILE are not: mTLS needs a server certificate',
      );
    return {
      creds: grpc.ServerCredentials.createInsecure(),
      mode: 'plaintext',
      ready: Promise.resolve(),
      close: () => undefined,
    };
  }
  if (!certFile || !keyFile) throw new TlsConfigError('WVA_TLS_CERT_FILE and WVA_TLS_KEY_FILE must be set together');
  for (const [name, f] of [
    ['WVA_TLS_CERT_FILE', certFile],
    ['WVA_TLS_KEY_FILE', keyFile],
    ['WVA_TLS_CLIENT_CA_FILE', clientCaFile],
  ] as const) {
    if (f && !existsSync(f)) throw new TlsConfigError(`${name}=${f}: file not found`);
  }
  const provider = new CheckedFileProvider(
    { cert: certFile, key: keyFile, ca: clientCaFile },
    opts.refreshIntervalMs ?? 10_000,
    opts.onRejectedUpdate ?? (() => undefined),
  );
  const withCa = clientCaFile !== undefined;
  // grpc-js' exported signature names its parameters (ca, identity) but forwards them to the
  // credentials as (identity, ca): identity first, CA (client verification) second.
  const creds = grpc.experimental.createCertificateProviderServerCredentials(
    provider,
    withCa ? provider : null,
    withCa,
  );
  return { creds, mode: withCa ? 'mtls' : 'tls', ready: Promise.resolve(), close: () => provider.close() };
}
