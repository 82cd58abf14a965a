/** Readable text for `keel runs …` and `keel models …`: pure functions of store results. Times in UTC. */
import { renderTable } from '../core/table.js';
import type { AuditEntry, ModelVersion, RegisteredModel, RunDetail, RunInfo } from './types.js';

const time = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : null);

export function duration(run: Pick<RunInfo, 'startTime' | 'endTime'>): string | null {
  if (!run.endTime) return null;
  const ms = Date.parse(run.endTime) - Date.parse(run.startTime);
  if (!Number.isFinite(ms) || ms < 0) return null;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function formatRunsList(runs: RunInfo[]): string {
  if (runs.length === 0) return 'no runs yet (try: keel demo)';
  return renderTable(
    ['run', 'experiment', 'name', 'status', 'started (UTC)', 'duration'],
    runs.map((r) => [r.id.slice(0, 8), r.experimentName, r.name, r.status, time(r.startTime), duration(r)]),
  );
}

export function formatRunDetail(run: RunDetail): string {
  const out: string[] = [];
  out.push(`run ${run.id}`);
  out.push(
    renderTable(
      ['field', 'value'],
      [
        ['experiment', run.experimentName],
        ['name', run.name],
        ['status', run.status],
        ['started (UTC)', time(run.startTime)],
        ['ended (UTC)', time(run.endTime)],
        ['duration', duration(run)],
        ['git commit', run.gitCommit],
        ...(run.error ? [['error', run.error] as [string, string]] : []),
      ],
    ),
  );
  const section = (title: string, body: string) => out.push('', title, body);
  const params = Object.entries(run.params);
  if (params.length) section('params', renderTable(['key', 'value'], params));
  const metrics = Object.entries(run.metrics);
  if (metrics.length) section('metrics (last value)', renderTable(['key', 'value'], metrics));
  const tags = Object.entries(run.tags);
  if (tags.length) section('tags', renderTable(['key', 'value'], tags));
  if (run.inputs.length)
    section(
      'dataset inputs',
      renderTable(
        ['name', 'context', 'rows', 'sha256', 'source'],
        run.inputs.map((d) => [d.name, d.context, d.rows, d.sha256.slice(0, 16), d.source]),
      ),
    );
  if (run.artifacts.length)
    section(
      'artifacts',
      renderTable(
        ['name', 'size', 'sha256'],
        run.artifacts.map((a) => [a.name, a.size, a.sha256.slice(0, 16)]),
      ),
    );
  return out.join('\n');
}

export function formatModelsList(models: RegisteredModel[]): string {
  if (models.length === 0) return 'no registered models yet (try: keel demo)';
  return renderTable(
    ['model', 'latest', 'aliases', 'created (UTC)'],
    models.map((m) => [
      m.name,
      m.latestVersion,
      Object.entries(m.aliases)
        .map(([a, v]) => `${a}=v${v}`)
        .join(', ') || null,
      time(m.createdAt),
    ]),
  );
}

export function formatModelDetail(
  model: RegisteredModel,
  versions: ModelVersion[],
  audit: AuditEntry[],
): string {
  const out: string[] = [`model ${model.name}`];
  out.push(
    renderTable(
      ['version', 'aliases', 'run', 'created (UTC)', 'description'],
      versions.map((v) => [
        v.version,
        v.aliases.join(', ') || null,
        v.runId?.slice(0, 8) ?? null,
        time(v.createdAt),
        v.description,
      ]),
    ),
  );
  if (audit.length) {
    out.push('', 'audit log');
    out.push(
      renderTable(
        ['when (UTC)', 'actor', 'action', 'alias', 'from', 'to', 'reason'],
        audit.map((a) => [time(a.at), a.actor, a.action, a.alias, a.fromVersion, a.toVersion, a.reason]),
      ),
    );
  }
  return out.join('\n');
}
