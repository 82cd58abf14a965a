/**
 * The HTTP client is a TrackingStore: the whole conformance suite runs through a tracking server
 * (a fresh in-memory SQLite store and server per test), plus remote mode from a URL and
 * KEEL_TRACKING_URI, and auth as the client sees it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openArtifactStore, openStore, SqliteStore } from '../track/index.js';
import { describeTrackingStore } from '../track/store-suite.testkit.js';
import { createTrackingApp } from './app.js';
import type { Token } from './auth.js';
import { TrackingClient } from './client.js';

async function serve(tokens: Token[] = []) {
  const store = new SqliteStore(':memory:');
  await store.migrated();
  const app = createTrackingApp({
    store,
    artifacts: openArtifactStore(mkdtempSync(join(tmpdir(), 'keel-client-'))),
    tokens,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const stop = async () => {
    await app.close();
    await store.close();
  };
  return { url, store, stop };
}

describeTrackingStore('TrackingClient over a tracking server', async () => {
  const s = await serve();
  const client = new TrackingClient(s.url);
  client.close = s.stop;
  return client;
});

describe('remote mode', () => {
  afterEach(() => {
    delete process.env.KEEL_TRACKING_URI;
  });

  it('opens an http:// URL, or KEEL_TRACKING_URI over any configured store', async () => {
    const s = await serve();
    const remote = await openStore(s.url);
    expect(remote).toBeInstanceOf(TrackingClient);
    const run = await remote.createRun({ experiment: 'remote', tags: { a: 'b' } });
    process.env.KEEL_TRACKING_URI = s.url;
    const viaEnv = await openStore('.keel/never-opened.db');
    expect((await viaEnv.getRun(run.id)).tags).toEqual({ a: 'b' });
    expect((await s.store.getRun(run.id)).experimentName).toBe('remote');
    await s.stop();
    await expect(remote.listRuns()).rejects.toMatchObject({ code: 'KEEL_E_STORE', message: /cannot reach/ });
  });

  it('sends its token; without a write token writes fail with the server message', async () => {
    const s = await serve([
      { name: 'ci', role: 'write', token: 'write-token-1' },
      { name: 'dash', role: 'read', token: 'read-token-1' },
    ]);
    const writer = new TrackingClient(s.url, { token: 'write-token-1' });
    const reader = new TrackingClient(s.url, { token: 'read-token-1' });
    await writer.createModelVersion({
      name: 'm',
      runId: null,
      artifact: { name: 'model.json', sha256: 'a'.repeat(64), size: 1, uri: 'aa/a' },
      actor: 'someone-else',
    });
    await writer.setAlias('m', 'production', 1, { actor: 'spoofed', reason: 'first' });
    expect((await reader.auditLog('m')).map((e) => [e.action, e.actor])).toEqual([
      ['create_model', 'ci'],
      ['create_version', 'ci'],
      ['set_alias', 'ci'],
    ]);
    await expect(reader.setAlias('m', 'staging', 1)).rejects.toMatchObject({
      code: 'KEEL_E_CONFIG',
      message: expect.stringContaining('may read but not write'),
    });
    await expect(new TrackingClient(s.url).listRuns()).rejects.toMatchObject({ code: 'KEEL_E_CONFIG' });
    await s.stop();
  });
});
