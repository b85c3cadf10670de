/**
 * The order in which bm25s 0.2.8 returns documents, ties included (retrieval.md "BM25"; the rule
 * and its limits are in docs/specs/retrieval.md "Tie order").
 *
 * bm25s ranks a query's scores (float32) with `np.argpartition(scores, -k)` then
 * `np.flip(np.argsort(partitioned_scores))`, with k = the number of documents (the rerank service
 * asks for all of them). On an x86-64 CPU with AVX-512 (numpy 2.x dispatches both calls to Intel's
 * x86-simd-sort), for n ≤ 256 values:
 * - argpartition sorts the whole array ascending with x86-simd-sort's key/index bitonic network
 *   (`argsort_n`: 8-lane vectors, padded with +∞; every compare-exchange keeps a lane's own index
 *   when the keys are equal);
 * - argsort then finds its input already sorted and returns it unchanged (`std::is_sorted`);
 * - np.flip reverses it.
 * So the ranking = the network's ascending order, reversed. That is what this file computes; it
 * reproduces all 200 recorded degenerate queries (bm25_ties.jsonl) and the 149 `bm25s_lib_ranking`
 * orders of the BM25 reference file. Scores are compared as float32 (Math.fround), as bm25s
 * stores them. Beyond 256 documents numpy partitions first; there musique keeps the lower position
 * first among ties (MuSiQue questions have 20 paragraphs).
 */

const LANES = 8;
/** x86-simd-sort's argsort_n handles up to this many values with networks alone. */
const NETWORK_LIMIT = 256;

/** Lane permutations of x86-simd-sort's swizzle ops on 8 lanes. */
function swapWithin(scale: number): Int8Array {
  return Int8Array.from({ length: LANES }, (_, lane) => (lane & ~(scale - 1)) | ((lane + scale / 2) % scale));
}

function reverseWithin(scale: number): Int8Array {
  return Int8Array.from({ length: LANES }, (_, lane) => (lane & ~(scale - 1)) | (scale - 1 - (lane % scale)));
}

interface MergeStep {
  partner: Int8Array;
  /** Lanes whose bit is set take the maximum, the others the minimum. */
  maxLanes: number;
}

/** sort_reg_8lanes: a full bitonic sort of one vector. */
const SORT_VECTOR: readonly MergeStep[] = [
  { partner: reverseWithin(2), maxLanes: 0xaa },
  { partner: reverseWithin(4), maxLanes: 0xcc },
  { partner: swapWithin(2), maxLanes: 0xaa },
  { partner: reverseWithin(8), maxLanes: 0xf0 },
  { partner: swapWithin(4), maxLanes: 0xcc },
  { partner: swapWithin(2), maxLanes: 0xaa },
];

/** bitonic_merge_reg_8lanes: the half cleaners of one bitonic vector. */
const MERGE_VECTOR: readonly MergeStep[] = [
  { partner: swapWithin(8), maxLanes: 0xf0 },
  { partner: swapWithin(4), maxLanes: 0xcc },
  { partner: swapWithin(2), maxLanes: 0xaa },
];

const scratchKeys = new Float32Array(LANES);
const scratchIndexes = new Int32Array(LANES);

/** cmp_merge on vector `vector`: each lane takes min/max with its partner; equal keys keep their index. */
function applySteps(keys: Float32Array, indexes: Int32Array, vector: number, steps: readonly MergeStep[]): void {
  const base = vector * LANES;
  for (const { partner, maxLanes } of steps) {
    for (let lane = 0; lane < LANES; lane++) {
      const own = keys[base + lane] as number;
      const other = keys[base + (partner[lane] as number)] as number;
      const kept = (maxLanes >> lane) & 1 ? (own > other ? own : other) : own < other ? own : other;
      scratchKeys[lane] = kept;
      scratchIndexes[lane] = kept === own ? (indexes[base + lane] as number) : (indexes[base + (partner[lane] as number)] as number);
    }
    keys.set(scratchKeys, base);
    indexes.set(scratchIndexes, base);
  }
}

