/**
 * keel.yaml: the project's configuration. Every key can be overridden by an environment
 * variable named KEEL_ plus the key path in upper case joined by underscores
 * (gate.min_roc_auc → KEEL_GATE_MIN_ROC_AUC). Validated with zod; an error names the key
 * (or the variable) and the value it expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KeelError } from '../core/errors.js';

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const ConfigSchema = z
  .object({
    /** Default experiment name for runs. */
    project: z.string().min(1).default('default'),
    /** Tracking store: a SQLite file path (or sqlite:PATH), or postgres://user@host:port/db[?schema=name]. */
    store: z.string().min(1).default('.keel/keel.db'),
    /** Artifact store: a directory; s3://bucket/prefix later. */
    artifacts: z.string().min(1).default('.keel/artifacts'),
    log_level: z.enum(logLevels).default('info'),
    /** Seed for every random choice a pipeline makes unless it says otherwise. */
    seed: z.number().int().nonnegative().default(42),
    gate: z
      .object({
        min_roc_auc: z.number().min(0).max(1).default(0.7),
        min_f1: z.number().min(0).max(1).default(0),
        max_log_loss: z.number().positive().default(1),
        /** A new version replaces production only if its test ROC-AUC beats production's by at least this much. */
        min_improvement: z.number().min(0).default(0),
        /**
         * Relative gate: the candidate must beat the production version on the same rows, judged
         * by a paired bootstrap: the lower end of the 95% interval of the ROC-AUC difference must
         * be at least this (negative = a bounded loss is allowed). A failed check fails the run and
         * registers nothing (keel train, and the pipelines' gate step); in pipelines it also decides
         * promotion instead of min_improvement. Absent: off.
         */
        min_delta_vs_production: z.number().min(-1).max(1).optional(),
        /** Per-slice gate (keel train on out-of-fold rows, pipelines on test rows): per categorical column, minimums every slice with min_rows rows must meet. */
        slices: z
          .record(
            z.string().min(1),
            z
              .object({
                min_roc_auc: z.number().min(0).max(1).optional(),
                min_f1: z.number().min(0).max(1).optional(),
                min_recall: z.number().min(0).max(1).optional(),
                min_rows: z.number().int().min(1).default(30),
              })
              .strict(),
          )
          .default({}),
      })
      .strict()
      .prefault({}),
    serve: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        body_limit: z.number().int().positive().default(1_048_576),
      })
      .strict()
      .prefault({}),
    demo: z
      .object({
        rows: z.number().int().min(100).default(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type KeelConfig = z.infer<typeof ConfigSchema>;
export type KeelConfigInput = z.input<typeof ConfigSchema>;

export interface LoadConfigOptions {
  /** Directory to look for keel.yaml in (default: cwd). */
  cwd?: string;
  /** An explicit config file; it must exist. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  config: KeelConfig;
  /** The file read, or null when none was found and defaults apply. */
  file: string | null;
  /** The directory relative paths in the config are resolved against. */
  root: string;
}

/** Read keel.yaml (if any), apply KEEL_* overrides, validate. */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  let file: string | null = null;
  let raw: unknown = {};
  if (options.file) {
    file = resolve(cwd, options.file);
    if (!existsSync(file))
      throw new KeelError('KEEL_E_CONFIG', `config file not found: ${options.file}`, { file: options.file });
  } else if (existsSync(resolve(cwd, 'keel.yaml'))) {
    file = resolve(cwd, 'keel.yaml');
  }
  if (file) {
    try {
      raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
    } catch (e) {
      throw new KeelError('KEEL_E_CONFIG', `${file} is not valid YAML: ${(e as Error).message}`, { file });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new KeelError('KEEL_E_CONFIG', `${file} must be a mapping of keys to values`, { file });
  }
  const { merged, sources } = applyEnv(raw as Record<string, unknown>, env);
  const r = ConfigSchema.safeParse(merged);
  if (!r.success) {
    const path = r.error.issues[0].path.map(String);
    const all = r.error.issues.map((i) => {
      const key = i.path.join('.') || '(top level)';
      return `${sources.get(key) ?? `key "${key}"`}: ${describeIssue(i)}`;
    });
    const where = file ? ` (${file})` : '';
    throw new KeelError('KEEL_E_CONFIG', `invalid configuration${where}: ${all.join('; ')}`, {
      file: file ?? undefined,
      path,
    });
  }
  return { config: r.data, file, root: file ? dirname(file) : cwd };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.join(', ')}`;
  return issue.message;
}

/** Overlay KEEL_* variables onto the file's values, remembering which variable set which key. */
function applyEnv(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { merged: Record<string, unknown>; sources: Map<string, string> } {
  const merged = structuredClone(raw);
  const sources = new Map<string, string>();
  for (const path of leafPaths(ConfigSchema)) {
    const name = `KEEL_${path.join('_').toUpperCase()}`;
    const value = env[name];
    if (value === undefined || value === '') continue;
    let target = merged;
    for (const part of path.slice(0, -1)) {
      if (typeof target[part] !== 'object' || target[part] === null) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    target[path[path.length - 1]] = coerce(value);
    sources.set(path.join('.'), `environment variable ${name}=${JSON.stringify(value)}`);
  }
  return { merged, sources };
}

/** Environment values are text; numbers and booleans are read as such. */
function coerce(value: string): unknown {
  const t = value.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return value;
}

function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const shape = objectShape(schema);
  if (!shape) return [prefix];
  return Object.entries(shape).flatMap(([k, v]) => leafPaths(v as z.ZodType, [...prefix, k]));
}

function objectShape(schema: z.ZodType): Record<string, unknown> | null {
  let s: unknown = schema;
  for (let i = 0; i < 5 && s; i++) {
    const def = (
      s as { _zod?: { def?: { type?: string; shape?: Record<string, unknown>; innerType?: unknown } } }
    )._zod?.def;
    if (!def) return null;
    if (def.type === 'object') return def.shape ?? null;
    s = def.innerType;
  }
  return null;
}

/** The names of every environment variable that overrides a key. */
export function configEnvVars(): string[] {
  return leafPaths(ConfigSchema).map((p) => `KEEL_${p.join('_').toUpperCase()}`);
}

/** Resolve a path from the config against the config's root directory. */
export function resolvePath(loaded: LoadedConfig, p: string): string {
  if (p === ':memory:' || /^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return p;
  const bare = p.startsWith('sqlite:') ? p.slice('sqlite:'.length) : p;
  return isAbsolute(bare) ? bare : resolve(loaded.root, bare);
}

/** The starting keel.yaml that `keel init` writes. */
export const defaultConfigYaml = `# Keel configuration. Every key can be overridden by an environment variable:
# KEEL_ + the key path in upper case (gate.min_roc_auc -> KEEL_GATE_MIN_ROC_AUC).
project: churn
store: .keel/keel.db        # SQLite file (embedded default), or postgres://user@host:5432/db?schema=keel
artifacts: .keel/artifacts  # content-addressed artifact files: a directory or s3://bucket/prefix
log_level: info
seed: 42
gate:
  min_roc_auc: 0.7          # a model below this on the test split is not registered
  min_f1: 0.0
  max_log_loss: 1.0
  min_improvement: 0.0      # ROC-AUC margin needed to replace the production model
  # beat production on the same rows (paired bootstrap, lower end of the 95% interval of the
  # ROC-AUC difference; keel train and pipeline promotion), and (keel train) per-slice minimums
  # min_delta_vs_production: 0.0
  # slices:
  #   contract: { min_roc_auc: 0.65, min_rows: 30 }
serve:
  host: 127.0.0.1
  port: 8080
demo:
  rows: 10000
`;
