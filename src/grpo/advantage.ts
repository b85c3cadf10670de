/**
 * GRPO advantages exactly as Arbor HEAD computes them for one group
 * (`ArborGRPOTrainer._compute_advantages`, arbor.md §3): A_i = r_i − mean(r); with scale_rewards,
 * A_i /= std(r) + 1e-4 where std is torch.std, i.e. unbiased (n − 1). A group of identical rewards
 * gets all zeros. musique stores them next to each sample; the trainer recomputes its own.
 */

import { isZeroSpread, mean, unbiasedStandardDeviation } from "../metrics/group-signal.ts";

export { mean, unbiasedStandardDeviation };

const ADVANTAGE_EPSILON = 1e-4;

export function groupAdvantages(rewards: readonly number[], scaleRewards = true): number[] {
  if (rewards.length === 0) return [];
  // Exactly zero for identical rewards (the float mean could leave ~1e-17 residues).
  if (isZeroSpread(rewards)) return rewards.map(() => 0);
  const average = mean(rewards);
  const spread = unbiasedStandardDeviation(rewards);
  return rewards.map((reward) => {
    const centred = reward - average;
    if (centred === 0) return 0;
    return scaleRewards ? centred / (spread + ADVANTAGE_EPSILON) : centred;
  });
}
