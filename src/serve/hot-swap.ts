/**
 * Hot swap: a watcher that polls the registry for the aliases a server serves. When an alias moves,
 * the new version is loaded in the background, warmed with one prediction, and swapped in with one
 * assignment; requests already running finish on the model they started with. A version that fails
 * to load or warm is logged and skipped, and the old one keeps serving. On PostgreSQL the watcher
 * also LISTENs for alias moves and checks at once (polling stays as the fallback).
 */
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { categoricalColumn, Frame, numericColumn, stringColumn } from '../data/frame.js';
import type { Predictor } from '../learn/types.js';
import {
  type ArtifactStore,
  canNotify,
  type RegistrySubscription,
  type TrackingStore,
} from '../track/index.js';
import { type HostedModel, loadFromRegistry, type ModelHost, parseModelRef } from './model-host.js';

export interface WatchOptions {
  store: TrackingStore;
  artifacts: ArtifactStore;
  fromJSON: (doc: unknown) => Predictor;
  /** Poll interval in milliseconds (default 5000). */
  intervalMs?: number;
  logger?: Logger;
  /** With a store that can notify (PostgreSQL), also check as soon as an alias moves (default true). */
  listen?: boolean;
  /** Called after every swap (for metrics and tests). */
  onSwap?: (from: HostedModel | undefined, to: HostedModel) => void;
}

export interface RegistryWatcher {
  /** Check every alias now; resolves with the names swapped. */
  check(): Promise<string[]>;
  /** Resolves once the registry subscription (if any) is listening. */
  ready(): Promise<void>;
  stop(): void;
}

export function watchRegistry(host: ModelHost, refs: string[], options: WatchOptions): RegistryWatcher {
  const log = options.logger ?? silentLogger;
  const aliased = refs.map(parseModelRef).filter((r) => r.alias !== undefined);
  let running: Promise<string[]> | null = null;
  let again = false;
  const check = (): Promise<string[]> => {
    if (running) {
      // a change may have landed after the running check read its alias: look once more after it
      again = true;
      return running;
    }
    running = (async () => {
      const swapped: string[] = [];
      for (const r of aliased) {
        try {
          const mv = await options.store.getModelVersionByAlias(r.name, r.alias!);
          const current = host.get(r.name);
          if (!mv || mv.version === current?.version) continue;
          const next = await loadFromRegistry(`${r.name}@${mv.version}`, options);
          warm(next.predictor);
          const entry: HostedModel = { ...next, alias: r.alias ?? null };
          host.set(r.name, entry);
          swapped.push(r.name);
          log.info(
            { model: r.name, from: current?.version, to: entry.version },
            `swapped ${r.name}@${r.alias} to version ${entry.version}`,
          );
          options.onSwap?.(current, entry);
        } catch (e) {
          log.warn(
            { err: e, model: r.name },
            `could not load the new version of ${r.name}@${r.alias}; still serving the old one`,
          );
        }
      }
      return swapped;
    })().finally(() => {
      running = null;
      if (again) {
        again = false;
        void check();
      }
    });
    return running;
  };
  const timer = setInterval(() => void check(), options.intervalMs ?? 5000);
  timer.unref();
  let subscription: Promise<RegistrySubscription | null> | null = null;
  const store = options.store;
  if ((options.listen ?? true) && aliased.length > 0 && canNotify(store)) {
    const watched = new Set(aliased.map((r) => `${r.name}@${r.alias}`));
    subscription = store
      .subscribeRegistry((change) => {
        if (watched.has(`${change.model}@${change.alias}`)) void check();
      })
      .then(
        (s) => {
          log.info('listening for registry changes (PostgreSQL LISTEN/NOTIFY) besides polling');
          return s;
        },
        (e: unknown) => {
          log.warn({ err: e }, 'cannot listen for registry changes; polling only');
          return null;
        },
      );
  }
  return {
    check,
    ready: async () => {
      await subscription;
    },
    stop: () => {
      clearInterval(timer);
      void subscription?.then((s) => s?.close());
    },
  };
}

/** One prediction on a made-up record within the signature, so the first real request is not the first call. */
export function warm(p: Predictor): void {
  const inputs = p.signature.inputs;
  const frame = new Frame(
    inputs.map((c) => c.name),
    inputs.map((c) =>
      c.type === 'category'
        ? categoricalColumn([c.allowed?.[0] ?? null], c.allowed ?? [])
        : c.type === 'string'
          ? stringColumn([null])
          : numericColumn([c.min ?? 0]),
    ),
  );
  const out = p.predictFrame(frame).probability[0];
  if (!(out >= 0 && out <= 1)) throw new Error(`warm-up prediction was ${out}, not a probability`);
}
