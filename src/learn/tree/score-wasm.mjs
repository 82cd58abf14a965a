// The complete-layout batch kernel (score-kernel.mjs addRowsNoMissingTest) as WebAssembly: the
// same walk over the same doubles, compiled by V8 without the bounds checks and the register
// spills of its JavaScript form. The module is one fixed function, written out below as bytes by
// a few helpers: nothing in it comes from a model (a model's arrays are data in its memory).
//
// Memory, per thread: the forest's arrays copied in once (a forest is known by its id), then per
// call a block of rows in groups of eight, interleaved: the twin value j (score-kernel.mjs
// twinRows) of row k of a group at byte 64 j + 8 k, so a node's word, stored as 64 j, addresses
// all eight rows with one base and a constant offset each.

// ---- a few WebAssembly encoders

const uleb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const sleb = (n) => {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const vec = (items) => [...uleb(items.length), ...items.flat()];
const name = (s) => vec([...s].map((c) => [c.charCodeAt(0)]));

const I32 = 0x7f;
const F64 = 0x7c;
const get = (i) => [0x20, ...uleb(i)];
const set = (i) => [0x21, ...uleb(i)];
const tee = (i) => [0x22, ...uleb(i)];
const i32 = (n) => [0x41, ...sleb(n)];
const add = [0x6a];
const sub = [0x6b];
const shl = [0x74];
const ltS = [0x48];
const eqz = [0x45];
const load32 = (offset) => [0x28, 2, ...uleb(offset)];
const loadF64 = (offset) => [0x2b, 3, ...uleb(offset)];
const storeF64 = (offset) => [0x39, 3, ...uleb(offset)];
const addF64 = [0xa0];
const gtF64 = [0x64];
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const end = [0x0b];
const brIf = (depth) => [0x0d, ...uleb(depth)];
const mul = [0x6c];
const and = [0x71];
const shrU = [0x76];
const neF64 = [0x62];
const select = [0x1b];
const f64c = (v) => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)];

// walk(nTrees, pDepth, pNodeOffset, pLeafOffset, pWord, pThreshold, pLeaf, pRows, groups,
//      groupBytes, pAcc): acc[r] += each tree's leaf for row r, trees in order, rows in groups of 8
const P = {
  nTrees: 0,
  pDepth: 1,
  pNo: 2,
  pLo: 3,
  pWord: 4,
  pTh: 5,
  pLeaf: 6,
  pRows: 7,
  groups: 8,
  groupBytes: 9,
  pAcc: 10,
};
const L = {
  t: 11,
  d: 12,
  wordBase: 13,
  thBase: 14,
  leafBase: 15,
  g: 16,
  rb: 17,
  accBase: 18,
  l: 19,
  tmp: 28,
};
const n = (k) => 20 + k;
const NPARAMS = 11;
const NLOCALS = 18;

/** 4 t + base: the address of element t of an i32 array at param base. */
const at32 = (base) => [...get(base), ...get(L.t), ...i32(2), ...shl, ...add];

function walkBody() {
  const step = (k) => [
    // n_k = 2 n_k + 1 + (row value at the node's word > the node's threshold)
    ...get(n(k)),
    ...i32(1),
    ...shl,
    ...i32(1),
    ...add,
    ...get(L.rb),
    ...get(n(k)),
    ...i32(2),
    ...shl,
    ...get(L.wordBase),
    ...add,
    ...load32(0),
    ...add,
    ...loadF64(8 * k),
    ...get(n(k)),
    ...i32(3),
    ...shl,
    ...get(L.thBase),
    ...add,
    ...loadF64(0),
    ...gtF64,
    ...add,
    ...set(n(k)),
  ];
  const leaf = (k) => [
    ...get(L.accBase),
    ...get(L.accBase),
    ...loadF64(8 * k),
    ...get(n(k)),
    ...i32(3),
    ...shl,
    ...get(L.leafBase),
    ...add,
    ...loadF64(0),
    ...addF64,
    ...storeF64(8 * k),
  ];
  const zero = [];
  for (let k = 0; k < 8; k++) zero.push(...i32(0), ...set(n(k)));
  const steps = [];
  const leaves = [];
  for (let k = 0; k < 8; k++) {
    steps.push(...step(k));
    leaves.push(...leaf(k));
  }
  return [
    ...i32(0),
    ...set(L.t),
    ...block,
    ...get(P.nTrees),
    ...eqz,
    ...brIf(0),
    ...get(P.groups),
    ...eqz,
    ...brIf(0),
    ...loop, // tree t
    ...at32(P.pDepth),
    ...load32(0),
    ...set(L.d),
    ...at32(P.pNo),
    ...load32(0),
    ...tee(L.tmp),
    ...i32(2),
    ...shl,
    ...get(P.pWord),
    ...add,
    ...set(L.wordBase),
    ...get(L.tmp),
    ...i32(3),
    ...shl,
    ...get(P.pTh),
    ...add,
    ...set(L.thBase),
    // leafBase = pLeaf + 8 (leafOffset[t] - (2^d - 1)): a path's end n indexes it directly
    ...at32(P.pLo),
    ...load32(0),
    ...i32(1),
    ...get(L.d),
    ...shl,
    ...i32(1),
    ...sub,
    ...sub,
    ...i32(3),
    ...shl,
    ...get(P.pLeaf),
    ...add,
    ...set(L.leafBase),
    ...i32(0),
    ...set(L.g),
    ...get(P.pRows),
    ...set(L.rb),
    ...get(P.pAcc),
    ...set(L.accBase),
    ...loop, // group g
    ...zero,
    ...block,
    ...get(L.d),
    ...eqz,
    ...brIf(0),
    ...i32(0),
    ...set(L.l),
    ...loop, // level l
    ...steps,
    ...get(L.l),
    ...i32(1),
    ...add,
    ...tee(L.l),
    ...get(L.d),
    ...ltS,
    ...brIf(0),
    ...end,
    ...end,
    ...leaves,
    ...get(L.rb),
    ...get(P.groupBytes),
    ...add,
    ...set(L.rb),
    ...get(L.accBase),
    ...i32(64),
    ...add,
    ...set(L.accBase),
    ...get(L.g),
    ...i32(1),
    ...add,
    ...tee(L.g),
    ...get(P.groups),
    ...ltS,
    ...brIf(0),
    ...end,
    ...get(L.t),
    ...i32(1),
    ...add,
    ...tee(L.t),
    ...get(P.nTrees),
    ...ltS,
    ...brIf(0),
    ...end,
    ...end,
    ...end, // the function
  ];
}

