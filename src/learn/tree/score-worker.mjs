// A scoring worker thread (see pool.ts): takes blocks of a job's rows from the shared counter
// until none is left; the thread that finishes the last block answers with the job's id when the
// caller awaits it (the calling thread may also be scoring blocks of the same job, then waiting
// on the counter). Plain JavaScript, no loader needed (started with empty execArgv).
import { parentPort } from 'node:worker_threads';
import { addCompleteRows, scoreBlocks } from './score-kernel.mjs';

parentPort.on('message', (job) => {
  const last = scoreBlocks(job.forest, job.data, job.nRows, job.nCols, job.out, job.ctl, job.block);
  if (last && job.reply) parentPort.postMessage(job.id);
});

// Warm up: score a small made-up forest until the kernel is compiled, so the first real job
// runs at full speed (queued jobs wait at most this long; the caller never waits on a block no
// worker took). Same array kinds as real jobs: typed arrays over shared memory.
{
  const shared = (C, n) => new C(new SharedArrayBuffer(n * C.BYTES_PER_ELEMENT));
  const nTrees = 16;
  const d = 6;
  const nodes = (1 << d) - 1;
  const f = {
    id: -1,
    depth: shared(Int32Array, nTrees).fill(d),
    nodeOffset: shared(Int32Array, nTrees).map((_, t) => t * nodes),
    leafOffset: shared(Int32Array, nTrees).map((_, t) => t * (nodes + 1)),
    threshold: shared(Float64Array, nTrees * nodes).map((_, i) => ((i * 7919) % 13) / 13 - 0.5),
    word: shared(Int32Array, nTrees * nodes).map((_, i) => (((i * 31) % 8) << 1) | (i & 1)),
    leaf: shared(Float64Array, nTrees * (nodes + 1)).map((_, i) => i / 1000),
  };
  const nCols = 8;
  const rows = 1024;
  const data = shared(Float64Array, rows * nCols).map((_, i) =>
    i % 17 === 0 ? Number.NaN : ((i * 104729) % 1000) / 1000 - 0.5,
  );
  const out = shared(Float64Array, rows);
  // both kernels: with the missing-value test and without (missingAsInfinity)
  for (let k = 0; k < 24; k++) {
    f.missingAsInfinity = k % 2 === 1;
    addCompleteRows(f, data, 0, rows - (k % 5), nCols, out);
  }
}
