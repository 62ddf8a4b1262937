/**
 * Debian's `prometheus` binary for integration tests and benches: a temp config scraping the given
 * /metrics URLs (honor_labels, so the emulator's namespace/pod labels stay), a temp TSDB, a free
 * loopback port. It can be stopped and started again on the same port and data dir (an outage).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { freePort, waitFor } from './ports.js';

export interface ScrapeJob {
  readonly job: string;
  /** A full /metrics URL (http://127.0.0.1:PORT/path). */
  readonly url: string;
}

export interface PrometheusOptions {
  readonly jobs: readonly ScrapeJob[];
  readonly scrapeIntervalMs?: number;
  readonly readyTimeoutMs?: number;
}

function configYaml(jobs: readonly ScrapeJob[], intervalMs: number): string {
  const interval = `${Math.max(1, Math.round(intervalMs / 1000))}s`;
  const lines = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    '  evaluation_interval: 15s',
    'scrape_configs:',
  ];
  for (const j of jobs) {
    const u = new URL(j.url);
    lines.push(
      `  - job_name: ${JSON.stringify(j.job)}`,
      '    honor_labels: true',
      `    metrics_path: ${JSON.stringify(u.pathname)}`,
      '    static_configs:',
      `      - targets: [${JSON.stringify(u.host)}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export class PrometheusProcess {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly dir: string,
    private readonly readyTimeoutMs: number,
  ) {}

  static async start(opts: PrometheusOptions): Promise<PrometheusProcess> {
    const binary = requireBinary('prometheus', 'prometheus');
    const dir = mkdtempSync(join(tmpdir(), 'wva-prom-'));
    writeFileSync(join(dir, 'prometheus.yml'), configYaml(opts.jobs, opts.scrapeIntervalMs ?? 1000));
    const p = new PrometheusProcess(binary, await freePort(), dir, opts.readyTimeoutMs ?? 20_000);
    await p.startProcess();
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Last lines of Prometheus' own log, for failure messages. */
  get logTail(): string {
    return this.log.split('\n').slice(-20).join('\n');
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async startProcess(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      this.binary,
      [
        `--config.file=${join(this.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (b: Buffer): void => {
      this.log = (this.log + b.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited: number | null | undefined;
    child.once('exit', (code) => {
      exited = code;
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
    await waitFor(
      async () => {
        if (exited !== undefined) throw new Error(`prometheus exited with code ${String(exited)}:\n${this.logTail}`);
        try {
          return (await fetch(`${this.url}/-/ready`)).ok;
        } catch {
          return false;
        }
      },
      this.readyTimeoutMs,
      'prometheus /-/ready',
    );
  }

  /** SIGTERM and wait for exit (Prometheus closes its TSDB cleanly, so a restart reuses it). */
  async stopProcess(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Stop and start again; `wipeData` loses the TSDB, as a Prometheus on an emptyDir does. */
  async restart(opts: { wipeData?: boolean } = {}): Promise<void> {
    await this.stopProcess();
    if (opts.wipeData) rmSync(join(this.dir, 'data'), { recursive: true, force: true });
    await this.startProcess();
  }

  /** Stops the process and removes its temp dir. */
  async close(): Promise<void> {
    await this.stopProcess();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Prometheus' own counter of API requests by handler, read from its /metrics (not via a query). */
  async httpRequests(handler: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('prometheus_http_requests_total{') || !line.includes(`handler="${handler}"`)) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  }
}
