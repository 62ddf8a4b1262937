/**
 * Background processes of the cluster: each runs detached in its own process group with its
 * output in `<dir>/logs/<name>.log`, and is recorded in `<dir>/state.json` so that a later
 * `down` (another process) stops every group it started and leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcRecord {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
}

export interface ProcSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ProcessTable {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'logs'), { recursive: true });
  }

  private get file(): string {
    return join(this.dir, 'procs.json');
  }

  list(): ProcRecord[] {
    if (!existsSync(this.file)) return [];
    return JSON.parse(readFileSync(this.file, 'utf8')) as ProcRecord[];
  }

  private save(records: readonly ProcRecord[]): void {
    writeFileSync(this.file, `${JSON.stringify(records, null, 2)}\n`);
  }

  logOf(name: string): string {
    return join(this.dir, 'logs', `${name}.log`);
  }

  /** Starts a detached process group; the caller waits for its readiness. */
  start(spec: ProcSpec): ProcRecord {
    const log = this.logOf(spec.name);
    if (spec.command.startsWith('/') && !existsSync(spec.command))
      throw new Error(`cluster: ${spec.name}: ${spec.command} does not exist (run test/cluster/build.sh)`);
    const fd = openSync(log, 'a');
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    // A spawn failure is reported by pid === undefined below; the event itself must not crash us.
    child.on('error', () => undefined);
    if (child.pid === undefined)
      throw new Error(`cluster: could not start ${spec.name} (${spec.command}); log: ${log}`);
    child.unref();
    const rec: ProcRecord = { name: spec.name, pid: child.pid, log };
    this.save([...this.list().filter((r) => r.name !== spec.name), rec]);
    return rec;
  }

  alive(name: string): boolean {
    const rec = this.list().find((r) => r.name === name);
    return rec !== undefined && groupAlive(rec.pid);
  }

  /** Stops one process group (SIGTERM, then SIGKILL after graceMs). */
  async stop(name: string, graceMs = 10_000): Promise<void> {
    const rec = this.list().find((r) => r.name === name);
    if (!rec) return;
    await stopGroup(rec.pid, graceMs);
    this.save(this.list().filter((r) => r.name !== name));
  }

  /** SIGKILL at once: a crash, nothing released gracefully. */
  async kill(name: string): Promise<void> {
    const rec = this.list().find((r) => r.name === name);
    if (!rec) return;
    try {
      process.kill(-rec.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    while (groupAlive(rec.pid)) await sleep(50);
    this.save(this.list().filter((r) => r.name !== name));
  }

  /** SIGSTOP / SIGCONT a whole group: the process stays, but does not answer (a hung peer). */
  signal(name: string, sig: 'SIGSTOP' | 'SIGCONT'): void {
    const rec = this.list().find((r) => r.name === name);
    if (!rec) throw new Error(`cluster: no process named ${name}`);
    process.kill(-rec.pid, sig);
  }

  /** Stops every recorded group, newest first. */
  async stopAll(graceMs = 10_000): Promise<void> {
    for (const rec of this.list().reverse()) await stopGroup(rec.pid, graceMs);
    this.save([]);
  }

  /** Names of recorded groups that still have a live process. */
  survivors(): string[] {
    return this.list()
      .filter((r) => groupAlive(r.pid))
      .map((r) => r.name);
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // A group whose leader is a zombie (exited, not yet reaped by its parent) has nothing running
  // when the leader was its only member, as every process started here is.
  return !zombie(pgid);
}

function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  if (!groupAlive(pgid)) return;
  try {
    process.kill(-pgid, 'SIGCONT');
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    while (groupAlive(pgid)) await sleep(50);
  }
}

/** The last lines of a log, for an error message. */
export function logTail(path: string, lines = 15): string {
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
}
