/** Run the keel CLI as a subprocess, as a user would. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..');
const bin = join(repoRoot, 'bin', 'keel.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function keel(args: string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, KEEL_LOG_FORMAT: 'json', KEEL_LOG_LEVEL: 'warn', NO_COLOR: '1', ...env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The real Telco CSV from the shared folder beside the repository (KEEL_SHARED_DIR overrides;
 * /work/shared is the fallback on the team's machines). Null when absent.
 */
export function sharedFile(...parts: string[]): string | null {
  const roots = [process.env.KEEL_SHARED_DIR, join(repoRoot, '..', 'shared'), '/work/shared'].filter(
    (r): r is string => Boolean(r),
  );
  for (const r of roots) {
    const p = join(r, ...parts);
    if (existsSync(p)) return p;
  }
  return null;
}
