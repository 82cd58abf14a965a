/**
 * The pipeline's validate step quarantines rows instead of failing: the run finishes on the kept
 * rows and stores the report (JSON, HTML) and the quarantined rows as artifacts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { churnCsv } from '../src/data/index.js';
import { openStore } from '../src/track/index.js';
import { repoRoot } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-data-pipeline-'));
const cwd = process.cwd();
beforeAll(() => process.chdir(dir));
afterAll(() => process.chdir(cwd));

async function keelIn(...args: string[]): Promise<number> {
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.exitCode = undefined;
  try {
    return await main(['node', 'keel', '--log-level', 'silent', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

describe('the validate step with quarantined rows', () => {
  it('finishes on the kept rows and stores validation.json, validation.html and quarantine.csv', async () => {
    const lines = churnCsv({ rows: 1200, seed: 3 }).trimEnd().split('\n');
    // three bad rows: text in tenure, an unknown contract, an unexpected target class
    lines[10] = lines[10].replace(/^([^,]*),(\d+),/, '$1,ten,');
    lines[20] = lines[20].replace(/Month-to-month|One year|Two year/, 'Forever');
    lines[30] = lines[30].replace(/,(Yes|No)$/, ',Maybe');
    const csv = join(dir, 'churn.csv');
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const code = await keelIn(
      'run',
      join(repoRoot, 'test', 'fixtures', 'churn-pipeline.ts'),
      '--param',
      `data=${csv}`,
      '--quiet',
    );
    expect(code).toBe(0);
    const store = await openStore(join(dir, '.keel', 'keel.db'));
    try {
      const [info] = await store.listRuns({ limit: 1 });
      const run = await store.getRun(info.id);
      expect(run.status).toBe('FINISHED');
      expect(run.metrics).toMatchObject({
        'data.rows': 1200,
        'data.rows_kept': 1197,
        'data.rows_quarantined': 3,
      });
      const names = run.artifacts.map((a) => a.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'reports/validation.json',
          'reports/validation.html',
          'data/quarantine.csv',
          'data/profile.json',
        ]),
      );
      const prof = run.artifacts.find((a) => a.name === 'data/profile.json')!;
      const profile = JSON.parse(readFileSync(join(dir, '.keel', 'artifacts', prof.uri), 'utf8'));
      expect(profile.rows).toBe(1197);
      expect(profile.columns.find((c: { name: string }) => c.name === 'tenure')).toMatchObject({
        count: 1197,
      });
      const q = run.artifacts.find((a) => a.name === 'data/quarantine.csv')!;
      const text = readFileSync(join(dir, '.keel', 'artifacts', q.uri), 'utf8');
      const rows = text.trimEnd().split('\n');
      expect(rows[0]).toMatch(/,_keel_line,_keel_reason$/);
      expect(rows.slice(1).map((r) => r.split(',').at(-2))).toEqual(['11', '21', '31']);
      expect(text).toContain('tenure: type ""ten""');
      expect(text).toContain('contract: allowed ""Forever""');
      expect(text).toContain('churn: target_class ""Maybe""');
    } finally {
      await store.close();
    }
  });
});
