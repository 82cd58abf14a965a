// The bin edges of one feature from its sampled values (binning.ts's fitBins), in plain
// JavaScript so that the main thread and the histogram worker (hist-worker.mjs) compute them with
// the very same code, each taking whole features: a feature's edges are the same on either
// thread. Types: bin-kernel.d.mts.

/**
 * Upper bin edges of a feature from its m non-missing sampled values (sorted here, in place):
 * one bin per distinct value (edges halfway between neighbours) when there are at most `limit`,
 * else quantile edges; the last edge is +Infinity. Written to out (at most 255 doubles); returns
 * how many.
 */
export function featureEdges(values, limit, out) {
  const sorted = values.sort();
  const m = sorted.length;
  let distinct = 0;
  for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  let k = 0;
  if (distinct <= limit) {
    let prev = 0;
    let seen = 0;
    for (let i = 0; i < m; i++)
      if (i === 0 || sorted[i] !== sorted[i - 1]) {
        if (seen > 0) out[k++] = (prev + sorted[i]) / 2;
        prev = sorted[i];
        seen++;
      }
  } else {
    for (let b = 1; b < limit; b++) {
      const q = sorted[Math.min(m - 1, Math.floor((b * m) / limit))];
      const last = k > 0 ? out[k - 1] : Number.NEGATIVE_INFINITY;
      if (q > last && q < sorted[m - 1]) out[k++] = q;
    }
  }
  out[k++] = Number.POSITIVE_INFINITY;
  return k;
}

/**
 * Features taken from a counter (Atomics.add on ctl[slot]) until none of F are left: feature f's
 * cnt[f] sampled values sit at sample[f * stride:], its edges go to edges[f * 256:] and their
 * number to nEdges[f].
 */
export function edgeTasks(ctl, slot, F, sample, stride, cnt, limit, edges, nEdges) {
  for (;;) {
    const f = Atomics.add(ctl, slot, 1);
    if (f >= F) return;
    const values = sample.subarray(f * stride, f * stride + cnt[f]);
    nEdges[f] = featureEdges(values, limit, edges.subarray(f * 256, (f + 1) * 256));
  }
}
