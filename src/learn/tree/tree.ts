/**
 * A regression tree grown on binned features from per-row gradients and hessians, depth-wise,
 * with histogram subtraction (build the smaller child's histogram; the larger one is the parent's
 * minus it) and a learned default direction for missing values at every split. Gradient boosting
 * and the random forest both grow their trees here. Trees are flat typed arrays; prediction walks
 * them on raw feature values.
 */
import type { Rng } from '../../core/random.js';
import { MISSING_BIN } from './binning.js';
import { addGradients, addRoutes, addRows, partitionMask, partitionRows } from './hist-kernel.mjs';
import { type HistogramHelper, type SharedTrainingArrays, TASK_INTS } from './parallel.js';
import {
  CFG_CAT_L2,
  CFG_CAT_SMOOTH,
  CFG_LAMBDA,
  CFG_MAX_CAT,
  CFG_MIN_CHILD,
  CFG_MIN_GAIN,
  CFG_MIN_WEIGHT,
  CFG_ONEHOT,
  CFG_PER_GROUP,
  CFG_SIZE,
  clearHist,
  SPLIT_TASK,
  searchSplit,
  splitTask,
  subtractFeatures,
} from './split-kernel.mjs';

/** Nodes with at least this many rows have their histogram built by two threads. */
const PARALLEL_MIN_ROWS = 8_000;

export interface TreeParams {
  maxDepth: number;
  minChildSamples: number;
  minChildWeight: number;
  lambda: number;
  minSplitGain: number;
  /** Fraction of features considered at each node (random forest); 1 = all. */
  featureFraction: number;
  /**
   * Fraction of features one tree may split on, drawn once per tree (gradient boosting's
   * colsample_bytree); histograms still cover every feature, so subtraction stays valid. 1 = all.
   */
  featureFractionByTree?: number;
  /** Leaf-wise (best-first) growth up to this many leaves, maxDepth still bounding it; 0/absent = depth-wise. */
  maxLeaves?: number;
  /**
   * Per feature: null for a numeric feature, or for a categorical one the category code of each
   * bin (bins are one per code). Categorical features get set splits (LightGBM's: bins ordered
   * by sum_gradient / (sum_hessian + catSmooth), the best prefix of that order goes left).
   */
  categories?: (Int32Array | null)[];
  catSmooth?: number;
  catL2?: number;
  maxCatThreshold?: number;
  /** Categorical: rows between two candidate splits, and at least on the right (LightGBM's min_data_per_group). */
  minDataPerGroup?: number;
  /** Categorical: features with at most this many categories split one category against the rest. */
  maxCatToOnehot?: number;
  /**
   * Extremely randomized trees: each candidate feature gets one threshold drawn uniformly among
   * the node's occupied bins (not the best one), and the best of those candidates splits.
   */
  randomSplits?: boolean;
  /**
   * Gradients are -y·hessian with 0/1 labels (the classification forests): a node whose rows all
   * share one label (G = 0 or G = -H) cannot gain from any split and is a leaf without a search.
   */
  leafWhenPure?: boolean;
}

/** Flat tree: node i is a leaf when feature[i] === -1. */
export interface Tree {
  feature: Int32Array;
  threshold: Float64Array;
  thresholdBin: Uint8Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  /** Gain of the split at each internal node (0 for leaves). */
  gain: Float64Array;
  /** Sum of hessians (cover) per node, for TreeSHAP and diagnostics. */
  cover: Float64Array;
  /**
   * Categorical splits (absent when the tree has none): node i sends the category codes
   * catValues[catOffset[i]..catOffset[i + 1]) (ascending) left, any other code right, and a
   * missing value (NaN or a negative code) by defaultLeft. Numeric nodes have an empty range.
   */
  catOffset?: Int32Array;
  catValues?: Int32Array;
}

/** True when the tree has a categorical split (its flat form then carries bitsets, see flat.ts). */
export function hasCategorical(t: Tree): boolean {
  return t.catOffset !== undefined;
}

interface Split {
  f: number;
  bin: number;
  missingLeft: boolean;
  gain: number;
  GL: number;
  HL: number;
  /** Categorical split: 1 for each bin going left (the missing bin included when missing goes left). */
  mask?: Uint8Array;
}

/** A node of the level being split: its split, the smaller child's histogram and (after partitionLevel) where its right rows start. */
interface Plan {
  node: Node;
  s: Split;
  /** Rows of the smaller child, whose histogram is summed (0 without smallHist). */
  small: number;
  smallHist: Float64Array | null;
  smallLeft: boolean;
  mid: number;
}

interface Node {
  id: number;
  start: number;
  end: number;
  depth: number;
  hist: Float64Array | null;
  /** The sibling's histogram, still to subtract from hist (the larger child's is its parent's minus it). */
  sub: Float64Array | null;
  G: number;
  H: number;
  /** A leaf of a split that was not partitioned (its parent is in leafRoutes, not leafRanges). */
  routed?: boolean;
}

/** A tree's root over all n rows of its sample, its sums and histogram still to come. */
function rootNode(id: number, n: number): Node {
  return { id, start: 0, end: n, depth: 0, hist: null, sub: null, G: 0, H: 0 };
}

const STRIDE = 3; // grad, hess, count per bin
const NB = 256;
/** Nodes with at most this many rows track their occupied bin range (see subsetSplit). */
const SMALL_NODE_ROWS = 256;
/** What summing a row into a histogram costs, in partitions of a row (orders a level's tasks). */
const HIST_ROW_COST = 12;
/**
 * Levels with fewer nodes to search than this search on the calling thread alone (one or two
 * nodes are ~20-40 us of work: not worth a request the helper may answer late on a busy machine).
 */
const SPLIT_PARALLEL_MIN_NODES = 4;
/** A level's split search is cut into at least about this many tasks (feature ranges of its nodes). */
const SPLIT_TASKS_MIN = 8;

