import { z } from 'zod';
import { KeelError } from '../../core/errors.js';
import { decodeArray, encodeArray } from '../encode.js';
import type { Tree } from './tree.js';

export const TreeJSONSchema = z.object({
  feature: z.string(),
  threshold: z.string(),
  thresholdBin: z.string(),
  defaultLeft: z.string(),
  left: z.string(),
  right: z.string(),
  value: z.string(),
  gain: z.string(),
  cover: z.string(),
  // categorical splits only (absent in trees without them and in documents written before them)
  catOffset: z.string().optional(),
  catValues: z.string().optional(),
});
export type TreeJSON = z.infer<typeof TreeJSONSchema>;

export function treeToJSON(t: Tree): TreeJSON {
  return {
    feature: encodeArray(t.feature),
    threshold: encodeArray(t.threshold),
    thresholdBin: encodeArray(t.thresholdBin),
    defaultLeft: encodeArray(t.defaultLeft),
    left: encodeArray(t.left),
    right: encodeArray(t.right),
    value: encodeArray(t.value),
    gain: encodeArray(t.gain),
    cover: encodeArray(t.cover),
    ...(t.catOffset && t.catValues
      ? { catOffset: encodeArray(t.catOffset), catValues: encodeArray(t.catValues) }
      : {}),
  };
}

/** Decode a tree and check its structure, so a corrupted model cannot loop or read out of bounds. */
export function treeFromJSON(j: TreeJSON, nFeatures: number): Tree {
  const t: Tree = {
    feature: decodeArray(j.feature, Int32Array, 'tree.feature'),
    threshold: decodeArray(j.threshold, Float64Array, 'tree.threshold'),
    thresholdBin: decodeArray(j.thresholdBin, Uint8Array, 'tree.thresholdBin'),
    defaultLeft: decodeArray(j.defaultLeft, Uint8Array, 'tree.defaultLeft'),
    left: decodeArray(j.left, Int32Array, 'tree.left'),
    right: decodeArray(j.right, Int32Array, 'tree.right'),
    value: decodeArray(j.value, Float64Array, 'tree.value'),
    gain: decodeArray(j.gain, Float64Array, 'tree.gain'),
    cover: decodeArray(j.cover, Float64Array, 'tree.cover'),
  };
  const n = t.feature.length;
  if ((j.catOffset === undefined) !== (j.catValues === undefined))
    throw new KeelError('KEEL_E_MODEL_FORMAT', 'tree.catOffset and tree.catValues come together');
  if (j.catOffset !== undefined && j.catValues !== undefined) {
    const off = decodeArray(j.catOffset, Int32Array, 'tree.catOffset');
    const vals = decodeArray(j.catValues, Int32Array, 'tree.catValues');
    if (off.length !== n + 1 || off[0] !== 0 || off[n] !== vals.length)
      throw new KeelError('KEEL_E_MODEL_FORMAT', 'tree.catOffset does not fit tree.catValues');
    for (let i = 0; i < n; i++)
      if (off[i + 1] < off[i] || (off[i + 1] > off[i] && t.feature[i] === -1))
        throw new KeelError('KEEL_E_MODEL_FORMAT', `tree node ${i} has an invalid category set`);
    t.catOffset = off;
    t.catValues = vals;
  }
  if (n === 0) throw new KeelError('KEEL_E_MODEL_FORMAT', 'a tree has no nodes');
  for (const k of [
    'threshold',
    'thresholdBin',
    'defaultLeft',
    'left',
    'right',
    'value',
    'gain',
    'cover',
  ] as const)
    if (t[k].length !== n)
      throw new KeelError('KEEL_E_MODEL_FORMAT', `tree.${k} has ${t[k].length} entries, expected ${n}`);
  for (let i = 0; i < n; i++) {
    const f = t.feature[i];
    if (f === -1) continue;
    if (f < 0 || f >= nFeatures)
      throw new KeelError(
        'KEEL_E_MODEL_FORMAT',
        `tree node ${i} uses feature ${f}, the model has ${nFeatures}`,
      );
    // children always come after their parent: walking cannot loop
    if (!(t.left[i] > i && t.left[i] < n && t.right[i] > i && t.right[i] < n))
      throw new KeelError('KEEL_E_MODEL_FORMAT', `tree node ${i} has invalid children`);
  }
  return t;
}
