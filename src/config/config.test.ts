import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeelError } from '../core/errors.js';
import { configEnvVars, defaultConfigYaml, loadConfig, resolvePath } from './config.js';

function dirWith(yaml?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'keel-config-'));
  if (yaml !== undefined) writeFileSync(join(d, 'keel.yaml'), yaml);
  return d;
}

describe('loadConfig', () => {
  it('uses embedded defaults when there is no keel.yaml', () => {
    const d = dirWith();
    const { config, file, root } = loadConfig({ cwd: d, env: {} });
    expect(file).toBeNull();
    expect(root).toBe(d);
    expect(config.store).toBe('.keel/keel.db');
    expect(config.gate.min_roc_auc).toBe(0.7);
    expect(config.serve.port).toBe(8080);
  });

  it('reads keel.yaml and the default file parses', () => {
    const d = dirWith(defaultConfigYaml);
    const { config, file } = loadConfig({ cwd: d, env: {} });
    expect(file).toBe(join(d, 'keel.yaml'));
    expect(config.project).toBe('churn');
    expect(config.demo.rows).toBe(10_000);
  });

  it('lets environment variables override keys, with types', () => {
    const d = dirWith('gate:\n  min_roc_auc: 0.6\n');
    const { config } = loadConfig({
      cwd: d,
      env: { KEEL_GATE_MIN_ROC_AUC: '0.85', KEEL_SERVE_PORT: '9000', KEEL_PROJECT: 'x' },
    });
    expect(config.gate.min_roc_auc).toBe(0.85);
    expect(config.serve.port).toBe(9000);
    expect(config.project).toBe('x');
  });

  it('names the environment variable and the expected type on a bad override', () => {
    const d = dirWith();
    try {
      loadConfig({ cwd: d, env: { KEEL_GATE_MIN_ROC_AUC: 'high' } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KeelError);
      const err = e as KeelError;
      expect(err.code).toBe('KEEL_E_CONFIG');
      expect(err.message).toContain('KEEL_GATE_MIN_ROC_AUC="high"');
      expect(err.message).toContain('expected number');
      expect(err.where.path).toEqual(['gate', 'min_roc_auc']);
    }
  });

  it('names the key in the file on a bad value and on an unknown key', () => {
    const d = dirWith('gate:\n  min_roc_auc: 3\nsevre:\n  port: 1\n');
    expect(() => loadConfig({ cwd: d, env: {} })).toThrow(/key "gate.min_roc_auc".*<=1/);
    expect(() => loadConfig({ cwd: d, env: {} })).toThrow(/unknown key\(s\) sevre/);
  });

  it('rejects YAML that is not a mapping and a missing explicit file', () => {
    expect(() => loadConfig({ cwd: dirWith('- a\n- b\n'), env: {} })).toThrow(/must be a mapping/);
    expect(() => loadConfig({ cwd: dirWith('a: [\n'), env: {} })).toThrow(/not valid YAML/);
    expect(() => loadConfig({ cwd: dirWith(), file: 'nope.yaml', env: {} })).toThrow(
      /config file not found: nope.yaml/,
    );
  });

  it('lists one variable per key and resolves paths against the config root', () => {
    expect(configEnvVars()).toContain('KEEL_GATE_MAX_LOG_LOSS');
    const d = dirWith(defaultConfigYaml);
    const loaded = loadConfig({ cwd: d, env: {} });
    expect(resolvePath(loaded, '.keel/keel.db')).toBe(join(d, '.keel/keel.db'));
    expect(resolvePath(loaded, 'sqlite:/abs/x.db')).toBe('/abs/x.db');
    expect(resolvePath(loaded, ':memory:')).toBe(':memory:');
    expect(resolvePath(loaded, 's3://bucket/p')).toBe('s3://bucket/p');
  });
});
