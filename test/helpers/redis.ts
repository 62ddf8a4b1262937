/**
 * A real Debian `redis-server` on a free 127.0.0.1 port, no persistence, for integration tests
 * and benches. `stop()` kills it (SIGKILL by default: a crash, not a clean shutdown), `start()`
 * brings it back on the same port, `pause()`/`resume()` make it hang (SIGSTOP/SIGCONT) to test
 * a slow Redis. A missing binary fails with its apt install command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { requireBinary } from './binaries.js';
import { freePort, waitFor } from './ports.js';

export class RedisServer {
  private child: ChildProcess | undefined;
  private output = '';
  private paused = false;

  private constructor(
    readonly binary: string,
    readonly port: number,
  ) {}

  /** Starts a server on a free port and waits until it answers PING. */
  static async start(): Promise<RedisServer> {
    const binary = requireBinary('redis-server', 'redis-server');
    const server = new RedisServer(binary, await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** (Re)starts on the same port; an empty dataset each time (no RDB, no AOF). */
  async start(): Promise<void> {
    if (this.running) return;
    this.output = '';
    const child = spawn(
      this.binary,
      [
        '--port',
        String(this.port),
        '--save',
        '',
        '--appendonly',
        'no',
        '--bind',
        '127.0.0.1',
        '--protected-mode',
        'yes',
        '--loglevel',
        'warning',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    child.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
    await waitFor(
      async () => {
        if (!this.running) throw new Error(`redis-server exited on port ${this.port}: ${this.output.slice(-500)}`);
        return pingOnce(this.port);
      },
      10_000,
      `redis-server on 127.0.0.1:${this.port}`,
    );
  }

  /** Kills the server and waits for it to exit (the port is free again afterwards). */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    if (this.paused) this.resume();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Freezes the process: connections stay open but nothing is answered. */
  pause(): void {
    this.child?.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.child?.kill('SIGCONT');
    this.paused = false;
  }
}

/** One raw RESP PING over TCP; true on +PONG. */
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (b: Buffer) => done(b.toString().startsWith('+PONG')));
  });
}
