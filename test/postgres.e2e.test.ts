import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { keel } from './cli.js';

const url = process.env.KEEL_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const reachable = await (async () => {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
})();
if (!reachable && process.env.CI) throw new Error(`PostgreSQL is not reachable at ${url}`);
const schema = `keel_e2e_${randomBytes(5).toString('hex')}`;

afterAll(async () => {
  if (!reachable) return;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
});

describe.skipIf(!reachable)('keel on PostgreSQL (KEEL_STORE=postgres://…)', () => {
  it('runs the demo, then lists its run and model from the same store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-pg-'));
    const env = { KEEL_STORE: `${url}?schema=${schema}` };
    const demo = keel(['demo', '--rows', '1500', '--quiet'], dir, env);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/Registered: churn version 1, aliases: staging, production/);
    const models = keel(['models', 'show', 'churn'], dir, env);
    expect(models.code).toBe(0);
    expect(models.stdout).toMatch(/production/);
    expect(keel(['runs', 'list'], dir, env).stdout).toMatch(/FINISHED/);
  });
});