export class TreeBuilder {
  readonly histSize: number;
  private readonly featureOrder: Int32Array;
  /**
   * The parts of a histogram any row can reach, as [start, end) pairs of indices: per feature its
   * value bins and the missing bin. Clearing and subtraction touch only these (a one-hot column has
   * 2 of its 256 bins in use), which matters on small data where the rows are few.
   */
  private readonly active: Int32Array;
  /**
   * Sparse bins for mostly-constant data (one-hot columns): per row, the histogram offsets of the
   * features whose bin is not that feature's most frequent bin (LightGBM's most-frequent-bin
   * trick). A histogram then sums only those entries and gets each feature's most frequent bin
   * as the node's totals minus its other bins. Null when dense is cheaper or a helper thread
   * builds histograms (it reads the dense bins).
   */
  private readonly sparse: { start: Int32Array; offset: Int32Array; defaults: Int32Array } | null;
  /** Histogram buffers for reuse across nodes and trees (no allocation in the hot loop). */
  private readonly pool: Float64Array[] = [];
  /**
   * With a helper thread, node histograms live in its shared slab (slots of histSize doubles),
   * so either thread can partition into them and search them: the free slots (views), and the
   * helper they belong to. Private buffers (pool) once the slots run out.
   */
  private slabFree: Float64Array[] = [];
  private slabOf: HistogramHelper | null = null;
  /** Per feature: its value bins (edges), and 1 for a categorical feature (split-kernel.mjs). */
  private readonly nb: Int32Array;
  private readonly isCat: Uint8Array;
  /** The split search parameters (split-kernel.mjs's CFG_* slots), a search's output and mask. */
  private readonly cfg: Float64Array;
  private readonly splitOut = new Float64Array(7);
  private readonly splitMask = new Uint8Array(NB);
  /** Zeroed histogram buffers for per-node feature samples (subsetSplit returns them zeroed). */
  private readonly cleanPool: Float64Array[] = [];
  /** Per feature: the lowest and highest occupied value bin of the current small node. */
  private readonly loBin: Int32Array;
  private readonly hiBin: Int32Array;
  /** After grow(): the leaf of each row range, as [start, end, node] triples over the rows array. */
  leafRanges: Int32Array = new Int32Array(0);
  /**
   * With routeLastLevel: the splits of the last level, whose rows were not partitioned (nothing
   * grows under their children), as [start, end, feature, bin | missingLeft << 8, left node,
   * right node] over the rows array: a row's leaf is the side its bin goes to (addRoutes).
   * Categorical splits are partitioned as always.
   */
  leafRoutes: Int32Array = new Int32Array(0);
  /** Depth-wise growth leaves the last level's numeric splits unpartitioned (see leafRoutes). */
  routeLastLevel = false;
  /** A second thread for large histograms (set by the caller; null = single-threaded). */
  helper: HistogramHelper | null = null;
  /**
   * The bins again, column-major (cols[f * nRows + row]): partitioning a node reads one feature of
   * rows in random order, and one column (nRows bytes) stays in cache where the row-major array
   * (nRows * nFeatures bytes) does not.
   */
  private readonly cols: Uint8Array;
  /**
   * The bins row-major with each row padded to whole 32-bit words (rowWords per row), read four
   * features at a time when summing histograms; rowBytes is the same memory byte by byte.
   */
  private readonly rowBins: Uint32Array;
  private readonly rowBytes: Uint8Array;
  private readonly rowWords: number;
  /** Gradient and hessian of each row side by side (gh[2r], gh[2r + 1]): one cache line per row. */
  private readonly gh: Float64Array;
  private readonly nRows: number;
  private spillBuf = new Int32Array(0);
  /** The bin counts (one per bin, NB per feature) of a histogram of every row (see buildHist). */
  private rootCounts: Float64Array | null = null;
  /** grow()'s pendingGradients, until the root's histogram (buildHist) computes them. */
  private pending = false;
  /** Indexed like the rows array (spill[i] for row slot i), in shared memory for the helper. */
  private readonly sharedSpill: Int32Array | null;

  /**
   * `bins` is row-major (bins[row * nFeatures + f]) and only read here: the builder keeps its own
   * column-major and padded row-major copies, so the caller may drop it.
   */
  constructor(
    bins: Uint8Array,
    private readonly nFeatures: number,
    private readonly edges: Float64Array[],
    private readonly params: TreeParams,
    /** Shared-memory buffers (from sharedArrays) when a helper thread works on them too. */
    buffers: Partial<Pick<SharedTrainingArrays, 'cols' | 'spill' | 'rowBins' | 'gh'>> = {},
  ) {
    this.histSize = nFeatures * NB * STRIDE;
    this.featureOrder = Int32Array.from({ length: nFeatures }, (_, i) => i);
    this.loBin = new Int32Array(nFeatures);
    this.hiBin = new Int32Array(nFeatures);
    const active: number[] = [];
    for (let f = 0; f < nFeatures; f++) {
      active.push(f * NB * STRIDE, (f * NB + edges[f].length) * STRIDE);
      active.push((f * NB + MISSING_BIN) * STRIDE, (f * NB + MISSING_BIN + 1) * STRIDE);
    }
    this.active = Int32Array.from(active);
    this.nb = Int32Array.from(edges, (e) => e.length);
    this.isCat = Uint8Array.from(edges, (_, f) => (params.categories?.[f] ? 1 : 0));
    const cfg = new Float64Array(CFG_SIZE);
    cfg[CFG_LAMBDA] = params.lambda;
    cfg[CFG_MIN_CHILD] = params.minChildSamples;
    cfg[CFG_MIN_WEIGHT] = params.minChildWeight;
    cfg[CFG_MIN_GAIN] = params.minSplitGain;
    cfg[CFG_CAT_SMOOTH] = params.catSmooth ?? 10;
    cfg[CFG_CAT_L2] = params.catL2 ?? 10;
    cfg[CFG_MAX_CAT] = params.maxCatThreshold ?? 32;
    cfg[CFG_PER_GROUP] = params.minDataPerGroup ?? 100;
    cfg[CFG_ONEHOT] = params.maxCatToOnehot ?? 4;
    this.cfg = cfg;
    const n = nFeatures > 0 ? bins.length / nFeatures : 0;
    this.nRows = n;
    this.sparse = buffers.cols ? null : sparseBins(bins, n, nFeatures);
    this.cols = buffers.cols ?? new Uint8Array(bins.length);
    this.sharedSpill = buffers.spill ?? null;
    const W = rowWords(nFeatures);
    this.rowWords = W;
    this.rowBins = buffers.rowBins ?? new Uint32Array(n * W);
    this.rowBytes = new Uint8Array(this.rowBins.buffer, this.rowBins.byteOffset, n * W * 4);
    this.gh = buffers.gh ?? new Float64Array(2 * n);
    const cols = this.cols;
    const rb = this.rowBytes;
    for (let r = 0, k = 0; r < n; r++) {
      const o = r * W * 4;
      for (let f = 0; f < nFeatures; f++, k++) {
        const v = bins[k];
        cols[f * n + r] = v;
        rb[o + f] = v;
      }
    }
  }

