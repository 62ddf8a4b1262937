/**
 * npm run test:cluster: `up`, the scenarios in test/cluster/*.test.ts against it (vitest, one file
 * at a time), then `down`, whatever happened; fails when a process outlives `down`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { down, REPO, up } from './harness/cluster.js';

const started = Date.now();
let status = 1;
try {
  await up();
  console.error(`test:cluster: cluster up in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  // Not spawnSync: this process is the parent of every cluster process `up` started, and only a
  // running event loop reaps the ones a scenario stops (a zombie still counts as alive).
  const vitest = spawn(
    join(REPO, 'node_modules/.bin/vitest'),
    ['run', '--config', 'vitest.cluster.config.ts', ...process.argv.slice(2)],
    { cwd: REPO, stdio: 'inherit' },
  );
  status = await new Promise<number>((resolve) => vitest.once('exit', (code) => resolve(code ?? 1)));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
} finally {
  const left = await down();
  if (left.length > 0) {
    console.error(`test:cluster: processes still running after down: ${left.join(', ')}`);
    status = 1;
  }
  console.error(
    `test:cluster: ${status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}
process.exit(status);
