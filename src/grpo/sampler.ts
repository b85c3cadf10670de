/**
 * Which training examples each GRPO step uses, as DSPy's GRPO picks them
 * (`select_training_sample_and_update_shuffled_trainset`): each epoch is a seeded shuffle of the
 * training set, padded with the least-used examples to a multiple of k, and step s takes the
 * k consecutive ids at s·k within its epoch. Deterministic for a seed, so a resumed run picks the
 * same examples for the same step.
 *
 * Differences from DSPy, on purpose: the shuffle is our seeded Fisher–Yates (Python's
 * random.shuffle cannot be reproduced), and an epoch is padded only when the set is not already
 * a multiple of k (DSPy pads a whole extra k in that case). With `shuffle: false` (--curriculum)
 * the epoch keeps the given order, so the 2-hop-first order survives (DSPy would shuffle it away).
 */
import { deriveSeed, shuffle } from "../data/random.ts";

export interface SamplerOptions {
  /** k: examples per GRPO step (--num-examples-per-step). */
  examplesPerStep: number;
  seed: number;
  /** false keeps the training order in every epoch (--curriculum). */
  shuffle?: boolean;
}

export class StepSampler {
  private readonly epochs: number[][] = [];
  private readonly frequencies: number[];

  constructor(
    private readonly size: number,
    private readonly options: SamplerOptions,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`training set size must be ≥ 1, got ${size}`);
    if (!Number.isInteger(options.examplesPerStep) || options.examplesPerStep < 1) {
      throw new RangeError(`examples per step must be ≥ 1, got ${options.examplesPerStep}`);
    }
    this.frequencies = new Array<number>(size).fill(0);
  }

  /** Training-set indexes for step `step` (0-based), exactly examplesPerStep of them. */
  indexesFor(step: number): number[] {
    const k = this.options.examplesPerStep;
    let start = step * k;
    for (let epoch = 0; ; epoch++) {
      const ids = this.epoch(epoch);
      if (start < ids.length) return ids.slice(start, start + k);
      start -= ids.length;
    }
  }

  /** The epoch a step falls in (0-based). */
  epochOf(step: number): number {
    let start = step * this.options.examplesPerStep;
    for (let epoch = 0; ; epoch++) {
      const length = this.epoch(epoch).length;
      if (start < length) return epoch;
      start -= length;
    }
  }

  /** Pick the step's examples from `items` (the training set the sampler was sized for). */
  select<T>(items: readonly T[], step: number): T[] {
    if (items.length !== this.size) throw new RangeError(`sampler was built for ${this.size} items, got ${items.length}`);
    return this.indexesFor(step).map((index) => items[index] as T);
  }

  private epoch(epoch: number): number[] {
    while (this.epochs.length <= epoch) {
      const number = this.epochs.length;
      const order = Array.from({ length: this.size }, (_, index) => index);
      const ids = this.options.shuffle === false ? order : shuffle(order, deriveSeed(this.options.seed, `grpo-epoch-${number}`));
      for (const id of ids) this.frequencies[id] = (this.frequencies[id] ?? 0) + 1;
      const remainder = ids.length % this.options.examplesPerStep;
      if (remainder !== 0) {
        for (let pad = remainder; pad < this.options.examplesPerStep; pad++) {
          // The least-used id; ties go to the earliest in this epoch's order.
          let chosen = ids[0] as number;
          for (const id of ids) if ((this.frequencies[id] ?? 0) < (this.frequencies[chosen] ?? 0)) chosen = id;
          ids.push(chosen);
          this.frequencies[chosen] = (this.frequencies[chosen] ?? 0) + 1;
        }
      }
      this.epochs.push(ids);
    }
    return this.epochs[epoch] as number[];
  }
}