  /**
   * Grow a tree over `rows` (modified in place: partitioned by node); `ghFilled`: the shared gh
   * already holds grad and hess (HistogramHelper.gradients); `everyRow`: rows holds every row of
   * the data once (in any order), so the root's bin counts are those of the last such tree;
   * `pendingGradients`: rows holds every row in order (rows[i] = i) and the helper's binary
   * gradients are not computed yet: the two threads compute them while summing the root (each
   * its half's), one request for both (gh is then filled as with ghFilled).
   */
  grow(
    rows: Int32Array,
    grad: Float64Array,
    hess: Float64Array,
    rng: Rng,
    ghFilled = false,
    everyRow = false,
    pendingGradients = false,
  ): Tree {
    const pending = pendingGradients && this.helper !== null && rows.length === this.nRows;
    if (pendingGradients && !pending) this.helper?.gradients(this.gh);
    this.pending = pending;
    const p = this.params;
    const gh = this.gh;
    if (!ghFilled && !pendingGradients)
      for (let i = 0; i < this.nRows; i++) {
        gh[2 * i] = grad[i];
        gh[2 * i + 1] = hess[i];
      }
    const feature: number[] = [];
    const threshold: number[] = [];
    const thresholdBin: number[] = [];
    const defaultLeft: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const gain: number[] = [];
    const cover: number[] = [];
    const catSets: (Int32Array | null)[] = [];
    const newNode = () => {
      feature.push(-1);
      threshold.push(0);
      thresholdBin.push(0);
      defaultLeft.push(0);
      left.push(-1);
      right.push(-1);
      value.push(0);
      gain.push(0);
      cover.push(0);
      catSets.push(null);
      return feature.length - 1;
    };
    if ((p.maxLeaves ?? 0) > 0)
      return this.growLeafwise(rows, grad, hess, rng, everyRow && rows.length === this.nRows, {
        feature,
        threshold,
        thresholdBin,
        defaultLeft,
        left,
        right,
        value,
        gain,
        cover,
        catSets,
        newNode,
      });
    const root = rootNode(newNode(), rows.length);
    // With a feature subset per node (random forest) each node builds the histogram of its own
    // sampled features only; otherwise children come from the parent by subtraction.
    const subset = p.featureFraction < 1;
    if (subset && this.pending) this.settleGradients();
    root.hist = subset
      ? null
      : this.buildHist(rows, root.start, root.end, everyRow && rows.length === this.nRows);
    // (after the root's histogram: it may have computed the gradients)
    let G = 0;
    let H = 0;
    for (let i = 0; i < rows.length; i++) {
      G += grad[rows[i]];
      H += hess[rows[i]];
    }
    root.G = G;
    root.H = H;
    const byTree = p.featureFractionByTree ?? 1;
    const treeFeat = byTree < 1 ? this.sampleFeatures(rng, byTree) : this.nFeatures;
    let frontier: Node[] = [root];
    const leaves: number[] = [];
    const routes: number[] = [];
    const leafOf = (node: Node) => {
      if (node.hist) this.release(node.hist);
      node.hist = null;
      node.sub = null; // the sibling's, released with it
      if (!node.routed) leaves.push(node.start, node.end, node.id);
    };
    while (frontier.length > 0) {
      const next: Node[] = [];
      // one level at a time: every node's split first (with the helper, feature ranges of the
      // level's nodes searched by both threads: see levelSplits), then the partitions (large
      // nodes split between the two threads, the others whole nodes taken by either thread in
      // one request: see partitionLevel), then the children in the nodes' order
      const plans: Plan[] = [];
      const open = (node: Node) => {
        const pure = p.leafWhenPure === true && (node.G === 0 || node.G === -node.H);
        return node.depth < p.maxDepth && node.end - node.start >= 2 * p.minChildSamples && !pure;
      };
      const splits = subset
        ? frontier.map((node) => (open(node) ? this.subsetSplit(node, rows, grad, hess, rng) : null))
        : this.levelSplits(
            frontier.filter((node) => node.hist && open(node)),
            treeFeat,
          );
      let at = 0;
      for (const node of frontier) {
        cover[node.id] = node.H;
        value[node.id] = -node.G / (node.H + p.lambda);
        const n = node.end - node.start;
        const s = subset ? splits[at++] : node.hist && open(node) ? splits[at++] : null;
        if (!s) {
          leafOf(node);
          continue;
        }
        // stable partition of rows[start:end] into left then right: each side keeps the rows'
        // order, so rows in ascending order stay ascending and histogram building and the next
        // partition walk memory forwards (LightGBM's DataPartition does the same). The smaller
        // child's histogram is summed in the same pass (its size is known from the node's
        // histogram); the larger one is the parent's minus it.
        const smallHist = !subset && node.depth + 1 < p.maxDepth ? this.acquire() : null;
        const nLeft = smallHist ? this.leftCount(node.hist as Float64Array, s) : 0;
        const smallLeft = smallHist !== null && 2 * nLeft <= n;
        const small = smallHist ? Math.min(nLeft, n - nLeft) : 0;
        plans.push({ node, s, small, smallHist, smallLeft, mid: 0 });
      }
      // the last level's numeric splits: their children are leaves, found by routing (leafRoutes)
      const routed = (pl: Plan) => this.routeLastLevel && !pl.s.mask && pl.node.depth + 1 >= p.maxDepth;
      this.partitionLevel(
        rows,
        plans.filter((pl) => !routed(pl)),
      );
      for (const pl of plans) {
        const { node, s, smallHist, smallLeft, mid } = pl;
        const { f, bin, missingLeft } = s;
        feature[node.id] = f;
        thresholdBin[node.id] = bin;
        threshold[node.id] = this.edges[f][bin];
        defaultLeft[node.id] = missingLeft ? 1 : 0;
        gain[node.id] = s.gain;
        if (s.mask) this.recordCategorical(node.id, f, s.mask, threshold, catSets);
        const l: Node = {
          id: newNode(),
          start: node.start,
          end: mid,
          depth: node.depth + 1,
          hist: null,
          sub: null,
          G: s.GL,
          H: s.HL,
        };
        const r: Node = {
          id: newNode(),
          start: mid,
          end: node.end,
          depth: node.depth + 1,
          hist: null,
          sub: null,
          G: node.G - s.GL,
          H: node.H - s.HL,
        };
        left[node.id] = l.id;
        right[node.id] = r.id;
        if (routed(pl)) {
          l.routed = true;
          r.routed = true;
          routes.push(node.start, node.end, f, bin | (missingLeft ? 256 : 0), l.id, r.id);
        }
        if (smallHist) {
          // the larger child reuses the parent's buffer, less the smaller one's histogram when its
          // split is searched (levelSplits: not at all for a leaf)
          const [small, large] = smallLeft ? [l, r] : [r, l];
          small.hist = smallHist;
          large.hist = node.hist;
          large.sub = smallHist;
        } else if (node.hist) this.release(node.hist);
        node.hist = null;
        next.push(l, r);
      }
      frontier = next;
    }
    this.leafRanges = Int32Array.from(leaves);
    this.leafRoutes = Int32Array.from(routes);
    return finishTree({
      feature,
      threshold,
      thresholdBin,
      defaultLeft,
      left,
      right,
      value,
      gain,
      cover,
      catSets,
    });
  }

  /**
   * A tree's leaf values (value per node) added to M[row * K + k] of the rows at positions
   * [0, m) of `rows` (as grow() left them): leafRanges' ranges, then leafRoutes' routed rows.
   */
  addLeafValues(rows: Int32Array, value: Float64Array, M: Float64Array, K: number, k: number): void {
    const lr = this.leafRanges;
    for (let q = 0; q < lr.length; q += 3) {
      const v = value[lr[q + 2]];
      for (let i = lr[q]; i < lr[q + 1]; i++) M[rows[i] * K + k] += v;
    }
    const lt = this.leafRoutes;
    if (lt.length === 0) return;
    const RT = new Float64Array(lt.length);
    for (let q = 0; q < lt.length; q += 6) {
      for (let j = 0; j < 4; j++) RT[q + j] = lt[q + j];
      RT[q + 4] = value[lt[q + 4]];
      RT[q + 5] = value[lt[q + 5]];
    }
    addRoutes(RT, lt.length / 6, rows, 0, rows.length, M, this.cols, this.nRows, K, k);
  }

  /** A categorical node: its left-going category codes (threshold NaN: no numeric walk applies). */
  private recordCategorical(
    id: number,
    f: number,
    mask: Uint8Array,
    threshold: number[],
    catSets: (Int32Array | null)[],
  ): void {
    const codes = this.params.categories![f]!;
    const set: number[] = [];
    for (let b = 0; b < codes.length; b++) if (mask[b]) set.push(codes[b]);
    catSets[id] = Int32Array.from(set);
    threshold[id] = Number.NaN;
  }

