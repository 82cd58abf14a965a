#!/usr/bin/env node
// The `keel` command. It runs the TypeScript sources through tsx, so that the CLI, the pipelines
// it loads (examples/*, your own pipeline.ts) and Keel's modules are one copy of the code.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { main } = await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
await main(process.argv);
