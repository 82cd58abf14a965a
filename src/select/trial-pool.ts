/**
 * Trials in parallel: worker threads that each hold a copy of the prepared fold matrices and
 * cross-validate the candidates they are sent. Results do not depend on which thread ran a
 * trial. When a worker cannot start or dies, its work runs on the calling thread instead.
 */
import { Worker } from 'node:worker_threads';
import { KeelError } from '../core/index.js';
import type { FoldResult, PreparedFold } from './cross-validate.js';
import { runTask, type TrialReply, type TrialTask, toWire, type WireFold } from './trial-runner.js';

interface Slot {
  worker: Worker;
  busy: boolean;
  dead: boolean;
  task?: { task: TrialTask; resolve: (r: TrialReply) => void };
}

export class TrialPool {
  private readonly slots: Slot[] = [];
  private readonly queue: { task: TrialTask; resolve: (r: TrialReply) => void }[] = [];
  private readonly wire: WireFold[];
  private nextId = 0;
  /** How many tasks ran on the calling thread because no worker could take them. */
  fallbacks = 0;

  constructor(
    readonly size: number,
    folds: readonly PreparedFold[],
    /** The worker script (tests pass one that fails, to exercise the fallback). */
    script: URL = new URL('./trial-worker.mjs', import.meta.url),
  ) {
    this.wire = folds.map(toWire);
    for (let i = 0; i < size; i++) {
      let worker: Worker;
      try {
        worker = new Worker(script, {
          workerData: { folds: this.wire },
        });
      } catch {
        continue;
      }
      const slot: Slot = { worker, busy: false, dead: false };
      worker.on('message', (reply: TrialReply) => {
        const t = slot.task;
        slot.task = undefined;
        slot.busy = false;
        t?.resolve(reply);
        this.pump();
      });
      const die = () => {
        if (slot.dead) return;
        slot.dead = true;
        const t = slot.task;
        slot.task = undefined;
        if (t) this.local(t);
        this.pump();
      };
      worker.on('error', die);
      worker.on('exit', die);
      this.slots.push(slot);
    }
  }

  private local(t: { task: TrialTask; resolve: (r: TrialReply) => void }): void {
    this.fallbacks++;
    // Off the current call stack, so a caller awaiting several tasks sees them settle in turn.
    setImmediate(() => t.resolve(runTask(this.wire, t.task)));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => !s.busy && !s.dead);
      if (!slot) {
        if (this.slots.every((s) => s.dead)) for (const t of this.queue.splice(0)) this.local(t);
        return;
      }
      const t = this.queue.shift() as { task: TrialTask; resolve: (r: TrialReply) => void };
      slot.busy = true;
      slot.task = t;
      slot.worker.postMessage(t.task);
    }
  }

  /** Cross-validate one candidate on folds [from, to). */
  async run(task: Omit<TrialTask, 'id'>): Promise<{ folds: FoldResult[]; seconds: number }> {
    const reply = await new Promise<TrialReply>((resolve) => {
      this.queue.push({ task: { ...task, id: this.nextId++ }, resolve });
      this.pump();
    });
    if ('error' in reply)
      throw new KeelError('KEEL_E_INTERNAL', `trial ${task.family} failed: ${reply.error}`);
    return reply;
  }

  async close(): Promise<void> {
    const alive = this.slots.filter((s) => !s.dead);
    for (const s of alive) s.dead = true;
    await Promise.all(alive.map((s) => s.worker.terminate()));
  }
}