  /**
   * Leaf-wise growth (LightGBM's best-first): every open leaf knows its best split, and the leaf
   * with the largest gain is split next until maxLeaves leaves (or no split gains). Ties go to
   * the leaf created first. The smaller child's histogram is built, the larger one's is the
   * parent's minus it, as depth-wise.
   */
  private growLeafwise(
    rows: Int32Array,
    grad: Float64Array,
    hess: Float64Array,
    rng: Rng,
    everyRow: boolean,
    a: TreeArrays & { newNode: () => number },
  ): Tree {
    const p = this.params;
    const maxLeaves = p.maxLeaves!;
    const byTree = p.featureFractionByTree ?? 1;
    const treeFeat = byTree < 1 ? this.sampleFeatures(rng, byTree) : this.nFeatures;
    const root = rootNode(a.newNode(), rows.length);
    const open: { node: Node; split: Split | null }[] = [];
    const leaves: number[] = [];
    const consider = (node: Node) => {
      a.cover[node.id] = node.H;
      a.value[node.id] = -node.G / (node.H + p.lambda);
      let split: Split | null = null;
      if (node.hist && node.depth < p.maxDepth && node.end - node.start >= 2 * p.minChildSamples)
        split = this.bestSplit(node, treeFeat);
      if (!split && node.hist) {
        this.release(node.hist);
        node.hist = null;
      }
      open.push({ node, split });
    };
    root.hist = this.buildHist(rows, root.start, root.end, everyRow);
    // (after the root's histogram: it may have computed the gradients)
    for (let i = 0; i < rows.length; i++) {
      root.G += grad[rows[i]];
      root.H += hess[rows[i]];
    }
    consider(root);
    let nLeaves = 1;
    while (nLeaves < maxLeaves) {
      let at = -1;
      for (let i = 0; i < open.length; i++) {
        const s = open[i].split;
        if (s && (at < 0 || s.gain > open[at].split!.gain)) at = i;
      }
      if (at < 0) break;
      const { node, split: s } = open[at];
      open.splice(at, 1);
      const { f, bin, missingLeft } = s!;
      const n = node.end - node.start;
      const smallHist = node.depth + 1 < p.maxDepth && nLeaves + 1 < maxLeaves ? this.acquire() : null;
      const smallLeft = 2 * this.leftCount(node.hist!, s!) <= n;
      const mid = this.partition(rows, node.start, node.end, s!, smallHist, smallLeft);
      a.feature[node.id] = f;
      a.thresholdBin[node.id] = bin;
      a.threshold[node.id] = this.edges[f][bin];
      a.defaultLeft[node.id] = missingLeft ? 1 : 0;
      a.gain[node.id] = s!.gain;
      if (s!.mask) this.recordCategorical(node.id, f, s!.mask, a.threshold, a.catSets);
      const l: Node = {
        id: a.newNode(),
        start: node.start,
        end: mid,
        depth: node.depth + 1,
        hist: null,
        sub: null,
        G: s!.GL,
        H: s!.HL,
      };
      const r: Node = {
        id: a.newNode(),
        start: mid,
        end: node.end,
        depth: node.depth + 1,
        hist: null,
        sub: null,
        G: node.G - s!.GL,
        H: node.H - s!.HL,
      };
      a.left[node.id] = l.id;
      a.right[node.id] = r.id;
      nLeaves++;
      if (smallHist) {
        const [small, large] = smallLeft ? [l, r] : [r, l];
        const lh = node.hist!;
        this.subtract(lh, smallHist);
        small.hist = smallHist;
        large.hist = lh;
      } else if (node.hist) this.release(node.hist);
      node.hist = null;
      consider(l);
      consider(r);
    }
    for (const { node } of open) {
      if (node.hist) this.release(node.hist);
      node.hist = null;
      leaves.push(node.start, node.end, node.id);
    }
    this.leafRanges = Int32Array.from(leaves);
    this.leafRoutes = new Int32Array(0);
    return finishTree(a);
  }

  /**
   * Partition the split nodes of one level (sets each plan's mid and fills its smallHist). With
   * the helper, nodes of at least PARALLEL_MIN_ROWS rows and over a quarter of the level's rows
   * are each split between the two threads (partition()); the other numeric nodes become
   * whole-node tasks of one request (a quarter at most each, so the two threads' shares stay
   * close), costliest first, taken by whichever thread is free, each summed straight into its
   * smaller child's histogram slot: a node done whole is exactly its one-thread result on either
   * thread.
   */
  private partitionLevel(rows: Int32Array, plans: Plan[]): void {
    const helper = this.helper;
    const shared = this.sharedSpill;
    const queued: Plan[] = [];
    const halved: Plan[] = [];
    let total = 0;
    for (const pl of plans) total += pl.node.end - pl.node.start;
    for (const pl of plans) {
      const { node, s } = pl;
      const n = node.end - node.start;
      const inSlab = pl.smallHist === null || this.slotOf(pl.smallHist) >= 0;
      if (helper && shared && !s.mask && inSlab && (n < PARALLEL_MIN_ROWS || 4 * n <= total)) queued.push(pl);
      else if (helper && shared && !s.mask && n >= PARALLEL_MIN_ROWS && halved.length < helper.maxHalves)
        halved.push(pl);
      else pl.mid = this.partition(rows, node.start, node.end, s, pl.smallHist, pl.smallLeft);
    }
    if (!helper || !shared) return;
    if (queued.length === 1 && queued[0].node.end - queued[0].node.start >= PARALLEL_MIN_ROWS) {
      // a lone task that large is split between the threads like the large nodes (as it always was)
      const pl = queued.pop() as Plan;
      if (halved.length < helper.maxHalves) halved.push(pl);
      else pl.mid = this.partition(rows, pl.node.start, pl.node.end, pl.s, pl.smallHist, pl.smallLeft);
    }
    if (queued.length + halved.length === 1) {
      // one node: partition() splits it between the threads as a half would be, or it is a task
      // that one thread does alone either way
      const pl = queued[0] ?? halved[0];
      pl.mid = this.partition(rows, pl.node.start, pl.node.end, pl.s, pl.smallHist, pl.smallLeft);
      return;
    }
    if (queued.length + halved.length === 0) return;
    // costliest first (so the two threads' shares come out close): a row costs ~12 times more to
    // sum into a histogram than to partition (profile at 800k rows)
    const cost = (pl: Plan) => pl.node.end - pl.node.start + HIST_ROW_COST * pl.small;
    queued.sort((x, y) => cost(y) - cost(x));
    helper.nb.set(this.nb); // the tasks zero their histogram slots (clearHist)
    const T = helper.tasks;
    const Hv = helper.halves;
    for (let h = 0; h < halved.length; h++) {
      // the large nodes: their second halves on the worker, first halves here, joined after the
      // request as partition() joins them (exactly its result)
      const { node, s, smallHist, smallLeft } = halved[h];
      if (smallHist) this.zeroHist(smallHist);
      const o = h * TASK_INTS;
      Hv[o] = node.start + ((node.end - node.start) >> 1);
      Hv[o + 1] = node.end;
      Hv[o + 2] = s.f;
      Hv[o + 3] = s.bin | (s.missingLeft ? 256 : 0) | (smallHist ? 512 : 0) | (smallLeft ? 1024 : 0);
    }
    const leftA = new Int32Array(halved.length);
    for (let from = 0, first = true; first || from < queued.length; first = false) {
      // one request: up to maxTasks nodes, each summing into its smaller child's slab slot (and
      // in the first request, the halves)
      let count = 0;
      for (; from + count < queued.length && count < helper.maxTasks; count++) {
        const pl = queued[from + count];
        const o = count * TASK_INTS;
        T[o] = pl.node.start;
        T[o + 1] = pl.node.end;
        T[o + 2] = pl.s.f;
        T[o + 3] =
          pl.s.bin | (pl.s.missingLeft ? 256 : 0) | (pl.smallHist ? 512 : 0) | (pl.smallLeft ? 1024 : 0);
        T[o + 4] = pl.smallHist ? this.slotOf(pl.smallHist) : 0;
      }
      const nHalves = first ? halved.length : 0;
      helper.startLevel(nHalves, count);
      for (let h = 0; h < nHalves; h++) {
        const { node, s, smallHist, smallLeft } = halved[h];
        const col = this.cols.subarray(s.f * this.nRows, (s.f + 1) * this.nRows);
        const half = Hv[h * TASK_INTS];
        const wl = this.partitionRange(
          rows,
          node.start,
          half,
          col,
          s.bin,
          s.missingLeft,
          shared,
          node.start,
          smallHist,
          smallLeft,
        );
        leftA[h] = wl - node.start;
      }
      for (let i = helper.takeTask(count); i >= 0; i = helper.takeTask(count)) this.runTask(rows, T, i);
      helper.wait();
      for (let i = 0; i < count; i++) {
        const pl = queued[from + i];
        const o = i * TASK_INTS;
        pl.mid = pl.node.start + T[o + 5];
      }
      from += count;
    }
    for (let h = 0; h < halved.length; h++) {
      const pl = halved[h];
      const { start } = pl.node;
      const half = Hv[h * TASK_INTS];
      const lA = leftA[h];
      const lB = Hv[h * TASK_INTS + 5];
      const rightA = half - start - lA;
      // as partition(): the worker's right rows already sit after its left ones
      rows.copyWithin(start + lA, half, half + lB);
      rows.set(shared.subarray(start, start + rightA), start + lA + lB);
      const hist = pl.smallHist;
      if (hist) {
        const other = helper.halfHists[h];
        for (let k = 0; k < hist.length; k++) hist[k] += other[k];
      }
      pl.mid = start + lA + lB;
    }
  }

