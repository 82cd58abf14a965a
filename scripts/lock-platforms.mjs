#!/usr/bin/env node
// The npm registry reachable here lacks the other platforms' builds of packages such as
// @biomejs/cli-* and @duckdb/node-bindings-*, so `npm install` leaves them out of
// package-lock.json and `npm ci` then refuses the lock as out of sync. This adds an entry for
// each missing platform-specific optional dependency (os/cpu/libc from its name; npm ci skips
// them on other platforms). Run after every dependency change: npm run lock:platforms
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const pkgs = lock.packages;
const added = [];
for (const meta of Object.values(pkgs)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (pkgs[key]) continue;
    const m = /(android|darwin|linux|win32)-(arm64|x64)(-musl)?$/.exec(dep);
    if (!m) continue;
    pkgs[key] = {
      version,
      cpu: [m[2]],
      optional: true,
      os: [m[1]],
      ...(m[3] ? { libc: ['musl'] } : {}),
      ...(meta.dev ? { dev: true } : {}),
    };
    added.push(dep);
  }
}
lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(
  added.length
    ? `added ${added.length} platform entries: ${added.join(', ')}`
    : 'package-lock.json already lists every platform package',
);
