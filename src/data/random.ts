/**
 * Seeded randomness for every random choice in musique (DEVELOPING.md "Determinism").
 * 32-bit integer arithmetic only (Math.imul, >>>), so a seed gives the same sequence on every
 * machine and every JavaScript engine.
 */

/** A function returning uniform floats in [0, 1). */
export type Random = () => number;

/** mulberry32: a small, fast PRNG with a 32-bit state; good enough for shuffles and coin flips. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the UTF-16 code units of `text`, then a murmur3 finaliser: a 32-bit hash. */
function hashString(text: string, basis = 0x811c9dc5): number {
  let hash = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * A seed derived from a base seed and a key (e.g. an example id), so per-item randomness does
 * not depend on the order or concurrency in which items are processed.
 */
export function deriveSeed(seed: number, key: string): number {
  return hashString(`${seed >>> 0}\u0000${key}`);
}

/** A PRNG for one key under one seed. */
export function randomFor(seed: number, key: string): Random {
  return mulberry32(deriveSeed(seed, key));
}

/** A uniform integer in [0, n). */
function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** Fisher–Yates shuffle into a new array (the input is left alone). */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const held = out[i] as T;
    out[i] = out[j] as T;
    out[j] = held;
  }
  return out;
}