  /** Task i of the helper's table on this thread (what hist-worker.mjs's runTasks does). */
  private runTask(rows: Int32Array, T: Int32Array, i: number): void {
    const o = i * TASK_INTS;
    const start = T[o];
    const end = T[o + 1];
    const f = T[o + 2];
    const packed = T[o + 3];
    const col = this.cols.subarray(f * this.nRows, (f + 1) * this.nRows);
    const spill = this.sharedSpill as Int32Array;
    const wl = this.partitionRange(
      rows,
      start,
      end,
      col,
      packed & 255,
      (packed & 256) !== 0,
      spill,
      start,
      null,
      false,
    );
    const left = wl - start;
    rows.set(spill.subarray(start, end - left), wl);
    if ((packed & 512) !== 0) {
      const HS = this.histSize;
      // the smaller child's slot, as acquire() handed it out (not zeroed)
      const out = (this.helper as HistogramHelper).slab.subarray(T[o + 4] * HS, (T[o + 4] + 1) * HS);
      clearHist(out, this.nb, this.nFeatures);
      if ((packed & 1024) !== 0) this.addRowsTo(out, rows, start, wl);
      else this.addRowsTo(out, rows, wl, end);
    }
    T[o + 5] = left;
  }

  /** Rows going left at split s, from the node's histogram (its counts are exact integers). */
  private leftCount(hist: Float64Array, s: Split): number {
    const base = s.f * NB * STRIDE;
    let c = 0;
    if (s.mask) {
      for (let b = 0; b < NB; b++) if (s.mask[b]) c += hist[base + b * STRIDE + 2];
      return c;
    }
    for (let b = 0; b <= s.bin; b++) c += hist[base + b * STRIDE + 2];
    return s.missingLeft ? c + hist[base + MISSING_BIN * STRIDE + 2] : c;
  }

  /**
   * Stable partition of rows[start:end] into left then right by split s (returns where right
   * starts); with `hist`, the rows of one side (the left when `histLeft`) are summed into it too.
   * Large ranges are split between this thread and the helper: each partitions its half the same
   * way (and sums its half's rows of that side), and the halves are joined as left(first),
   * left(second), right(first), right(second), which is exactly the one-thread result.
   */
  private partition(
    rows: Int32Array,
    start: number,
    end: number,
    s: Split,
    hist: Float64Array | null,
    histLeft: boolean,
  ): number {
    const { f, bin, missingLeft, mask } = s;
    const col = this.cols.subarray(f * this.nRows, (f + 1) * this.nRows);
    if (hist) this.zeroHist(hist);
    if (mask) {
      // a categorical split: the mask says which bins (missing included) go left; one thread
      const spill = this.spill(end - start);
      const wl = partitionMask(rows, spill, col, start, end, mask, 0);
      const wr = end - wl;
      if (hist) {
        if (histLeft) this.addRowsTo(hist, rows, start, wl);
        else this.addRowsTo(hist, spill, 0, wr);
      }
      rows.set(spill.subarray(0, wr), wl);
      return wl;
    }
    const helper = this.helper;
    const shared = this.sharedSpill;
    if (helper && shared && end - start >= PARALLEL_MIN_ROWS) {
      const half = start + ((end - start) >> 1);
      helper.startPartition(half, end, f, bin, missingLeft, hist ? (histLeft ? 'left' : 'right') : null);
      const wl = this.partitionRange(rows, start, half, col, bin, missingLeft, shared, start, hist, histLeft);
      helper.wait();
      const leftA = wl - start;
      const leftB = helper.leftCount();
      const rightA = half - start - leftA;
      // the worker put its right rows after its left ones, at half + leftB, which is where they
      // belong (start + leftA + rightA = half)
      rows.copyWithin(start + leftA, half, half + leftB);
      rows.set(shared.subarray(start, start + rightA), start + leftA + leftB);
      if (hist) {
        const other = helper.hist;
        for (let k = 0; k < hist.length; k++) hist[k] += other[k];
      }
      return start + leftA + leftB;
    }
    const spill = this.spill(end - start);
    const wl = this.partitionRange(rows, start, end, col, bin, missingLeft, spill, 0, hist, histLeft);
    rows.set(spill.subarray(0, end - wl), wl);
    return wl;
  }

  /**
   * Left rows of rows[start:end] in place from `start`, right rows to spill[spillAt:] (both in
   * their order); returns the end of the left rows. Then the rows of the `histLeft` side go into
   * `hist` (in their order, so one thread's sums are those of a separate pass).
   */
  private partitionRange(
    rows: Int32Array,
    start: number,
    end: number,
    col: Uint8Array,
    bin: number,
    missingLeft: boolean,
    spill: Int32Array,
    spillAt: number,
    hist: Float64Array | null,
    histLeft: boolean,
  ): number {
    const wl = partitionRows(rows, spill, col, start, end, bin, missingLeft, spillAt);
    const wr = spillAt + (end - wl);
    if (hist) {
      // with the helper, each thread sums its half into its own zeroed histogram (dense: no
      // sparse form with a helper), so one call per histogram here
      if (histLeft) this.addRowsTo(hist, rows, start, wl);
      else this.addRowsTo(hist, spill, spillAt, wr);
    }
    return wl;
  }

