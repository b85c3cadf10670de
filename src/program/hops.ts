/**
 * The hop vocabulary (program.md "Hops"): what `--num-hops` may say. Owned here (multihop.ts runs
 * the hops), built into flag schemas by src/config; imports nothing, so every layer (config
 * included) may import it.
 */

/** `--num-hops`: an exact count, `auto` (the model decides), or `gold` (the label's count). */
export type NumHops = number | "auto" | "gold";
/** The largest exact hop count (MuSiQue questions have 2 to 4 hops). */
export const MAX_FIXED_HOPS = 6;
