// A worker thread that grows random-forest trees for src/learn/forest-grow.ts. It loads the
// compiled module when one sits beside it (a build), else the TypeScript source through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';

const built = new URL('./forest-grow.js', import.meta.url);
let grow;
if (existsSync(fileURLToPath(built))) grow = await import(built.href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  grow = await import(new URL('./forest-grow.ts', import.meta.url).href);
}
grow.serveForest(workerData);