  /** A scratch buffer of at least n row indices (the right side of a partition). */
  private spill(n: number): Int32Array {
    if (this.spillBuf.length < n) this.spillBuf = new Int32Array(Math.max(n, this.nRows));
    return this.spillBuf;
  }

  private acquire(): Float64Array {
    const helper = this.helper;
    if (helper) {
      if (this.slabOf !== helper) {
        // a new helper: all its slots free (never written: zero)
        this.slabOf = helper;
        const HS = this.histSize;
        this.slabFree = [];
        for (let s = helper.slots - 1; s >= 0; s--)
          this.slabFree.push(helper.slab.subarray(s * HS, (s + 1) * HS));
      }
      // not zeroed: whoever fills it zeroes it first (zeroHist, or the tasks' clearHist on
      // either thread)
      const h = this.slabFree.pop();
      if (h) return h;
    }
    const h = this.pool.pop();
    if (h) {
      // only the active parts were ever written
      const a = this.active;
      for (let j = 0; j < a.length; j += 2) h.fill(0, a[j], a[j + 1]);
      return h;
    }
    return new Float64Array(this.histSize);
  }

  /** Zero a histogram from acquire() that is in the slab (acquire() zeroes the others). */
  private zeroHist(h: Float64Array): void {
    if (this.slotOf(h) >= 0) clearHist(h, this.nb, this.nFeatures);
  }

  /** parent -= child over the active parts (the larger child's histogram by subtraction). */
  private subtract(parent: Float64Array, child: Float64Array): void {
    const a = this.active;
    for (let j = 0; j < a.length; j += 2) for (let k = a[j]; k < a[j + 1]; k++) parent[k] -= child[k];
  }

  /**
   * Add rows idx[from:to] to a zeroed histogram: sparse (see `sparse`) or dense. The sparse form
   * sums only the entries off each feature's most frequent bin, then sets that bin to the rows'
   * totals minus the feature's other bins.
   */
  private addRowsTo(hist: Float64Array, idx: Int32Array, from: number, to: number): void {
    const F = this.nFeatures;
    const gh = this.gh;
    const sp = this.sparse;
    if (!sp) {
      addRows(hist, idx, from, to, this.rowBins, this.rowBytes, this.rowWords, F, gh);
      return;
    }
    const rs = sp.start;
    const off = sp.offset;
    let G = 0;
    let H = 0;
    for (let i = from; i < to; i++) {
      const r = idx[i];
      const g = gh[2 * r];
      const h = gh[2 * r + 1];
      G += g;
      H += h;
      for (let j = rs[r], e = rs[r + 1]; j < e; j++) {
        const k = off[j];
        hist[k] += g;
        hist[k + 1] += h;
        hist[k + 2] += 1;
      }
    }
    const a = this.active;
    const d = sp.defaults;
    for (let f = 0; f < F; f++) {
      let g = G;
      let h = H;
      let c = to - from;
      for (let j = 4 * f; j < 4 * f + 4; j += 2)
        for (let k = a[j]; k < a[j + 1]; k += STRIDE) {
          g -= hist[k];
          h -= hist[k + 1];
          c -= hist[k + 2];
        }
      const k = d[f];
      hist[k] = g;
      hist[k + 1] = h;
      hist[k + 2] = c;
    }
  }

  private release(h: Float64Array): void {
    if (this.slabOf && h.buffer === this.slabOf.slab.buffer) this.slabFree.push(h);
    else this.pool.push(h);
  }

  /** The helper's slab slot of histogram h, or -1 when h is not in the current helper's slab. */
  private slotOf(h: Float64Array): number {
    const helper = this.helper;
    return helper && h.buffer === helper.slab.buffer ? h.byteOffset / (this.histSize * 8) : -1;
  }

  /**
   * The best split of each node (null: none gains), after subtracting each node's pending sibling
   * histogram (sub) from its own. With the helper, the nodes whose histograms are in its slab are
   * cut into feature ranges, tasks of one request that both threads take (split-kernel.mjs's
   * splitTask); each node's ranges are merged in feature order, which gives exactly the split
   * one thread's scan finds.
   */
  private levelSplits(nodes: Node[], nFeat: number): (Split | null)[] {
    const out: (Split | null)[] = new Array(nodes.length).fill(null);
    const helper = nodes.length >= SPLIT_PARALLEL_MIN_NODES ? this.helper : null;
    const par: number[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      const hist = node.hist as Float64Array;
      if (helper && this.slotOf(hist) >= 0 && (node.sub === null || this.slotOf(node.sub) >= 0)) {
        par.push(i);
        continue;
      }
      if (node.sub) subtractFeatures(hist, node.sub, this.featureOrder, 0, nFeat, this.nb);
      node.sub = null;
      out[i] = this.bestSplit(node, nFeat);
    }
    if (!helper || par.length === 0) return out;
    const T = helper.splitTasks;
    helper.splitCfg.set(this.cfg);
    helper.order.set(this.featureOrder);
    helper.nb.set(this.nb);
    helper.isCat.set(this.isCat);
    const chunks = Math.max(1, Math.min(nFeat, Math.ceil(SPLIT_TASKS_MIN / par.length)));
    const perRequest = Math.max(1, Math.floor(helper.maxTasks / chunks));
    for (let from = 0; from < par.length; from += perRequest) {
      const to = Math.min(par.length, from + perRequest);
      let count = 0;
      for (let j = from; j < to; j++) {
        const node = nodes[par[j]];
        const slot = this.slotOf(node.hist as Float64Array);
        const sub = node.sub ? this.slotOf(node.sub) : -1;
        node.sub = null;
        for (let c = 0; c < chunks; c++, count++) {
          const o = count * SPLIT_TASK;
          T[o] = slot;
          T[o + 1] = sub;
          T[o + 2] = Math.floor((c * nFeat) / chunks);
          T[o + 3] = Math.floor(((c + 1) * nFeat) / chunks);
          T[o + 4] = node.G;
          T[o + 5] = node.H;
          T[o + 6] = node.end - node.start;
        }
      }
      helper.startSplits(count);
      const { slab, order, nb, isCat, splitCfg, masks } = helper;
      const HS = this.histSize;
      for (let i = helper.takeTask(count); i >= 0; i = helper.takeTask(count))
        splitTask(slab, HS, T, i, order, nb, isCat, splitCfg, masks);
      helper.wait();
      for (let j = from, i = 0; j < to; j++) {
        let best: Split | null = null;
        for (let c = 0; c < chunks; c++, i++) {
          const o = i * SPLIT_TASK + 7;
          if (T[o + 1] < 0 || (best && !(T[o] > best.gain))) continue;
          best = {
            f: T[o + 1],
            bin: T[o + 2],
            missingLeft: T[o + 3] === 1,
            gain: T[o],
            GL: T[o + 4],
            HL: T[o + 5],
          };
          if (T[o + 6] === 1) best.mask = masks.slice(i * NB, (i + 1) * NB);
        }
        out[par[j]] = best;
      }
    }
    return out;
  }

