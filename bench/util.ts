/** Shared by the bench scripts: where the peers live, argument parsing, medians, rounding. */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const work = join(root, 'bench', '.work');

/** ../shared beside the repository (KEEL_SHARED_DIR overrides; /work/shared on the team's machines). */
export function sharedDir(): string {
  const found = [process.env.KEEL_SHARED_DIR, join(root, '..', 'shared'), '/work/shared'].find(
    (d) => d && existsSync(join(d, 'bench')),
  );
  if (!found) throw new Error('cannot find ../shared/bench (set KEEL_SHARED_DIR)');
  return found;
}

/** The values after `--flag` up to the next flag, or the default. */
export function argList(args: string[], flag: string, dflt: string[]): string[] {
  const i = args.indexOf(flag);
  if (i < 0) return dflt;
  const out: string[] = [];
  for (let j = i + 1; j < args.length && !args[j].startsWith('--'); j++) out.push(args[j]);
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const round4 = (x: number) => Math.round(x * 10000) / 10000;

export function machine(): { cpus: number; model: string; node: string } {
  return { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version };
}
