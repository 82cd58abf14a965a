/**
 * The models a server holds, by name. Swapping an entry is one assignment: a request that already
 * took its entry finishes on it. The seam for hot swap and traffic policies (issue 7).
 */
import { KeelError } from '../core/errors.js';
import type { Predictor } from '../learn/types.js';
import type { ArtifactStore, TrackingStore } from '../track/types.js';

export interface HostedModel {
  name: string;
  version: number;
  /** The alias it was loaded through, if any. */
  alias: string | null;
  predictor: Predictor;
  loadedAt: string;
}

export class ModelHost {
  private readonly models = new Map<string, HostedModel>();

  set(name: string, entry: HostedModel): void {
    this.models.set(name, entry);
  }

  get(name: string): HostedModel | undefined {
    return this.models.get(name);
  }

  list(): HostedModel[] {
    return [...this.models.values()];
  }

  get size(): number {
    return this.models.size;
  }
}

export interface ModelRef {
  name: string;
  alias?: string;
  version?: number;
}

/** `name@alias`, `name@3` (a version) or `name` (= `name@production`). */
export function parseModelRef(ref: string): ModelRef {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)(?:@([A-Za-z0-9_-]+))?$/.exec(ref.trim());
  if (!m)
    throw new KeelError(
      'KEEL_E_USAGE',
      `model reference "${ref}" must look like NAME@ALIAS, NAME@VERSION or NAME`,
    );
  const [, name, at] = m;
  if (at === undefined) return { name, alias: 'production' };
  if (/^\d+$/.test(at)) return { name, version: Number(at) };
  return { name, alias: at };
}

/** Resolve a reference in the registry, read the model document and build its predictor. */
export async function loadFromRegistry(
  ref: string,
  deps: { store: TrackingStore; artifacts: ArtifactStore; fromJSON: (doc: unknown) => Predictor },
): Promise<HostedModel> {
  const r = parseModelRef(ref);
  const mv =
    r.version !== undefined
      ? await deps.store.getModelVersion(r.name, r.version)
      : await deps.store.getModelVersionByAlias(r.name, r.alias!);
  if (!mv)
    throw new KeelError(
      'KEEL_E_NOT_FOUND',
      `model ${r.name} has no alias "${r.alias}" (run the pipeline first, or name a version: ${r.name}@1)`,
    );
  const bytes = await deps.artifacts.get(mv.artifact);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new KeelError(
      'KEEL_E_MODEL_FORMAT',
      `the model document of ${r.name} version ${mv.version} is not valid JSON`,
    );
  }
  return {
    name: r.name,
    version: mv.version,
    alias: r.alias ?? null,
    predictor: deps.fromJSON(doc),
    loadedAt: new Date().toISOString(),
  };
}
