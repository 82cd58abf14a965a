/**
 * The model registry in dialect-neutral SQL: registered models, numbered versions, movable aliases
 * and the append-only audit log. Every function runs inside the caller's transaction (SqlConn).
 */
import { KeelError } from '../core/errors.js';
import type { SqlConn } from './sql.js';
import type { ArtifactRef, AuditEntry, ModelStage, ModelVersion, RegisteredModel } from './types.js';

type Row = Record<string, unknown>;

export interface AuditOpts {
  actor?: string;
  reason?: string;
}

export interface NewVersion {
  name: string;
  runId: string | null;
  artifact: ArtifactRef;
  description?: string;
  actor?: string;
}

export function checkModelName(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw new KeelError('KEEL_E_USAGE', `model name "${name}" must use letters, digits, '_', '.' or '-'`, {
      path: ['name'],
    });
}

export function checkAlias(alias: string): void {
  if (typeof alias !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(alias))
    throw new KeelError(
      'KEEL_E_USAGE',
      `alias "${alias}" must start with a letter and use letters, digits, '_' or '-'`,
      { path: ['alias'] },
    );
}

const STAGES: ModelStage[] = ['None', 'Staging', 'Production', 'Archived'];

export function checkStage(stage: string): void {
  if (!STAGES.includes(stage as ModelStage))
    throw new KeelError('KEEL_E_USAGE', `stage must be one of ${STAGES.join(', ')}, got "${stage}"`, {
      path: ['stage'],
    });
}

export async function createRegisteredModel(
  c: SqlConn,
  name: string,
  opts: { description?: string; actor?: string },
  at: string,
): Promise<RegisteredModel> {
  const created = await c.run(
    'INSERT INTO registered_models (name, description, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
    [name, opts.description ?? null, at],
  );
  if (created.changes === 0)
    throw new KeelError('KEEL_E_CONFLICT', `registered model "${name}" already exists`, { path: ['name'] });
  await audit(c, at, opts.actor, 'create_model', name, null, null, null, opts.description ?? null);
  return registeredModel(c, name);
}

/** Moves a version to a stage (audit action 'transition_stage', reason "from -> to"). */
export async function transitionStage(
  c: SqlConn,
  name: string,
  version: number,
  stage: ModelStage,
  opts: { archiveExisting?: boolean; actor?: string; reason?: string },
  at: string,
): Promise<ModelVersion> {
  const mv = await modelVersion(c, name, version);
  const note = (from: string) => `${from} -> ${stage}${opts.reason ? `: ${opts.reason}` : ''}`;
  if (opts.archiveExisting && (stage === 'Staging' || stage === 'Production')) {
    const others = await c.all<{ version: number }>(
      'SELECT version FROM model_versions WHERE name = ? AND stage = ? AND version <> ? ORDER BY version',
      [name, stage, version],
    );
    for (const o of others) {
      await c.run("UPDATE model_versions SET stage = 'Archived' WHERE name = ? AND version = ?", [
        name,
        o.version,
      ]);
      const v = Number(o.version);
      await audit(c, at, opts.actor, 'transition_stage', name, null, v, v, `${stage} -> Archived`);
    }
  }
  if (mv.stage !== stage) {
    await c.run('UPDATE model_versions SET stage = ? WHERE name = ? AND version = ?', [stage, name, version]);
    await audit(c, at, opts.actor, 'transition_stage', name, null, version, version, note(mv.stage));
  }
  return modelVersion(c, name, version);
}

export async function createModelVersion(c: SqlConn, v: NewVersion, at: string): Promise<ModelVersion> {
  const created = await c.run(
    'INSERT INTO registered_models (name, description, created_at) VALUES (?, NULL, ?) ON CONFLICT (name) DO NOTHING',
    [v.name, at],
  );
  if (created.changes > 0) await audit(c, at, v.actor, 'create_model', v.name, null, null, null, null);
  const next = await c.get<{ v: number }>(
    'SELECT COALESCE(MAX(version), 0) + 1 AS v FROM model_versions WHERE name = ?',
    [v.name],
  );
  const version = Number(next!.v);
  await c.run(
    'INSERT INTO model_versions (name, version, run_id, artifact_name, artifact_sha256, artifact_size, artifact_uri, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [
      v.name,
      version,
      v.runId,
      v.artifact.name,
      v.artifact.sha256,
      v.artifact.size,
      v.artifact.uri,
      v.description ?? null,
      at,
    ],
  );
  await audit(c, at, v.actor, 'create_version', v.name, null, null, version, v.description ?? null);
  return modelVersion(c, v.name, version);
}

export async function setAlias(
  c: SqlConn,
  name: string,
  alias: string,
  version: number,
  opts: AuditOpts,
  at: string,
): Promise<void> {
  await modelVersion(c, name, version);
  const old = await aliasVersion(c, name, alias);
  if (old === version) return;
  await c.run(
    'INSERT INTO model_aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version',
    [name, alias, version],
  );
  await audit(c, at, opts.actor, 'set_alias', name, alias, old, version, opts.reason ?? null);
}