  /**
   * The histogram of rows[start:end]. With `everyRow` (the rows are every row of the data, each
   * once: a tree's root without subsampling) the bin counts are those of the first such
   * histogram, kept in rootCounts, and only gradients and hessians are summed (dense bins).
   */
  private buildHist(rows: Int32Array, start: number, end: number, everyRow = false): Float64Array {
    const hist = this.acquire();
    this.zeroHist(hist);
    const counts = everyRow && !this.sparse ? this.rootCounts : null;
    const helper = this.helper;
    if (this.pending && !(helper && end - start >= PARALLEL_MIN_ROWS)) this.settleGradients();
    if (helper && end - start >= PARALLEL_MIN_ROWS) {
      const mid = start + ((end - start) >> 1);
      if (this.pending) {
        // every row in order: each thread's half of the gradients, then of the histogram
        this.pending = false;
        helper.startGradientsHist(mid, end, counts === null);
        helper.ownGradients(this.gh, start, mid);
      } else helper.start(mid, end, counts === null);
      if (counts) this.addGradientsTo(hist, rows, start, mid);
      else this.sumRows(hist, rows, start, mid);
      helper.wait();
      const other = helper.hist;
      for (let k = 0; k < hist.length; k++) hist[k] += other[k];
    } else if (counts) this.addGradientsTo(hist, rows, start, end);
    else this.sumRows(hist, rows, start, end);
    if (counts) for (let j = 0, k = 2; j < counts.length; j++, k += STRIDE) hist[k] = counts[j];
    else if (everyRow && !this.sparse) {
      const c = new Float64Array(this.nFeatures * NB);
      for (let j = 0, k = 2; j < c.length; j++, k += STRIDE) c[j] = hist[k];
      this.rootCounts = c;
    }
    return hist;
  }

  /** The gradients grow() was told are pending, computed now (HistogramHelper.gradients). */
  private settleGradients(): void {
    this.pending = false;
    this.helper?.gradients(this.gh);
  }

  private addGradientsTo(hist: Float64Array, idx: Int32Array, from: number, to: number): void {
    addGradients(hist, idx, from, to, this.rowBins, this.rowBytes, this.rowWords, this.nFeatures, this.gh);
  }

  private sumRows(
    hist: Float64Array,
    rows: Int32Array,
    start: number,
    end: number,
    nFeat = this.nFeatures,
  ): void {
    const F = this.nFeatures;
    const W = this.rowWords;
    const gh = this.gh;
    if (nFeat < F) {
      // only the sampled features (featureOrder[0..nFeat))
      const order = this.featureOrder;
      const bytes = this.rowBytes;
      for (let i = start; i < end; i++) {
        const r = rows[i];
        const g = gh[2 * r];
        const h = gh[2 * r + 1];
        const base = r * W * 4;
        for (let fi = 0; fi < nFeat; fi++) {
          const f = order[fi];
          const k = (f * NB + bytes[base + f]) * STRIDE;
          hist[k] += g;
          hist[k + 1] += h;
          hist[k + 2] += 1;
        }
      }
      return;
    }
    this.addRowsTo(hist, rows, start, end);
  }

  /**
   * Put the features back in their first order. The per-node samples shuffle featureOrder in
   * place, so without this a tree's samples depend on the trees grown before it; a forest grown
   * on several threads calls it before each tree so a tree depends only on its own random stream.
   */
  resetFeatureOrder(): void {
    for (let i = 0; i < this.nFeatures; i++) this.featureOrder[i] = i;
  }

