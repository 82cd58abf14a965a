/**
 * The models a server holds, by name. Swapping an entry is one assignment: a request that already
 * took its entry finishes on it. The seam for hot swap and traffic policies (issue 7).
 */
import { KeelError } from '../core/errors.js';
import type { Predictor } from '../learn/types.js';
import type { ArtifactStore, TrackingStore } from '../track/types.js';
import { type Canary, CanaryGuard, type GuardOptions, routePoint } from './traffic.js';

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
  private readonly canaries = new Map<string, Canary>();
  private readonly shadows = new Map<string, HostedModel>();

  set(name: string, entry: HostedModel): void {
    this.models.set(name, entry);
  }

  /** The primary entry of a name. */
  get(name: string): HostedModel | undefined {
    return this.models.get(name);
  }

  list(): HostedModel[] {
    return [...this.models.values()];
  }

  get size(): number {
    return this.models.size;
  }

  /**
   * Send `weight` (0..1) of the traffic of `name`, sticky by route key, to `entry`; with guard
   * options the canary is watched and rolled back on a breach (see CanaryGuard).
   */
  setCanary(name: string, entry: HostedModel, weight: number, guard?: GuardOptions): void {
    if (!(weight >= 0 && weight <= 1))
      throw new KeelError('KEEL_E_USAGE', `a canary weight is in [0, 1], got ${weight}`);
    this.canaries.set(name, { entry, weight, guard: guard ? new CanaryGuard(guard) : null });
  }

  canary(name: string): Canary | undefined {
    return this.canaries.get(name);
  }

  /** Stop routing to the canary of `name`; returns what was removed. */
  clearCanary(name: string): Canary | undefined {
    const c = this.canaries.get(name);
    this.canaries.delete(name);
    return c;
  }

  /** Score every request of `name` with `entry` as well, off the response path. */
  setShadow(name: string, entry: HostedModel): void {
    this.shadows.set(name, entry);
  }

  shadow(name: string): HostedModel | undefined {
    return this.shadows.get(name);
  }

  clearShadow(name: string): void {
    this.shadows.delete(name);
  }

  /** The entry that serves this request: the canary when the key's point falls under its weight. */
  pick(name: string, routeKey: string): { entry: HostedModel; canary: Canary | null } | undefined {
    const primary = this.models.get(name);
    if (!primary) return undefined;
    const c = this.canaries.get(name);
    if (c && c.weight > 0 && routePoint(routeKey) < c.weight) return { entry: c.entry, canary: c };
    return { entry: primary, canary: null };
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
