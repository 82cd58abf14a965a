import { describe, expect, it } from 'vitest';
import { duration, formatModelDetail, formatModelsList, formatRunDetail, formatRunsList } from './render.js';
import type { AuditEntry, ModelVersion, RegisteredModel, RunDetail } from './types.js';

const run: RunDetail = {
  id: '05781ddb38e3cfd81f26cfbff84b847a',
  experimentId: 'e1',
  experimentName: 'churn',
  name: 'train',
  status: 'FINISHED',
  startTime: '2026-11-24T09:59:05.000Z',
  endTime: '2026-11-24T09:59:17.250Z',
  gitCommit: 'a'.repeat(40),
  error: null,
  lifecycleStage: 'active',
  params: { depth: '6', lr: '0.1' },
  metrics: { auc: 0.8512345, loss: 0.3 },
  latestMetrics: [],
  tags: { 'keel.pipeline': 'churn' },
  artifacts: [{ name: 'model/model.json', sha256: 'b'.repeat(64), size: 123456, uri: 'bb/b' }],
  inputs: [
    { name: 'churn.csv', sha256: 'f'.repeat(64), source: 'data/churn.csv', rows: 7043, context: 'raw' },
  ],
};

describe('run rendering', () => {
  it('lists runs with short ids, status, UTC start and duration', () => {
    const running = {
      ...run,
      id: '865f649d5cfc0e0d3022cd1ff766fa7e',
      name: null,
      status: 'RUNNING' as const,
      endTime: null,
    };
    expect(formatRunsList([running, run]).split('\n')).toEqual([
      'run       experiment  name   status    started (UTC)        duration',
      '--------  ----------  -----  --------  -------------------  --------',
      '865f649d  churn       -      RUNNING   2026-11-24 09:59:05  -',
      '05781ddb  churn       train  FINISHED  2026-11-24 09:59:05  12.3 s',
    ]);
    expect(formatRunsList([])).toMatch(/no runs yet/);
  });

  it('shows every section of a run, right-aligning numbers', () => {
    const text = formatRunDetail(run);
    expect(text.split('\n').slice(0, 2)).toEqual([
      'run 05781ddb38e3cfd81f26cfbff84b847a',
      'field          value',
    ]);
    expect(text).toContain(`git commit     ${'a'.repeat(40)}`);
    expect(text).toContain('\nparams\nkey    value\n-----  -----\ndepth  6\nlr     0.1\n');
    expect(text).toContain(
      '\nmetrics (last value)\nkey    value\n----  ------\nauc   0.8512\nloss     0.3\n',
    );
    expect(text).toContain('\ntags\n');
    expect(text).toContain('churn.csv  raw      7043  ffffffffffffffff  data/churn.csv');
    expect(text).toContain('model/model.json  123456  bbbbbbbbbbbbbbbb');
    expect(text).not.toContain('error');
  });

  it('shows the error of a failed run and leaves out empty sections', () => {
    const failed = {
      ...run,
      status: 'FAILED' as const,
      error: 'step "train" failed',
      params: {},
      metrics: {},
      tags: {},
      artifacts: [],
      inputs: [],
    };
    const text = formatRunDetail(failed);
    expect(text).toContain('error          step "train" failed');
    for (const section of ['params', 'metrics', 'tags', 'artifacts', 'dataset inputs'])
      expect(text).not.toContain(`\n${section}`);
  });

  it('writes durations in ms, s, min and h', () => {
    const at = (ms: number) => ({
      startTime: '2026-01-01T00:00:00.000Z',
      endTime: new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString(),
    });
    expect([40, 1500, 125_000, 5_400_000].map((ms) => duration(at(ms)))).toEqual([
      '40 ms',
      '1.5 s',
      '2.1 min',
      '1.5 h',
    ]);
    expect(duration({ startTime: run.startTime, endTime: null })).toBeNull();
  });
});

describe('model rendering', () => {
  const model: RegisteredModel = {
    name: 'churn',
    description: null,
    createdAt: '2026-11-24T09:59:05.000Z',
    latestVersion: 2,
    aliases: { production: 2, staging: 1 },
  };
  const version = (v: number, aliases: string[]): ModelVersion => ({
    stage: 'None',
    name: 'churn',
    version: v,
    runId: run.id,
    artifact: run.artifacts[0],
    createdAt: '2026-11-24T10:00:00.000Z',
    description: v === 1 ? 'gbdt' : null,
    aliases,
  });
  const audit: AuditEntry[] = [
    {
      id: 1,
      at: '2026-11-24T10:01:00.000Z',
      actor: 'ann',
      action: 'set_alias',
      model: 'churn',
      alias: 'production',
      fromVersion: 1,
      toVersion: 2,
      reason: 'better auc',
    },
  ];

  it('lists models with latest version and aliases', () => {
    expect(formatModelsList([model]).split('\n')).toEqual([
      'model  latest  aliases                    created (UTC)',
      '-----  ------  -------------------------  -------------------',
      'churn       2  production=v2, staging=v1  2026-11-24 09:59:05',
    ]);
    expect(formatModelsList([])).toMatch(/no registered models yet/);
  });

  it('shows versions newest first and the audit log of alias moves', () => {
    const text = formatModelDetail(model, [version(2, ['production']), version(1, ['staging'])], audit);
    const lines = text.split('\n');
    expect(lines[0]).toBe('model churn');
    expect(lines[3]).toBe('      2  production  05781ddb  2026-11-24 10:00:00  -');
    expect(lines[4]).toBe('      1  staging     05781ddb  2026-11-24 10:00:00  gbdt');
    expect(lines.slice(5, 7)).toEqual(['', 'audit log']);
    expect(lines[9]).toBe('2026-11-24 10:01:00  ann    set_alias  production     1   2  better auc');
    expect(formatModelDetail(model, [], [])).not.toContain('audit log');
  });
});
