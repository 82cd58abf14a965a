/**
 * The machine's PostgreSQL for tests: its URL (KEEL_TEST_POSTGRES overrides), whether it answers,
 * and fresh schemas that are dropped after the test file. Without a server the PostgreSQL tests are
 * skipped locally; in CI, where the server is part of the machine, they fail instead.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';

export const pgUrl = process.env.KEEL_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    if (process.env.CI) throw new Error(`PostgreSQL is not reachable at ${pgUrl}`);
    return false;
  }
}

/** A factory of fresh schema names, all dropped after the calling test file. */
export function freshSchemas(prefix = 'keel_test'): () => string {
  const made: string[] = [];
  afterAll(async () => {
    if (made.length === 0) return;
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    for (const s of made) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  });
  return () => {
    const s = `${prefix}_${randomBytes(5).toString('hex')}`;
    made.push(s);
    return s;
  };
}