function reverseVector(keys: Float32Array, indexes: Int32Array, vector: number): void {
  const base = vector * LANES;
  for (let low = base, high = base + LANES - 1; low < high; low++, high--) {
    const key = keys[low] as number;
    keys[low] = keys[high] as number;
    keys[high] = key;
    const index = indexes[low] as number;
    indexes[low] = indexes[high] as number;
    indexes[high] = index;
  }
}

/** COEX: lane-wise min into vector `first`, max into `second`; equal keys stay where they are. */
function compareExchange(keys: Float32Array, indexes: Int32Array, first: number, second: number): void {
  const a = first * LANES;
  const b = second * LANES;
  for (let lane = 0; lane < LANES; lane++) {
    const keyA = keys[a + lane] as number;
    const keyB = keys[b + lane] as number;
    if (keyB < keyA) {
      keys[a + lane] = keyB;
      keys[b + lane] = keyA;
      const index = indexes[a + lane] as number;
      indexes[a + lane] = indexes[b + lane] as number;
      indexes[b + lane] = index;
    }
  }
}

/** bitonic_merge_n_vec over vectors offset … offset + count − 1. */
function mergeVectors(keys: Float32Array, indexes: Int32Array, offset: number, count: number): void {
  for (let i = 0; i < count / 2; i++) {
    const upper = offset + count - i - 1;
    reverseVector(keys, indexes, upper);
    compareExchange(keys, indexes, offset + i, upper);
    reverseVector(keys, indexes, upper);
  }
  for (let span = count / 2; span >= 2; span /= 2) {
    for (let start = 0; start < count; start += span) {
      for (let i = 0; i < span / 2; i++) compareExchange(keys, indexes, offset + start + i, offset + start + i + span / 2);
    }
  }
  for (let i = 0; i < count; i++) applySteps(keys, indexes, offset + i, MERGE_VECTOR);
}

const networkKeys = new Float32Array(NETWORK_LIMIT);
const networkIndexes = new Int32Array(NETWORK_LIMIT);

/** x86-simd-sort argsort_n<ymm float, zmm index, 256>: positions in ascending key order. */
export function networkArgsort(values: ArrayLike<number>): Int32Array {
  const n = values.length;
  if (n > NETWORK_LIMIT) throw new RangeError(`the sorting network handles at most ${NETWORK_LIMIT} values, got ${n}`);
  let vectors = NETWORK_LIMIT / LANES;
  while (vectors > 1 && n * 2 <= vectors * LANES) vectors /= 2;
  const keys = networkKeys.subarray(0, vectors * LANES);
  const indexes = networkIndexes.subarray(0, vectors * LANES);
  for (let i = 0; i < keys.length; i++) {
    keys[i] = i < n ? Math.fround(values[i] as number) : Number.POSITIVE_INFINITY;
    indexes[i] = i;
  }
  for (let vector = 0; vector < vectors; vector++) applySteps(keys, indexes, vector, SORT_VECTOR);
  for (let group = 2; group <= vectors; group *= 2) {
    for (let offset = 0; offset < vectors; offset += group) mergeVectors(keys, indexes, offset, group);
  }
  return indexes.slice(0, n);
}

/**
 * Positions best first when no two scores tie (as float32), else null. Any correct sort gives
 * the network's order then, so the common case skips the network.
 */
function orderWithoutTies(scores: ArrayLike<number>): Int32Array | null {
  const n = scores.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const value = Math.fround(scores[i] as number);
    let j = i - 1;
    while (j >= 0 && Math.fround(scores[order[j] as number] as number) < value) {
      order[j + 1] = order[j] as number;
      j--;
    }
    if (j >= 0 && Math.fround(scores[order[j] as number] as number) === value) return null;
    order[j + 1] = i;
  }
  return order;
}

/** Positions best first, in the order bm25s returns them (see the file header). */
export function bm25sOrder(scores: ArrayLike<number>): Int32Array {
  const n = scores.length;
  if (n <= NETWORK_LIMIT) return orderWithoutTies(scores) ?? networkArgsort(scores).reverse();
  const order = Int32Array.from({ length: n }, (_, i) => i);
  return order.sort((left, right) => (scores[right] as number) - (scores[left] as number) || left - right);
}
