import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshSchemas, pgReachable, pgUrl as url } from '../src/track/pg.testkit.js';
import { keel } from './cli.js';

const reachable = await pgReachable();
const schema = freshSchemas('keel_e2e')();

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
