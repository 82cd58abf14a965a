/**
 * Artifacts over HTTP, the way MLflow's artifact proxy lays them out: a run's artifact root is
 * `mlflow-artifacts:/EXPERIMENT/RUN/artifacts`, so a file is
 * `PUT|GET /api/2.0/mlflow-artifacts/artifacts/EXPERIMENT/RUN/artifacts/PATH`, and
 * `GET /api/2.0/mlflow-artifacts/artifacts?path=EXPERIMENT/RUN/artifacts/DIR` lists a directory
 * (also `GET /api/2.0/mlflow/artifacts/list?run_id=&path=`). Bytes go to the content-addressed
 * ArtifactStore and are recorded on the run. A path that is absolute, has an empty, `.` or `..`
 * segment, a backslash or a NUL is refused (it cannot leave its run's root).
 */
import type { ArtifactStore, RunDetail, TrackingStore } from '../track/index.js';
import { ApiError } from './errors.js';

export const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

/** A relative artifact path, checked segment by segment; '' for the root when allowEmpty. */
export function safeArtifactPath(path: string, allowEmpty = false): string {
  const p = path.replace(/\/+$/, '');
  if (p === '' && allowEmpty) return '';
  const bad =
    p === '' ||
    p.startsWith('/') ||
    /[\\\0]/.test(p) ||
    /^[A-Za-z]:/.test(p) ||
    p.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad)
    throw new ApiError(
      'INVALID_PARAMETER_VALUE',
      `invalid artifact path "${path}": it must stay inside the run's artifact root (no "..", ".", empty segments, leading "/" or "\\")`,
    );
  return p;
}

/** EXPERIMENT/RUN/artifacts[/PATH] → the run (checked to be in that experiment) and PATH. */
export async function resolveProxyPath(
  store: TrackingStore,
  full: string,
  allowEmpty: boolean,
): Promise<{ run: RunDetail; path: string }> {
  const m = /^([^/]+)\/([^/]+)\/artifacts(?:\/(.*))?$/.exec(full);
  if (!m)
    throw new ApiError(
      'INVALID_PARAMETER_VALUE',
      `invalid artifact path "${full}": expected EXPERIMENT_ID/RUN_ID/artifacts/PATH`,
    );
  const path = safeArtifactPath(m[3] ?? '', allowEmpty);
  const run = await store.getRun(m[2]);
  if (run.id !== m[2] || run.experimentId !== m[1])
    throw new ApiError('RESOURCE_DOES_NOT_EXIST', `run ${m[2]} not found in experiment ${m[1]}`);
  return { run, path };
}

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** The entries directly under dir ('' = the root) of a run's artifacts. */
export function listDir(run: RunDetail, dir: string, relativeTo: 'dir' | 'root'): FileInfo[] {
  const prefix = dir === '' ? '' : `${dir}/`;
  const out = new Map<string, FileInfo>();
  for (const a of run.artifacts) {
    if (!a.name.startsWith(prefix)) continue;
    const rest = a.name.slice(prefix.length);
    const slash = rest.indexOf('/');
    const name = slash < 0 ? rest : rest.slice(0, slash);
    const path = relativeTo === 'dir' ? name : `${prefix}${name}`;
    if (slash < 0) out.set(name, { path, is_dir: false, file_size: a.size });
    else if (!out.has(name)) out.set(name, { path, is_dir: true });
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

export async function uploadArtifact(
  store: TrackingStore,
  artifacts: ArtifactStore,
  full: string,
  body: Buffer,
): Promise<void> {
  const { run, path } = await resolveProxyPath(store, full, false);
  if (run.lifecycleStage === 'deleted')
    throw new ApiError('INVALID_PARAMETER_VALUE', `run ${run.id} is deleted`);
  const ref = await artifacts.put(path, body);
  await store.logArtifact(run.id, ref);
}

export async function downloadArtifact(
  store: TrackingStore,
  artifacts: ArtifactStore,
  full: string,
): Promise<Buffer> {
  const { run, path } = await resolveProxyPath(store, full, false);
  const ref = run.artifacts.find((a) => a.name === path);
  if (!ref) throw new ApiError('RESOURCE_DOES_NOT_EXIST', `run ${run.id} has no artifact "${path}"`);
  return artifacts.get(ref);
}
