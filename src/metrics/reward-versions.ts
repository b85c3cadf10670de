/**
 * The reward vocabulary (metrics.md "Combined reward"): the versions `--reward` takes. Owned
 * here (reward.ts computes them), built into flag schemas by src/config; imports nothing, so
 * every layer (config included) may import it.
 */
export const REWARDS = ["v1", "v2"] as const;
export type RewardVersion = (typeof REWARDS)[number];