  /** Shuffle a random subset of features to the front of featureOrder; returns its size. */
  private sampleFeatures(rng: Rng, fraction: number): number {
    const order = this.featureOrder;
    const nFeat = Math.max(1, Math.round(this.nFeatures * fraction));
    for (let i = 0; i < nFeat; i++) {
      const j = i + rng.int(this.nFeatures - i);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return nFeat;
  }

  /**
   * A node of a tree with a feature sample per node (forests): sample the features, sum the node's
   * rows into a histogram of those features only, find the split, and hand the histogram back
   * clean. Small nodes (the many near the leaves) also note each feature's lowest and highest
   * occupied bin, so the split scan and the clean-up cost what their rows cost, not 256 bins.
   */
  private subsetSplit(
    node: Node,
    rows: Int32Array,
    grad: Float64Array,
    hess: Float64Array,
    rng: Rng,
  ): Split | null {
    const nFeat = this.sampleFeatures(rng, this.params.featureFraction);
    if (this.params.randomSplits) return this.randomSplitRows(node, rows, grad, hess, nFeat, rng);
    const hist = this.cleanPool.pop() ?? new Float64Array(this.histSize);
    const { start, end } = node;
    const b = this.rowBytes;
    const W4 = this.rowWords * 4;
    const order = this.featureOrder;
    const small = end - start <= SMALL_NODE_ROWS;
    const lo = this.loBin;
    const hi = this.hiBin;
    if (small) {
      for (let fi = 0; fi < nFeat; fi++) {
        lo[order[fi]] = NB;
        hi[order[fi]] = -1;
      }
      for (let i = start; i < end; i++) {
        const r = rows[i];
        const g = grad[r];
        const h = hess[r];
        const base = r * W4;
        for (let fi = 0; fi < nFeat; fi++) {
          const f = order[fi];
          const v = b[base + f];
          const k = (f * NB + v) * STRIDE;
          hist[k] += g;
          hist[k + 1] += h;
          hist[k + 2] += 1;
          if (v !== MISSING_BIN) {
            if (v < lo[f]) lo[f] = v;
            if (v > hi[f]) hi[f] = v;
          }
        }
      }
    } else this.sumRows(hist, rows, start, end, nFeat);
    node.hist = hist;
    const s = this.bestSplit(node, nFeat, small ? { lo, hi } : null);
    node.hist = null;
    if (small)
      for (let i = start; i < end; i++) {
        const base = rows[i] * W4;
        for (let fi = 0; fi < nFeat; fi++) {
          const f = order[fi];
          const k = (f * NB + b[base + f]) * STRIDE;
          hist[k] = 0;
          hist[k + 1] = 0;
          hist[k + 2] = 0;
        }
      }
    else {
      const a = this.active;
      for (let fi = 0; fi < nFeat; fi++) {
        const j = 4 * order[fi];
        hist.fill(0, a[j], a[j + 1]);
        hist.fill(0, a[j + 2], a[j + 3]);
      }
    }
    this.cleanPool.push(hist);
    return s;
  }

  /**
   * randomSplit without a histogram (a random threshold needs only each feature's occupied range
   * and the sums on either side of it): one pass over the node's rows for the ranges, one for the
   * sums. Draws and picks exactly as randomSplit does on the node's histogram.
   */
  private randomSplitRows(
    node: Node,
    rows: Int32Array,
    grad: Float64Array,
    hess: Float64Array,
    nFeat: number,
    rng: Rng,
  ): Split | null {
    const p = this.params;
    const { start, end } = node;
    const n = this.nRows;
    const order = this.featureOrder;
    const lambda = p.lambda;
    const parentScore = (node.G * node.G) / (node.H + lambda);
    const nNode = end - start;
    let best: Split | null = null;
    // feature by feature on the column-major bins: the node's rows are in ascending order, so
    // each pass walks one column forwards
    for (let fi = 0; fi < nFeat; fi++) {
      const f = order[fi];
      const col = this.cols.subarray(f * n, (f + 1) * n);
      let GL = 0;
      let HL = 0;
      let CL = 0;
      let Gm = 0;
      let Hm = 0;
      let Cm = 0;
      let t = 0;
      if (this.edges[f].length <= 2) {
        // two value bins (a one-hot column): the only threshold is bin 0, so one pass gives the
        // sums and whether the node holds both values
        for (let i = start; i < end; i++) {
          const r = rows[i];
          const v = col[r];
          if (v === 0) {
            GL += grad[r];
            HL += hess[r];
            CL++;
          } else if (v === MISSING_BIN) {
            Gm += grad[r];
            Hm += hess[r];
            Cm++;
          }
        }
        if (CL === 0 || CL + Cm === nNode) continue; // constant in this node
        rng.int(1); // the draw randomSplit makes for a range of one threshold
      } else {
        let lo = NB;
        let hi = -1;
        for (let i = start; i < end; i++) {
          const v = col[rows[i]];
          if (v !== MISSING_BIN) {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
        }
        if (hi < 0 || lo === hi) continue; // constant in this node
        t = lo + rng.int(hi - lo);
        for (let i = start; i < end; i++) {
          const r = rows[i];
          const v = col[r];
          if (v <= t) {
            GL += grad[r];
            HL += hess[r];
            CL++;
          } else if (v === MISSING_BIN) {
            Gm += grad[r];
            Hm += hess[r];
            Cm++;
          }
        }
      }
      for (let side = 0; side < 2; side++) {
        if (side === 1 && Cm === 0) break;
        const gl = side === 0 ? GL : GL + Gm;
        const hl = side === 0 ? HL : HL + Hm;
        const cl = side === 0 ? CL : CL + Cm;
        const cr = nNode - cl;
        if (cl < p.minChildSamples || cr < p.minChildSamples) continue;
        const hr = node.H - hl;
        if (hl < p.minChildWeight || hr < p.minChildWeight) continue;
        const gr = node.G - gl;
        const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
        if (gain > p.minSplitGain && (!best || gain > best.gain))
          best = { f, bin: t, missingLeft: side === 1, gain, GL: gl, HL: hl };
      }
    }
    return best;
  }

  /** The best split over the first nFeat features of featureOrder; with range, bins outside [lo, hi] are known empty. */
  private bestSplit(
    node: Node,
    nFeat: number,
    range: { lo: Int32Array; hi: Int32Array } | null = null,
  ): Split | null {
    const o = this.splitOut;
    searchSplit(
      node.hist as Float64Array,
      this.featureOrder,
      0,
      nFeat,
      this.nb,
      this.isCat,
      this.cfg,
      node.G,
      node.H,
      node.end - node.start,
      range ? range.lo : null,
      range ? range.hi : null,
      o,
      0,
      this.splitMask,
    );
    if (o[1] < 0) return null;
    const s: Split = { f: o[1], bin: o[2], missingLeft: o[3] === 1, gain: o[0], GL: o[4], HL: o[5] };
    if (o[6] === 1) s.mask = this.splitMask.slice();
    return s;
  }
}

/** 32-bit words per row of padded row-major bins (four features a word). */
export function rowWords(nFeatures: number): number {
  return (nFeatures + 3) >> 2;
}

interface TreeArrays {
  feature: number[];
  threshold: number[];
  thresholdBin: number[];
  defaultLeft: number[];
  left: number[];
  right: number[];
  value: number[];
  gain: number[];
  cover: number[];
  catSets: (Int32Array | null)[];
}

function finishTree(a: TreeArrays): Tree {
  const t: Tree = {
    feature: Int32Array.from(a.feature),
    threshold: Float64Array.from(a.threshold),
    thresholdBin: Uint8Array.from(a.thresholdBin),
    defaultLeft: Uint8Array.from(a.defaultLeft),
    left: Int32Array.from(a.left),
    right: Int32Array.from(a.right),
    value: Float64Array.from(a.value),
    gain: Float64Array.from(a.gain),
    cover: Float64Array.from(a.cover),
  };
  if (a.catSets.some((c) => c !== null)) {
    const n = a.feature.length;
    const offset = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offset[i + 1] = offset[i] + (a.catSets[i]?.length ?? 0);
    const values = new Int32Array(offset[n]);
    for (let i = 0; i < n; i++) if (a.catSets[i]) values.set(a.catSets[i]!, offset[i]);
    t.catOffset = offset;
    t.catValues = values;
  }
  return t;
}

/** Whether value v goes left at a categorical node (the node's range of catValues is not empty). */
export function categoricalLeft(t: Tree, node: number, v: number): boolean {
  if (!(v >= 0)) return t.defaultLeft[node] === 1; // NaN or a negative code: missing
  const c = t.catValues!;
  for (let i = t.catOffset![node]; i < t.catOffset![node + 1]; i++) if (c[i] === v) return true;
  return false;
}

/** Whether value v goes left at internal node `node` (numeric or categorical), as prediction routes it. */
export function goesLeft(t: Tree, node: number, v: number): boolean {
  const co = t.catOffset;
  if (co !== undefined && co[node + 1] > co[node]) return categoricalLeft(t, node, v);
  return v <= t.threshold[node] ? true : v > t.threshold[node] ? false : t.defaultLeft[node] === 1;
}

/** The leaf value for one row of raw features. */
export function predictTree(t: Tree, x: Float64Array | number[], offset: number): number {
  let node = 0;
  const feature = t.feature;
  const co = t.catOffset;
  while (feature[node] !== -1) {
    const v = x[offset + feature[node]];
    if (co !== undefined && co[node + 1] > co[node]) {
      node = categoricalLeft(t, node, v) ? t.left[node] : t.right[node];
      continue;
    }
    node = Number.isNaN(v)
      ? t.defaultLeft[node]
        ? t.left[node]
        : t.right[node]
      : v <= t.threshold[node]
        ? t.left[node]
        : t.right[node];
  }
  return t.value[node];
}

/** Below this share of entries off their feature's most frequent bin, histograms go sparse. */
const SPARSE_MAX_DENSITY = 0.5;

/** The sparse form of row-major bins (see TreeBuilder.sparse), or null when it would not pay. */
function sparseBins(
  bins: Uint8Array,
  n: number,
  F: number,
): { start: Int32Array; offset: Int32Array; defaults: Int32Array } | null {
  if (n === 0 || F === 0) return null;
  const counts = new Int32Array(F * NB);
  for (let r = 0, k = 0; r < n; r++) for (let f = 0; f < F; f++, k++) counts[f * NB + bins[k]]++;
  const top = new Int32Array(F);
  let nnz = 0;
  for (let f = 0; f < F; f++) {
    let best = 0;
    for (let b = 1; b < NB; b++) if (counts[f * NB + b] > counts[f * NB + best]) best = b;
    top[f] = best;
    nnz += n - counts[f * NB + best];
  }
  if (nnz > SPARSE_MAX_DENSITY * n * F) return null;
  const start = new Int32Array(n + 1);
  const offset = new Int32Array(nnz);
  let j = 0;
  for (let r = 0, k = 0; r < n; r++) {
    start[r] = j;
    for (let f = 0; f < F; f++, k++) if (bins[k] !== top[f]) offset[j++] = (f * NB + bins[k]) * STRIDE;
  }
  start[n] = j;
  return { start, offset, defaults: Int32Array.from(top, (b, f) => (f * NB + b) * STRIDE) };
}