// fill(pX, rows, nCols, pRows, groupBytes): rows of doubles at pX (nCols wide) as twins at pRows,
// interleaved in groups of eight (see the top): value j of row r at 2j (a missing value as
// -Infinity) and 2j + 1 (as +Infinity)
const F = { pX: 0, rows: 1, nCols: 2, pRows: 3, groupBytes: 4, r: 5, c: 6, o: 7, src: 8, nan: 9, x: 10 };

function fillBody() {
  const twin = (inf, offset) => [
    ...get(F.o),
    ...f64c(inf),
    ...get(F.x),
    ...get(F.nan),
    ...select,
    ...storeF64(offset),
  ];
  return [
    ...i32(0),
    ...set(F.r),
    ...block,
    ...get(F.rows),
    ...eqz,
    ...brIf(0),
    ...loop, // row r
    // o = pRows + (r >> 3) groupBytes + 8 (r & 7); src = pX + 8 r nCols
    ...get(F.pRows),
    ...get(F.r),
    ...i32(3),
    ...shrU,
    ...get(F.groupBytes),
    ...mul,
    ...add,
    ...get(F.r),
    ...i32(7),
    ...and,
    ...i32(3),
    ...shl,
    ...add,
    ...set(F.o),
    ...get(F.pX),
    ...get(F.r),
    ...get(F.nCols),
    ...mul,
    ...i32(3),
    ...shl,
    ...add,
    ...set(F.src),
    ...i32(0),
    ...set(F.c),
    ...block,
    ...get(F.nCols),
    ...eqz,
    ...brIf(0),
    ...loop, // column c
    ...get(F.src),
    ...loadF64(0),
    ...set(F.x),
    ...get(F.x),
    ...get(F.x),
    ...neF64,
    ...set(F.nan),
    ...twin(Number.NEGATIVE_INFINITY, 0),
    ...twin(Number.POSITIVE_INFINITY, 64),
    ...get(F.o),
    ...i32(128),
    ...add,
    ...set(F.o),
    ...get(F.src),
    ...i32(8),
    ...add,
    ...set(F.src),
    ...get(F.c),
    ...i32(1),
    ...add,
    ...tee(F.c),
    ...get(F.nCols),
    ...ltS,
    ...brIf(0),
    ...end,
    ...end,
    ...get(F.r),
    ...i32(1),
    ...add,
    ...tee(F.r),
    ...get(F.rows),
    ...ltS,
    ...brIf(0),
    ...end,
    ...end,
    ...end, // the function
  ];
}

function moduleBytes() {
  const fn = (params) => [0x60, ...vec(Array.from({ length: params }, () => [I32])), ...vec([])];
  const type = vec([fn(NPARAMS), fn(5)]);
  const walkCode = [...vec([[...uleb(NLOCALS), I32]]), ...walkBody()];
  const fillCode = [
    ...vec([
      [5, I32],
      [1, F64],
    ]),
    ...fillBody(),
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, type),
    ...section(3, vec([[0], [1]])),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(
      7,
      vec([
        [...name('walk'), 0x00, 0],
        [...name('fill'), 0x00, 1],
        [...name('mem'), 0x02, 0],
      ]),
    ),
    ...section(
      10,
      vec([
        [...uleb(walkCode.length), ...walkCode],
        [...uleb(fillCode.length), ...fillCode],
      ]),
    ),
  ]);
}

