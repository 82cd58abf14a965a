import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/track/index.js';
import { keel, repoRoot } from './cli.js';

const pipelineFile = join(repoRoot, 'test', 'fixtures', 'churn-pipeline.ts');
const header =
  'customer_id,tenure,monthly_charges,total_charges,contract,payment_method,internet_service,online_security,tech_support,streaming_tv,senior_citizen,churn';
const good = 'C1,5,70.5,352.5,Month-to-month,Electronic check,Fiber optic,No,No,Yes,0,Yes';

async function lastRun(dir: string) {
  const store = await openStore(join(dir, '.keel', 'keel.db'));
  try {
    const [run] = await store.listRuns({ limit: 1 });
    const models = await store.listRegisteredModels();
    return { run, models };
  } finally {
    await store.close();
  }
}

function runWithCsv(content: string | null) {
  const dir = mkdtempSync(join(tmpdir(), 'keel-bad-'));
  const csv = join(dir, 'data.csv');
  if (content !== null) writeFileSync(csv, content);
  return { dir, result: keel(['run', pipelineFile, '--param', `data=${csv}`, '--quiet'], dir) };
}

describe('bad input ends with a short error, exit 1, a FAILED run and nothing registered', () => {
  const cases: [string, string | null, RegExp][] = [
    ['a missing file', null, /not found.*data\.csv/i],
    ['an empty file', '', /data\.csv.*(empty|no data)/i],
    ['a header-only file', `${header}\n`, /data\.csv.*(no data rows|header)/i],
    [
      'a CSV without the target column',
      `${header.replace(',churn', '')}\n${good.replace(/,Yes$/, '')}\n`,
      /churn/,
    ],
    [
      'text in a numeric column',
      `${header}\n${good}\n${good.replace('C1,5,', 'C2,five,')}\n`,
      /tenure.*(row 2|five)|five.*tenure/s,
    ],
  ];
  for (const [what, content, message] of cases) {
    it(what, async () => {
      const { dir, result } = runWithCsv(content);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: /m);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
      const { run, models } = await lastRun(dir);
      expect(run.status).toBe('FAILED');
      expect(run.error).toMatch(message);
      expect(models).toEqual([]);
    });
  }

  it('a pipeline file that throws while loading', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-bad-'));
    const r = keel(['run', join(repoRoot, 'test', 'fixtures', 'throws-pipeline.ts')], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error: pipeline file .*throws-pipeline\.ts failed to load: cannot reach the feature store/,
    );
    const { run } = await lastRun(dir);
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/cannot reach the feature store/);
  });

  it('a missing pipeline file and a file that exports no pipeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-bad-'));
    const r = keel(['run', 'nope.ts'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pipeline file not found: nope\.ts/);
    const r2 = keel(['run', join(repoRoot, 'test', 'fixtures', 'not-a-pipeline.ts')], dir);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/does not export a pipeline/);
  });

  it('usage errors exit 2: unknown option, bad param, bad config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-bad-'));
    expect(keel(['demo', '--bogus'], dir).code).toBe(2);
    const bad = keel(['run', pipelineFile, '--param', 'seed=abc'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/parameter "seed" expects a number/);
    const cfg = keel(['runs', 'list'], dir, { KEEL_GATE_MIN_ROC_AUC: 'high' });
    expect(cfg.code).toBe(2);
    expect(cfg.stderr).toMatch(/KEEL_GATE_MIN_ROC_AUC/);
  });

  it('every command explains itself with --help', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-help-'));
    const top = keel(['--help'], dir);
    expect(top.code).toBe(0);
    for (const c of ['init', 'demo', 'run', 'runs', 'models', 'serve']) expect(top.stdout).toContain(c);
    for (const c of [['demo'], ['run'], ['runs', 'show'], ['models', 'show'], ['serve']]) {
      const h = keel([...c, '--help'], dir);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/Usage: keel/);
    }
  });
});

describe('keel data', () => {
  it('validate exits 0 for usable data, 1 for rejected data with the report, 2 without a schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-data-cli-'));
    const schema = join(repoRoot, 'examples', 'telco', 'schema.yaml');
    const csv = join(dir, 'telco.csv');
    writeFileSync(
      csv,
      `${'customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn'}\n`,
    );
    const row = (id: string, tenure: string, churn: string) =>
      `${id},Female,0,Yes,No,${tenure},No,No phone service,DSL,No,Yes,No,No,No,No,Month-to-month,Yes,Electronic check,29.85,29.85,${churn}\n`;
    writeFileSync(
      csv,
      `${'customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn'}\n${row('a', '1', 'No')}${row('b', 'x', 'Maybe')}`,
    );
    const r = keel(['data', 'validate', csv, '--schema', schema], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/REJECTED/);
    expect(r.stdout).toMatch(/warning +type +tenure +1 +quarantine +3 +"x"/);
    expect(r.stdout).toMatch(/warning +target_class +Churn +1 +quarantine +3 +"Maybe"/);
    expect(r.stdout).toMatch(/error +target_classes +Churn/);
    const j = keel(['data', 'validate', csv, '--schema', schema, '--json'], dir);
    expect(JSON.parse(j.stdout).ok).toBe(false);
    expect(keel(['data', 'validate', csv], dir).code).toBe(2);
    const inferred = keel(['data', 'infer-schema', csv, '--target', 'Churn'], dir);
    expect(inferred.code).toBe(0);
    expect(inferred.stdout).toMatch(/name: tenure\n\s+nullable: false\n\s+role: feature\n\s+type: category/);
  });
});
