/**
 * Tests that need a real binary (prometheus, redis-server, python3 with grpcio) call these and
 * fail — never skip — with the command that installs what is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const INSTALL_HINT =
  'apt-get update && apt-get install -y prometheus redis-server python3-grpcio python3-protobuf';

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    const p = `${dir}/${name}`;
    if (dir !== '' && existsSync(p)) return p;
  }
  return undefined;
}

export function requireBinary(name: string, debianPackage: string): string {
  const p = which(name);
  if (!p)
    throw new Error(
      `${name} not found on PATH: install it with \`apt-get install -y ${debianPackage}\` (all test dependencies: \`${INSTALL_HINT}\`)`,
    );
  return p;
}

/** Debian's python3 (not a pyenv shim) with grpcio importable. */
export function requirePythonGrpc(): string {
  const py = '/usr/bin/python3';
  try {
    execFileSync(py, ['-c', 'import grpc, google.protobuf'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${py} cannot import grpc: install it with \`apt-get install -y python3-grpcio python3-protobuf\``);
  }
  return py;
}
