/**
 * The cluster's certificates, made with openssl: the cluster CA (API server serving cert, admin
 * client cert), the front-proxy CA and client (API aggregation), the service-account key pair,
 * and KEDA's CA with the one cert its operator and metrics adapter share (mTLS between them,
 * and the adapter's serving cert for the aggregated API).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from '../../helpers/binaries.js';

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly frontProxyCaCert: string;
  readonly frontProxyClientCert: string;
  readonly frontProxyClientKey: string;
  readonly saPublicKey: string;
  readonly saPrivateKey: string;
  /** ca.crt, tls.crt, tls.key as KEDA's operator and adapter read them from --cert-dir. */
  readonly kedaCertDir: string;
}

interface Leaf {
  readonly cn: string;
  readonly org?: string;
  readonly sans?: readonly string[];
  readonly usage: 'server' | 'client' | 'both';
}

export function makePki(dir: string): Pki {
  const openssl = requireBinary('openssl', 'openssl');
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]): void => {
    execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' });
  };
  const ecKey = (name: string): void =>
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
  const ca = (name: string, cn: string): void => {
    ecKey(name);
    run([
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${cn}`,
      '-days',
      '30',
      '-out',
      `${name}.crt`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]);
  };
  const leaf = (name: string, caName: string, spec: Leaf): void => {
    ecKey(name);
    const subj = spec.org ? `/O=${spec.org}/CN=${spec.cn}` : `/CN=${spec.cn}`;
    run(['req', '-new', '-key', `${name}.key`, '-subj', subj, '-out', `${name}.csr`]);
    const eku =
      spec.usage === 'server' ? 'serverAuth' : spec.usage === 'client' ? 'clientAuth' : 'serverAuth,clientAuth';
    const ext = [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${eku}`,
    ];
    if (spec.sans?.length) ext.push(`subjectAltName=${spec.sans.join(',')}`);
    writeFileSync(join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
    run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.crt`,
      '-CAkey',
      `${caName}.key`,
      '-CAcreateserial',
      '-days',
      '30',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    ]);
  };
  const local = ['IP:127.0.0.1', 'DNS:localhost'];
  if (!existsSync(join(dir, 'done'))) {
    ca('ca', 'wva-cluster-ca');
    leaf('apiserver', 'ca', {
      cn: 'kube-apiserver',
      usage: 'server',
      sans: [
        ...local,
        'IP:10.0.0.1',
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster.local',
      ],
    });
    leaf('admin', 'ca', { cn: 'admin', org: 'system:masters', usage: 'client' });
    ca('front-proxy-ca', 'wva-front-proxy-ca');
    leaf('front-proxy-client', 'front-proxy-ca', { cn: 'front-proxy-client', usage: 'client' });
    run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key']);
    run(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
    mkdirSync(join(dir, 'keda'), { recursive: true });
    ca('keda/ca', 'KEDA');
    leaf('keda/tls', 'keda/ca', {
      cn: 'keda-operator',
      usage: 'both',
      sans: [
        ...local,
        'DNS:keda-operator',
        'DNS:keda-operator.keda.svc',
        'DNS:keda-metrics-apiserver',
        'DNS:keda-metrics-apiserver.keda.svc',
      ],
    });
    writeFileSync(join(dir, 'done'), '');
  }
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    frontProxyCaCert: join(dir, 'front-proxy-ca.crt'),
    frontProxyClientCert: join(dir, 'front-proxy-client.crt'),
    frontProxyClientKey: join(dir, 'front-proxy-client.key'),
    saPublicKey: join(dir, 'sa.pub'),
    saPrivateKey: join(dir, 'sa.key'),
    kedaCertDir: join(dir, 'keda'),
  };
}
