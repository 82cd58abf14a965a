/**
 * Data tracked by DVC: `readTable('data/churn.csv.dvc')` reads the file the `.dvc` file points at
 * from the repository's DVC cache, without DVC installed. The `.dvc` file's `outs[0]` gives the md5
 * and the path; the object is `<cache>/files/md5/ab/cdef…` (DVC 3) or `<cache>/ab/cdef…` (DVC 2),
 * the cache being `.dvc/cache` beside the nearest `.dvc/` directory (or `[cache] dir` in its
 * config). The object's md5 is checked before it is read (DVC 2's md5 of text files ignores CR
 * before LF; both forms are accepted for DVC 2 files). The data is then read by its own path's
 * format, named by that path in reports; its identity stays the sha256 of its bytes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KeelError } from '../core/errors.js';

export function isDvcFile(path: string): boolean {
  return path.endsWith('.dvc') && !path.startsWith('s3://') && !/^postgres(ql)?:\/\//.test(path);
}

export interface DvcTarget {
  /** The cache object holding the bytes. */
  object: string;
  /** The tracked file's workspace path (names the data in reports; its extension, the format). */
  path: string;
  md5: string;
}

interface DvcOut {
  md5?: string;
  path?: string;
  hash?: string;
}

/** Find and check the cache object a `.dvc` file points at. */
export async function resolveDvc(dvcFile: string): Promise<DvcTarget> {
  let doc: { outs?: DvcOut[] };
  try {
    doc = parseYaml(readFileSync(dvcFile, 'utf8')) as { outs?: DvcOut[] };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new KeelError('KEEL_E_FILE_NOT_FOUND', `DVC file not found: ${dvcFile}`, { file: dvcFile });
    throw new KeelError('KEEL_E_PARSE', `${dvcFile} is not a readable .dvc file: ${(e as Error).message}`, {
      file: dvcFile,
    });
  }
  const out = doc?.outs?.[0];
  if (!out || typeof out.md5 !== 'string' || typeof out.path !== 'string')
    throw new KeelError('KEEL_E_PARSE', `${dvcFile} has no outs[0] with an md5 and a path`, {
      file: dvcFile,
    });
  if (out.md5.endsWith('.dir'))
    throw new KeelError(
      'KEEL_E_USAGE',
      `${dvcFile} tracks a directory; name one of its files (DVC-tracked directories are not read)`,
      { file: dvcFile },
    );
  if (!/^[0-9a-f]{32}$/.test(out.md5))
    throw new KeelError('KEEL_E_PARSE', `${dvcFile}: outs[0].md5 "${out.md5}" is not an md5`, {
      file: dvcFile,
    });
  const path = join(dirname(dvcFile), out.path);
  const cache = cacheDir(dirname(resolve(dvcFile)));
  if (!cache)
    throw new KeelError(
      'KEEL_E_FILE_NOT_FOUND',
      `${dvcFile}: no .dvc directory above it (not in a DVC repository)`,
      {
        file: dvcFile,
      },
    );
  const md5 = out.md5;
  const candidates = [
    join(cache, 'files', 'md5', md5.slice(0, 2), md5.slice(2)),
    join(cache, md5.slice(0, 2), md5.slice(2)),
  ];
  const object = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!object)
    throw new KeelError(
      'KEEL_E_FILE_NOT_FOUND',
      `${path} (${dvcFile}) is not in the DVC cache ${cache}: run \`dvc pull\` or \`dvc fetch\` first`,
      { file: path },
    );
  const raw = createHash('md5');
  for await (const chunk of createReadStream(object)) raw.update(chunk as Buffer);
  let got = raw.digest('hex');
  if (got !== md5 && out.hash === undefined) {
    // DVC 2 hashed text files as if every CRLF were LF
    const bytes = readFileSync(object);
    const unix = Buffer.allocUnsafe(bytes.length);
    let n = 0;
    for (let i = 0; i < bytes.length; i++)
      if (!(bytes[i] === 13 && bytes[i + 1] === 10)) unix[n++] = bytes[i];
    if (createHash('md5').update(unix.subarray(0, n)).digest('hex') === md5) got = md5;
  }
  if (got !== md5)
    throw new KeelError(
      'KEEL_E_CONFLICT',
      `DVC cache object ${object} is corrupt: its md5 is ${got}, ${dvcFile} says ${md5}`,
      { file: object },
    );
  return { object, path, md5 };
}

function cacheDir(from: string): string | null {
  for (let d = from; ; d = dirname(d)) {
    const dvc = join(d, '.dvc');
    if (existsSync(dvc) && statSync(dvc).isDirectory()) {
      for (const cfg of [join(dvc, 'config.local'), join(dvc, 'config')]) {
        if (!existsSync(cfg)) continue;
        const m = /^\s*\[cache\][^[]*?^\s*dir\s*=\s*(.+?)\s*$/ms.exec(readFileSync(cfg, 'utf8'));
        if (m) return isAbsolute(m[1]) ? m[1] : resolve(dvc, m[1]);
      }
      return join(dvc, 'cache');
    }
    if (dirname(d) === d) return null;
  }
}
