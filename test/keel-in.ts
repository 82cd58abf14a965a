/**
 * The keel CLI called in-process (so coverage sees the command code), with stdout and stderr
 * captured and the exit code returned; the subprocess tests (./cli.ts `keel`) prove the binary.
 */
import { vi } from 'vitest';
import { main } from '../src/cli/main.js';

export async function keelIn(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'keel', '--log-level', 'silent', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}
