// A worker thread that cross-validates trials for src/select/trial-pool.ts. It loads the
// compiled runner when one sits beside it (a build), else the TypeScript source through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const built = new URL('./trial-runner.js', import.meta.url);
let runner;
if (existsSync(fileURLToPath(built))) runner = await import(built.href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  runner = await import(new URL('./trial-runner.ts', import.meta.url).href);
}
runner.serveTrials(parentPort, workerData);