// ---- the per-thread instance and the forest in its memory

/** Rows per call: four groups of eight, 32 rows of 2 x 62 doubles are 31 KB (L1 beside the tree). */
export const WASM_BLOCK = 32;

let instance; // undefined: not tried yet; null: WebAssembly unavailable here
let walk;
let fill;
let memory;
let f64;
/** Where the cached forest's arrays are (byte offsets), and whose they are. */
let held = null;

function ready() {
  if (instance === undefined) {
    try {
      instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()));
      walk = instance.exports.walk;
      fill = instance.exports.fill;
      memory = instance.exports.mem;
    } catch {
      instance = null;
    }
  }
  return instance !== null;
}

/** Grow the memory to at least `bytes`; the views are made again (growing detaches them). */
function reserve(bytes) {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
  if (!f64 || f64.buffer !== memory.buffer) f64 = new Float64Array(memory.buffer);
}

/**
 * The most memory a thread's copy may take: a larger forest (thousands of deep trees) is walked
 * by the JavaScript kernel on its shared arrays rather than copied into every scoring thread.
 */
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * Copy forest f into memory (once per forest: f.id), laid out as walk reads it; null when it
 * would take more than MAX_BYTES or the memory cannot grow.
 */
function hold(f, rowBytes) {
  if (held !== null && held.id === f.id && held.rowBytes >= rowBytes) return held;
  const k = f.depth.length;
  const nodes = f.word.length;
  const leaves = f.leaf.length;
  const pDepth = 0;
  const pNo = pDepth + 4 * k;
  const pLo = pNo + 4 * k;
  const pWord = (pLo + 4 * k + 7) & ~7;
  const pTh = (pWord + 4 * nodes + 7) & ~7;
  const pLeaf = pTh + 8 * nodes;
  const pAcc = pLeaf + 8 * leaves;
  const pRows = pAcc + 8 * WASM_BLOCK;
  if (pRows + rowBytes > MAX_BYTES) return null;
  try {
    reserve(pRows + rowBytes);
  } catch {
    return null;
  }
  const i32 = new Int32Array(memory.buffer);
  i32.set(f.depth, pDepth >> 2);
  i32.set(f.nodeOffset, pNo >> 2);
  i32.set(f.leafOffset, pLo >> 2);
  // a node's word (feature << 1 | missingRight: the twin it reads) as that twin's byte offset in a group
  for (let i = 0, w = pWord >> 2; i < nodes; i++) i32[w + i] = f.word[i] << 6;
  f64.set(f.threshold, pTh >> 3);
  f64.set(f.leaf, pLeaf >> 3);
  held = { id: f.id, rowBytes, pDepth, pNo, pLo, pWord, pTh, pLeaf, pAcc, pRows };
  return held;
}

/**
 * out[i] += the forest's sum for rows [from, to) of data, as addRowsNoMissingTest gives it (f has
 * missingAsInfinity and an id), on this thread's WebAssembly instance. False, with nothing done,
 * when WebAssembly is not available here.
 */
export function addRowsWasm(f, data, from, to, nCols, out) {
  if (f.id === undefined || !ready()) return false;
  const w2 = 2 * nCols;
  const groupBytes = 64 * w2;
  // the twin rows of a block, then the block's rows as they are (fill's input)
  const twinBytes = (WASM_BLOCK / 8) * groupBytes;
  const h = hold(f, twinBytes + 8 * WASM_BLOCK * nCols);
  if (h === null) return false;
  const pX = h.pRows + twinBytes;
  const x = pX >> 3;
  const acc = h.pAcc >> 3;
  const v = f64;
  for (let b = from; b < to; b += WASM_BLOCK) {
    const m = Math.min(WASM_BLOCK, to - b);
    const groups = (m + 7) >> 3;
    v.set(data.subarray(b * nCols, (b + m) * nCols), x);
    // padding rows: scored, never read back
    if (m < groups * 8) v.fill(0, x + m * nCols, x + groups * 8 * nCols);
    for (let r = 0; r < m; r++) v[acc + r] = out[b + r];
    fill(pX, groups * 8, nCols, h.pRows, groupBytes);
    walk(
      f.depth.length,
      h.pDepth,
      h.pNo,
      h.pLo,
      h.pWord,
      h.pTh,
      h.pLeaf,
      h.pRows,
      groups,
      groupBytes,
      h.pAcc,
    );
    for (let r = 0; r < m; r++) out[b + r] = v[acc + r];
  }
  return true;
}
