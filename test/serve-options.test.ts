import { describe, expect, it } from 'vitest';
import { parseCanary, parseRateLimit } from '../src/cli/commands/serve.js';
import { keel } from './cli.js';

describe('keel serve options', () => {
  it('parses rate limits as MAX/WINDOW and rejects anything else with a usage error', () => {
    expect(parseRateLimit('100/1s')).toEqual({ max: 100, windowMs: 1000 });
    expect(parseRateLimit('6000/1m')).toEqual({ max: 6000, windowMs: 60_000 });
    expect(parseRateLimit(' 10 / 500ms ')).toEqual({ max: 10, windowMs: 500 });
    expect(parseRateLimit('5/h')).toEqual({ max: 5, windowMs: 3_600_000 });
    for (const bad of ['100', '0/1s', '10/0s', 'ten/1s', '10/1d'])
      expect(() => parseRateLimit(bad)).toThrow(/--rate-limit expects MAX\/WINDOW/);
  });

  it('parses canaries as REF=PERCENT', () => {
    expect(parseCanary('churn@staging=10')).toEqual({ ref: 'churn@staging', weight: 0.1 });
    expect(parseCanary('churn@4=2.5%')).toEqual({ ref: 'churn@4', weight: 0.025 });
    for (const bad of ['churn@staging', 'churn@staging=0', 'churn@staging=150', '=10'])
      expect(() => parseCanary(bad)).toThrow(/--canary expects NAME@ALIAS=PERCENT/);
  });

  it('explains the operations options in --help and refuses a bad one with exit code 2', () => {
    const help = keel(['serve', '--help'], process.cwd());
    expect(help.code).toBe(0);
    for (const flag of [
      '--prediction-log',
      '--api-key',
      '--cors-origin',
      '--rate-limit',
      'KEEL_SERVE_API_KEYS',
    ])
      expect(help.stdout).toContain(flag);
    const bad = keel(['serve', '--rate-limit', 'lots'], process.cwd());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--rate-limit expects');
  });
});
