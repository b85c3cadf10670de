/**
 * The learning signal of GRPO groups (issue 17 item 2; TRL's `frac_reward_zero_std`). GRPO's
 * advantage of a sample is its reward minus its group's mean, divided by the group's spread
 * (src/grpo/advantage.ts, as Arbor computes it), so only the spread of rewards *inside* each
 * group teaches anything: a group whose rollouts all got the same reward has advantages of 0 and
 * carries no signal. The spread across a whole step says nothing about that. Used by the step
 * line and the health summary of `musique train`, by `musique report` and by `musique view`.
 */

/** Arithmetic mean; NaN for no values. */
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

/** All rewards equal: every advantage is 0, the group teaches nothing. */
export function isZeroSpread(rewards: readonly number[]): boolean {
  return rewards.every((reward) => reward === rewards[0]);
}

/** The signal of some groups: how many, how many have no spread, the mean spread inside a group. */
export interface GroupSignal {
  groups: number;
  zeroSpreadGroups: number;
  /** Mean over groups of the unbiased standard deviation of each group's rewards; null without groups. */
  meanGroupSpread: number | null;
}

export function groupSignal(groups: Iterable<readonly number[]>): GroupSignal {
  let count = 0;
  let zero = 0;
  let spreadSum = 0;
  for (const rewards of groups) {
    count += 1;
    if (isZeroSpread(rewards)) zero += 1;
    spreadSum += unbiasedStandardDeviation(rewards);
  }
  return { groups: count, zeroSpreadGroups: zero, meanGroupSpread: count > 0 ? spreadSum / count : null };
}

/** Several signals as one (the mean spread weighted by groups). */
export function combineSignals(signals: readonly GroupSignal[]): GroupSignal {
  const groups = signals.reduce((sum, signal) => sum + signal.groups, 0);
  const spreadSum = signals.reduce((sum, signal) => sum + (signal.meanGroupSpread ?? 0) * signal.groups, 0);
  return {
    groups,
    zeroSpreadGroups: signals.reduce((sum, signal) => sum + signal.zeroSpreadGroups, 0),
    meanGroupSpread: groups > 0 ? spreadSum / groups : null,
  };
}

/** "20/24 (83 %)". */
export function shareText(part: number, whole: number): string {
  return whole > 0 ? `${part}/${whole} (${Math.round((100 * part) / whole)} %)` : `${part}/${whole}`;
}

/** The warning when more than half the groups carry no signal, else null. */
export function noSignalWarning(signal: Pick<GroupSignal, "groups" | "zeroSpreadGroups">): string | null {
  const { groups, zeroSpreadGroups: zero } = signal;
  if (groups === 0 || zero * 2 <= groups) return null;
  return (
    `${zero} of ${groups} groups (${Math.round((100 * zero) / groups)} %) had the same reward for every rollout: their advantages are 0, ` +
    "so GRPO learns nothing from them. Raise --temperature or --num-rollouts-per-step, or train on questions the model gets right " +
    "only sometimes (the rewards of each group are in groups.jsonl and `musique view`)"
  );
}
