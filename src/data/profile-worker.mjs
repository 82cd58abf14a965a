/**
 * A worker thread for profileFrameParallel: profiles numeric columns with the same kernel as the
 * main thread. Two kinds of message:
 * - { job, slot }: one column, copied by the caller into its shared buffer `slot`; answered with
 *   { slot, profile };
 * - { columns, bins, counter }: columns in shared memory, taken one at a time by index from the
 *   shared counter (Atomics.add) until none is left, as the caller's thread does too; each is
 *   answered with { profile } as it is done, then { end: true }.
 */
import { parentPort } from 'node:worker_threads';
import { numericColumnProfile } from './profile-kernel.mjs';

parentPort.on('message', (msg) => {
  if (msg.job) {
    const j = msg.job;
    parentPort.postMessage({
      slot: msg.slot,
      profile: numericColumnProfile(j.name, j.values, j.bins, j.edges),
    });
    return;
  }
  const { columns, bins, counter } = msg;
  for (let i = Atomics.add(counter, 0, 1); i < columns.length; i = Atomics.add(counter, 0, 1)) {
    const c = columns[i];
    parentPort.postMessage({ profile: numericColumnProfile(c.name, c.values, bins, c.edges) });
  }
  parentPort.postMessage({ end: true });
});
