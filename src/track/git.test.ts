import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitCommit } from './git.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'keel-git-'));
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, stdio: 'pipe' })
    .toString()
    .trim();
const PATH = process.env.PATH;

describe('gitCommit', () => {
  afterEach(() => {
    process.env.PATH = PATH;
  });

  it('is the HEAD commit inside a repository, also from a subdirectory', () => {
    const dir = tmp();
    git(dir, 'init', '-q');
    writeFileSync(join(dir, 'f'), 'x');
    git(dir, 'add', 'f');
    git(dir, 'commit', '-q', '-m', 'first');
    const head = git(dir, 'rev-parse', 'HEAD');
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    expect(gitCommit(dir)).toBe(head);
    mkdirSync(join(dir, 'sub'));
    expect(gitCommit(join(dir, 'sub'))).toBe(head);
  });

  it('is null outside a repository, in a repository without commits, and in a missing directory', () => {
    expect(gitCommit(tmp())).toBeNull();
    const empty = tmp();
    git(empty, 'init', '-q');
    expect(gitCommit(empty)).toBeNull();
    expect(gitCommit(join(tmp(), 'nope'))).toBeNull();
  });

  it('is null when git is not installed', () => {
    process.env.PATH = tmp();
    expect(gitCommit(process.cwd())).toBeNull();
  });
});
