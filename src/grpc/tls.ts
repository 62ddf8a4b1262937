/**
 * gRPC server credentials: plaintext, TLS, or mTLS (client certificates checked against a CA).
 * Certificates come from files and are re-read when they change (grpc-js' FileWatcherCertificateProvider),
 * so a cert-manager rotation needs no restart.
 */
import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

export interface TlsFiles {
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly clientCaFile: string | undefined;
}

export class TlsConfigError extends Error {}

export interface ServerTls {
  readonly creds: grpc.ServerCredentials;
  readonly mode: 'plaintext' | 'tls' | 'mtls';
  /** Resolves once the files have been read (bind only after it, or the first handshakes fail). */
  readonly ready: Promise<void>;
  /** Stops watching the files. */
  close(): void;
}

export function serverCredentials(files: TlsFiles, refreshIntervalMs = 10_000): ServerTls {
  const { certFile, keyFile, clientCaFile } = files;
  if (!certFile && !keyFile) {
    if (clientCaFile) throw new TlsConfigError('WVA_TLS_CLIENT_CA_FILE is set but WVA_TLS_CERT_FILE/WVA_TLS_KEY_FILE are not: mTLS needs a server certificate');
    return { creds: grpc.ServerCredentials.createInsecure(), mode: 'plaintext', ready: Promise.resolve(), close: () => undefined };
  }
  if (!certFile || !keyFile) throw new TlsConfigError('WVA_TLS_CERT_FILE and WVA_TLS_KEY_FILE must be set together');
  for (const [name, f] of [['WVA_TLS_CERT_FILE', certFile], ['WVA_TLS_KEY_FILE', keyFile], ['WVA_TLS_CLIENT_CA_FILE', clientCaFile]] as const) {
    if (f && !existsSync(f)) throw new TlsConfigError(`${name}=${f}: file not found`);
  }
  const closers: (() => void)[] = [];
  const identity = new grpc.experimental.FileWatcherCertificateProvider({ certificateFile: certFile, privateKeyFile: keyFile, refreshIntervalMs });
  const ca = clientCaFile ? new grpc.experimental.FileWatcherCertificateProvider({ caCertificateFile: clientCaFile, refreshIntervalMs }) : null;
  // The providers read files asynchronously and only while someone listens; a permanent listener
  // keeps them warm, so the server has certificates before its first handshake and after rotation.
  const identityLoaded = new Promise<void>((resolve) => {
    const listener: grpc.experimental.IdentityCertificateUpdateListener = (u) => u && resolve();
    identity.addIdentityCertificateListener(listener);
    closers.push(() => identity.removeIdentityCertificateListener(listener));
  });
  const caLoaded = ca
    ? new Promise<void>((resolve) => {
        const listener: grpc.experimental.CaCertificateUpdateListener = (u) => u && resolve();
        ca.addCaCertificateListener(listener);
        closers.push(() => ca.removeCaCertificateListener(listener));
      })
    : Promise.resolve();
  // grpc-js' exported signature names its parameters (ca, identity) but forwards them to the
  // credentials as (identity, ca): identity first, CA (client verification) second.
  const creds = grpc.experimental.createCertificateProviderServerCredentials(identity, ca, ca !== null);
  return {
    creds,
    mode: ca ? 'mtls' : 'tls',
    ready: Promise.all([identityLoaded, caLoaded]).then(() => undefined),
    close: () => closers.splice(0).forEach((c) => c()),
  };
}
