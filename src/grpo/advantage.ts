/**
 * GRPO advantages exactly as Arbor HEAD computes them for one group
 * (`ArborGRPOTrainer._compute_advantages`, arbor.md §3): A_i = r_i − mean(r); with scale_rewards,
 * A_i /= std(r) + 1e-4 where std is torch.std, i.e. unbiased (n − 1). A group of identical rewards
 * gets all zeros. musique stores them next to each sample; the trainer recomputes its own.
 */

export const ADVANTAGE_EPSILON = 1e-4;

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** Unbiased standard deviation (torch.std); 0 for fewer than two values (torch would give NaN). */
export function unbiasedStandardDeviation(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const average = mean(values);
  let squares = 0;
  for (const value of values) squares += (value - average) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

export function groupAdvantages(rewards: readonly number[], scaleRewards = true): number[] {
  if (rewards.length === 0) return [];
  // Exactly zero for identical rewards (the float mean could leave ~1e-17 residues).
  if (rewards.every((reward) => reward === rewards[0])) return rewards.map(() => 0);
  const average = mean(rewards);
  const spread = unbiasedStandardDeviation(rewards);
  return rewards.map((reward) => {
    const centred = reward - average;
    if (centred === 0) return 0;
    return scaleRewards ? centred / (spread + ADVANTAGE_EPSILON) : centred;
  });
}
