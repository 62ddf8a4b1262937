/**
 * TLS and mTLS with real certificates made by openssl for the test, and rotation: a certificate
 * replaced on disk is served without a restart.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverCredentials, TlsConfigError } from '../../src/grpc/tls.js';
import { requireBinary } from '../helpers/binaries.js';
import { startHarness, unary } from '../helpers/scaler-harness.js';
import type { GetMetricSpecResponse__Output as GetMetricSpecResponse } from '../../src/grpc/proto.js';

let dir: string;
function openssl(...args: string[]): void {
  execFileSync(requireBinary('openssl', 'openssl'), args, { cwd: dir, stdio: 'pipe' });
}
function makeCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  );
}
function makeCert(name: string, ca: string, cn: string): void {
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  );
  const ext = join(dir, `${name}.ext`);
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ${ext}`]);
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    `${name}.crt`,
  );
}
const f = (n: string) => join(dir, n);
const ref = { name: 'v', namespace: 'ns', scalerMetadata: { modelID: 'm' } };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wva-tls-'));
  makeCa('ca');
  makeCa('ca2');
  makeCert('server', 'ca', 'localhost');
  makeCert('server2', 'ca2', 'localhost');
  makeCert('client', 'ca', 'keda');
  makeCert('rogue', 'ca2', 'rogue');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gRPC TLS', () => {
  it('serves TLS to a client that trusts the CA and reloads a rotated certificate', async () => {
    copyFileSync(f('server.crt'), f('live.crt'));
    copyFileSync(f('server.key'), f('live.key'));
    const tls = serverCredentials({ certFile: f('live.crt'), keyFile: f('live.key'), clientCaFile: undefined }, 200);
    expect(tls.mode).toBe('tls');
    await tls.ready;
    const h = await startHarness({ credentials: tls.creds });
    try {
      const c = h.client(grpc.credentials.createSsl(readFileSync(f('ca.crt'))));
      const res = await unary<unknown, GetMetricSpecResponse>(c, 'GetMetricSpec', ref);
      expect(res.metricSpecs).toHaveLength(1);
      const plain = h.client();
      await expect(unary(plain, 'GetMetricSpec', ref, 1000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });

      // Rotate to a certificate from another CA: new connections must see it without a restart.
      copyFileSync(f('server2.crt'), f('live.crt'));
      copyFileSync(f('server2.key'), f('live.key'));
      const deadline = Date.now() + 5000;
      let rotated = false;
      while (!rotated && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        const c2 = h.client(grpc.credentials.createSsl(readFileSync(f('ca2.crt'))));
        rotated = await unary(c2, 'GetMetricSpec', ref, 1000).then(
          () => true,
          () => false,
        );
        c2.close();
      }
      expect(rotated).toBe(true);
    } finally {
      await h.stop();
      tls.close();
    }
  });

  it('requires a client certificate from the client CA with mTLS', async () => {
    const tls = serverCredentials({ certFile: f('server.crt'), keyFile: f('server.key'), clientCaFile: f('ca.crt') });
    expect(tls.mode).toBe('mtls');
    await tls.ready;
    const h = await startHarness({ credentials: tls.creds });
    try {
      const ca = readFileSync(f('ca.crt'));
      const good = h.client(
        grpc.credentials.createSsl(ca, readFileSync(f('client.key')), readFileSync(f('client.crt'))),
      );
      expect((await unary<unknown, GetMetricSpecResponse>(good, 'GetMetricSpec', ref)).metricSpecs).toHaveLength(1);
      const none = h.client(grpc.credentials.createSsl(ca));
      await expect(unary(none, 'GetMetricSpec', ref, 1000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      const rogue = h.client(
        grpc.credentials.createSsl(ca, readFileSync(f('rogue.key')), readFileSync(f('rogue.crt'))),
      );
      await expect(unary(rogue, 'GetMetricSpec', ref, 1000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      await h.stop();
      tls.close();
    }
  });

  it('refuses incomplete TLS settings with a clear message', () => {
    expect(() => serverCredentials({ certFile: f('server.crt'), keyFile: undefined, clientCaFile: undefined })).toThrow(
      /must be set together/,
    );
    expect(() => serverCredentials({ certFile: undefined, keyFile: undefined, clientCaFile: f('ca.crt') })).toThrow(
      TlsConfigError,
    );
    expect(() =>
      serverCredentials({ certFile: f('nope.crt'), keyFile: f('server.key'), clientCaFile: undefined }),
    ).toThrow(/file not found/);
  });

  // Finding 3: a directory hung start-up forever; garbage, empty or swapped PEM files gave "ready"
  // while every handshake was reset. Each must stop start-up with one line naming the setting.
  describe('unusable files stop start-up with one line naming the setting', () => {
    const cases: [string, () => { cert: string; key: string; ca?: string }, RegExp][] = [
      [
        'a directory as cert',
        () => ({ cert: mkdir('dir-cert'), key: f('server.key') }),
        /^WVA_TLS_CERT_FILE=.*dir-cert: not a regular file/,
      ],
      [
        'a directory as key',
        () => ({ cert: f('server.crt'), key: mkdir('dir-key') }),
        /^WVA_TLS_KEY_FILE=.*dir-key: not a regular file/,
      ],
      [
        'a directory as client CA',
        () => ({ cert: f('server.crt'), key: f('server.key'), ca: mkdir('dir-ca') }),
        /^WVA_TLS_CLIENT_CA_FILE=.*dir-ca: not a regular file/,
      ],
      [
        'a garbage cert',
        () => ({ cert: write('garbage.crt', 'hello\n'), key: f('server.key') }),
        /^WVA_TLS_CERT_FILE=.*: not a PEM certificate/,
      ],
      [
        'an empty cert',
        () => ({ cert: write('empty.crt', ''), key: f('server.key') }),
        /^WVA_TLS_CERT_FILE=.*: empty file/,
      ],
      [
        'an empty key',
        () => ({ cert: f('server.crt'), key: write('empty.key', '') }),
        /^WVA_TLS_KEY_FILE=.*: empty file/,
      ],
      [
        'a garbage key',
        () => ({
          cert: f('server.crt'),
          key: write('garbage.key', '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n'),
        }),
        /^WVA_TLS_KEY_FILE=.*: not a valid PEM private key/,
      ],
      [
        'cert and key swapped',
        () => ({ cert: f('server.key'), key: f('server.crt') }),
        /^WVA_TLS_CERT_FILE=.*server\.key: holds a private key, not a certificate/,
      ],
      [
        'a key of another certificate',
        () => ({ cert: f('server.crt'), key: f('server2.key') }),
        /^WVA_TLS_KEY_FILE=.*server2\.key: does not belong to the certificate/,
      ],
      [
        'a garbage client CA',
        () => ({ cert: f('server.crt'), key: f('server.key'), ca: write('garbage-ca.crt', 'x') }),
        /^WVA_TLS_CLIENT_CA_FILE=.*: not a PEM certificate/,
      ],
    ];
    it.each(cases)('%s', (_name, files, message) => {
      const { cert, key, ca } = files();
      let err: unknown;
      try {
        serverCredentials({ certFile: cert, keyFile: key, clientCaFile: ca });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TlsConfigError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    });
  });

  it('keeps serving the last good certificate when the files rotate to something unusable, then takes the next good one', async () => {
    copyFileSync(f('server.crt'), f('rot.crt'));
    copyFileSync(f('server.key'), f('rot.key'));
    const rejected: string[] = [];
    const tls = serverCredentials(
      { certFile: f('rot.crt'), keyFile: f('rot.key'), clientCaFile: undefined },
      { refreshIntervalMs: 100, onRejectedUpdate: (e) => rejected.push(e.message) },
    );
    const h = await startHarness({ credentials: tls.creds });
    try {
      const handshake = async (ca: string): Promise<boolean> => {
        const c = h.client(grpc.credentials.createSsl(readFileSync(f(ca))));
        try {
          return await unary(c, 'GetMetricSpec', ref, 2000).then(
            () => true,
            () => false,
          );
        } finally {
          c.close();
        }
      };
      expect(await handshake('ca.crt')).toBe(true);
      // Garbage, then a key of another certificate: each is refused and reported, the old one stays.
      writeFileSync(f('rot.crt'), 'garbage');
      await waitUntil(() => rejected.length >= 1);
      expect(rejected[0]).toMatch(/^WVA_TLS_CERT_FILE=.*not a PEM certificate/);
      expect(await handshake('ca.crt')).toBe(true);
      copyFileSync(f('server.crt'), f('rot.crt'));
      copyFileSync(f('server2.key'), f('rot.key'));
      await waitUntil(() => rejected.length >= 2);
      expect(rejected[1]).toMatch(/^WVA_TLS_KEY_FILE=.*does not belong to the certificate/);
      expect(await handshake('ca.crt')).toBe(true);
      // The rotation completes: the new certificate is served.
      copyFileSync(f('server2.crt'), f('rot.crt'));
      await waitUntil(async () => handshake('ca2.crt'));
    } finally {
      await h.stop();
      tls.close();
    }
  });
});

function mkdir(name: string): string {
  mkdirSync(f(name), { recursive: true });
  return f(name);
}
function write(name: string, text: string): string {
  writeFileSync(f(name), text);
  return f(name);
}
async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
