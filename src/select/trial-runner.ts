/** The worker side of the trial pool: holds the prepared folds, cross-validates the trials it is sent. */
import type { MessagePort } from 'node:worker_threads';
import { type Matrix, shareBins } from '../learn/index.js';
import { evaluateFolds, type FoldResult, type MetricName, type PreparedFold } from './cross-validate.js';
import type { Params } from './space.js';
import { defaultFamilies } from './space.js';

/** What crosses the thread boundary: matrices and labels, no row indices. */
export interface WireFold {
  fold: number;
  train: Matrix;
  test: Matrix;
  yTrain: Float64Array;
  yTest: Float64Array;
}

export interface TrialTask {
  id: number;
  family: string;
  params: Params;
  seed: number;
  from: number;
  to: number;
  metrics: MetricName[];
}

export type TrialReply = { id: number; folds: FoldResult[]; seconds: number } | { id: number; error: string };

export function toWire(f: PreparedFold): WireFold {
  return { fold: f.fold, train: f.train, test: f.test, yTrain: f.yTrain, yTest: f.yTest };
}

/** Run one task on the folds (also the in-thread fallback). */
export function runTask(folds: readonly WireFold[], task: TrialTask): TrialReply {
  const family = defaultFamilies().find((f) => f.name === task.family);
  if (!family) return { id: task.id, error: `unknown model family "${task.family}"` };
  try {
    const prepared = folds.slice(task.from, task.to).map((f) => ({
      ...f,
      trainRows: new Int32Array(0),
      testRows: new Int32Array(0),
    }));
    const cv = evaluateFolds(() => family.make(task.params, task.seed), prepared, task.metrics);
    return { id: task.id, folds: cv.folds, seconds: cv.seconds };
  } catch (e) {
    return { id: task.id, error: e instanceof Error ? e.message : String(e) };
  }
}

export function serveTrials(port: MessagePort | null, data: { folds: WireFold[] }): void {
  if (!port) return;
  for (const f of data.folds) shareBins(f.train);
  port.on('message', (task: TrialTask) => port.postMessage(runTask(data.folds, task)));
}