export async function deleteAlias(
  c: SqlConn,
  name: string,
  alias: string,
  opts: AuditOpts,
  at: string,
): Promise<void> {
  await requireModel(c, name);
  const old = await aliasVersion(c, name, alias);
  if (old === null) throw new KeelError('KEEL_E_NOT_FOUND', `model ${name} has no alias "${alias}"`);
  await c.run('DELETE FROM model_aliases WHERE name = ? AND alias = ?', [name, alias]);
  await audit(c, at, opts.actor, 'delete_alias', name, alias, old, null, opts.reason ?? null);
}

export async function versionByAlias(c: SqlConn, name: string, alias: string): Promise<ModelVersion | null> {
  await requireModel(c, name);
  const v = await aliasVersion(c, name, alias);
  return v === null ? null : modelVersion(c, name, v);
}

export async function modelVersion(c: SqlConn, name: string, version: number): Promise<ModelVersion> {
  const r = await c.get<Row>('SELECT * FROM model_versions WHERE name = ? AND version = ?', [name, version]);
  if (!r) {
    await requireModel(c, name);
    throw new KeelError('KEEL_E_NOT_FOUND', `model ${name} has no version ${version}`);
  }
  const aliases = await c.all<{ alias: string }>(
    'SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias',
    [name, version],
  );
  return {
    name: r.name as string,
    version: Number(r.version),
    runId: (r.run_id as string | null) ?? null,
    artifact: {
      name: r.artifact_name as string,
      sha256: r.artifact_sha256 as string,
      size: Number(r.artifact_size),
      uri: r.artifact_uri as string,
    },
    createdAt: r.created_at as string,
    description: (r.description as string | null) ?? null,
    aliases: aliases.map((a) => a.alias),
    stage: ((r.stage as ModelStage | undefined) ?? 'None') as ModelStage,
  };
}

export async function registeredModel(c: SqlConn, name: string): Promise<RegisteredModel> {
  const r = await c.get<Row>('SELECT name, description, created_at FROM registered_models WHERE name = ?', [
    name,
  ]);
  if (!r) throw new KeelError('KEEL_E_NOT_FOUND', `registered model "${name}" not found`);
  const latest = await c.get<{ v: number | null }>(
    'SELECT MAX(version) AS v FROM model_versions WHERE name = ?',
    [name],
  );
  const aliases = await c.all<{ alias: string; version: number }>(
    'SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias',
    [name],
  );
  return {
    name,
    description: (r.description as string | null) ?? null,
    createdAt: r.created_at as string,
    latestVersion: latest?.v == null ? null : Number(latest.v),
    aliases: Object.fromEntries(aliases.map((a) => [a.alias, Number(a.version)])),
  };
}

export async function listRegisteredModels(c: SqlConn): Promise<RegisteredModel[]> {
  const names = await c.all<{ name: string }>('SELECT name FROM registered_models ORDER BY name');
  const out: RegisteredModel[] = [];
  for (const n of names) out.push(await registeredModel(c, n.name));
  return out;
}

export async function listModelVersions(c: SqlConn, name: string): Promise<ModelVersion[]> {
  await requireModel(c, name);
  const versions = await c.all<{ version: number }>(
    'SELECT version FROM model_versions WHERE name = ? ORDER BY version DESC',
    [name],
  );
  const out: ModelVersion[] = [];
  for (const v of versions) out.push(await modelVersion(c, name, Number(v.version)));
  return out;
}

export async function auditLog(c: SqlConn, name?: string): Promise<AuditEntry[]> {
  const rows =
    name === undefined
      ? await c.all<Row>('SELECT * FROM audit_log ORDER BY id')
      : await c.all<Row>('SELECT * FROM audit_log WHERE model = ? ORDER BY id', [name]);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at as string,
    actor: r.actor as string,
    action: r.action as string,
    model: r.model as string,
    alias: (r.alias as string | null) ?? null,
    fromVersion: num(r.from_version),
    toVersion: num(r.to_version),
    reason: (r.reason as string | null) ?? null,
  }));
}

export function toArtifactRef(r: Row): ArtifactRef {
  return { name: r.name as string, sha256: r.sha256 as string, size: Number(r.size), uri: r.uri as string };
}

async function requireModel(c: SqlConn, name: string): Promise<void> {
  if (!(await c.get('SELECT name FROM registered_models WHERE name = ?', [name])))
    throw new KeelError('KEEL_E_NOT_FOUND', `registered model "${name}" not found`);
}

async function aliasVersion(c: SqlConn, name: string, alias: string): Promise<number | null> {
  const r = await c.get<{ version: number }>(
    'SELECT version FROM model_aliases WHERE name = ? AND alias = ?',
    [name, alias],
  );
  return r ? Number(r.version) : null;
}

async function audit(
  c: SqlConn,
  at: string,
  actor: string | undefined,
  action: string,
  model: string,
  alias: string | null,
  from: number | null,
  to: number | null,
  reason: string | null,
): Promise<void> {
  await c.run(
    'INSERT INTO audit_log (at, actor, action, model, alias, from_version, to_version, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [at, actor ?? defaultActor(), action, model, alias, from, to, reason],
  );
}

function defaultActor(): string {
  return process.env.KEEL_ACTOR ?? process.env.USER ?? 'keel';
}
