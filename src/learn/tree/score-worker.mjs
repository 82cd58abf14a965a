// A scoring worker thread (see pool.ts): takes blocks of a job's rows from the shared counter
// until none is left; the thread that finishes the last block answers with the job's id when the
// caller awaits it (the calling thread may also be scoring blocks of the same job, then waiting
// on the counter). Plain JavaScript, no loader needed (started with empty execArgv).
import { parentPort } from 'node:worker_threads';
import { scoreBlocks } from './score-kernel.mjs';

parentPort.on('message', (job) => {
  const last = scoreBlocks(job.forest, job.data, job.nRows, job.nCols, job.out, job.ctl, job.block);
  if (last && job.reply) parentPort.postMessage(job.id);
});
