/**
 * A worker thread for profileFrameParallel: profiles the numeric columns it is sent with the same
 * kernel as the main thread and posts the profiles back.
 */
import { parentPort } from 'node:worker_threads';
import { numericColumnProfile } from './profile-kernel.mjs';

parentPort.on('message', (jobs) => {
  parentPort.postMessage(jobs.map((j) => numericColumnProfile(j.name, j.values, j.bins, j.edges)));
});
