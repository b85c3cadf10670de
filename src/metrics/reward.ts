/**
 * The combined reward (metrics.md "Combined reward") and the per-example score every command
 * records. A program that failed scores 0 on everything (DSPy's Evaluate failure_score=0); GRPO
 * gives a format failure −1 instead (grpo/rollouts.ts). Official EM/F1 use the plain gold list ([answer] + aliases); the reward uses the
 * expanded gold list of the reference training setup (expandGoldAnswers), as it did there.
 */
import type { RewardVersion } from "./reward-versions.ts";
import type { Example } from "../data/types.ts";
import { exactMatch, expandGoldAnswers, f1Score } from "./answer.ts";
import { retrievalRecall, supportF1 } from "./retrieval.ts";

/** The reward of one GRPO sample whose completion broke the ChatAdapter format. */
export const FORMAT_FAILURE_REWARD = -1;

export interface RewardInputs {
  em: number;
  f1: number;
  recall: number;
  /** Supporting paragraphs of the example (2, 3 or 4). */
  nHops: number;
}

interface RewardComponents extends RewardInputs {
  version: RewardVersion;
  /** min(nHops / 2, 2): ×1 / ×1.5 / ×2 for 2 / 3 / 4 hops. */
  hopWeight: number;
  /** v1: 0.6·EM + 0.3·F1; v2: null. */
  answer: number | null;
  /** v1: 0.8·answer + 0.2·recall; v2: (0.9·EM + 1.0·F1 + 1.0·recall) / 2.9. */
  base: number;
}

export interface Reward {
  value: number;
  components: RewardComponents;
}

function hopWeight(nHops: number): number {
  return Math.min(nHops / 2, 2);
}

export function combinedReward(version: RewardVersion, inputs: RewardInputs): Reward {
  const weight = hopWeight(inputs.nHops);
  if (version === "v1") {
    const answer = 0.6 * inputs.em + 0.3 * inputs.f1;
    const base = 0.8 * answer + 0.2 * inputs.recall;
    return { value: base * weight, components: { ...inputs, version, hopWeight: weight, answer, base } };
  }
  const base = (0.9 * inputs.em + 1.0 * inputs.f1 + 1.0 * inputs.recall) / 2.9;
  return { value: base * weight, components: { ...inputs, version, hopWeight: weight, answer: null, base } };
}

export interface PredictionToScore {
  /** null when the program failed before answering. */
  answer: string | null;
  /** Paragraph ids ("0"…"19") the program retrieved, in order of first retrieval. */
  retrievedIds: readonly string[];
  /**
   * Set when the program did not finish (format failure after the JSON fallback; service
   * failures are not results and are never averaged): every score is 0, like
   * `dspy.Evaluate(failure_score=0)`, however much was retrieved before.
   */
  failure?: { kind: string } | null;
}

export interface ExampleScore {
  /** Official EM against [answer] + aliases. */
  em: number;
  /** Official F1 against [answer] + aliases. */
  f1: number;
  recall: number;
  /** Set F1 of the retrieved ids against the supporting ids. */
  supportF1: number;
  reward: number;
  /** The reward's inputs (EM/F1 against the expanded gold list) and intermediate values. */
  components: RewardComponents;
}

type ScoredExample = Pick<Example, "answers" | "supportingIds" | "nHops">;

export function scoreExample(example: ScoredExample, prediction: PredictionToScore, version: RewardVersion): ExampleScore {
  if (prediction.failure) {
    const zero = combinedReward(version, { em: 0, f1: 0, recall: 0, nHops: example.nHops });
    return { em: 0, f1: 0, recall: 0, supportF1: 0, reward: 0, components: zero.components };
  }
  const answer = prediction.answer ?? "";
  const recall = retrievalRecall(prediction.retrievedIds, example.supportingIds);
  const expanded = expandGoldAnswers(example.answers);
  const reward = combinedReward(version, {
    em: exactMatch(answer, expanded),
    f1: f1Score(answer, expanded),
    recall,
    nHops: example.nHops,
  });
  return {
    em: exactMatch(answer, example.answers),
    f1: f1Score(answer, example.answers),
    recall,
    supportF1: supportF1(prediction.retrievedIds, example.supportingIds),
    reward: reward.value,
    components: reward.components,
  };
}

/** Each reward's base, as the footnote under a score table writes it. */
const BASE_FORMULAS: Record<RewardVersion, string> = {
  v1: "0.8 × (0.6·EM + 0.3·F1) + 0.2·recall",
  v2: "(0.9·EM + F1 + recall) / 2.9",
};

/** The largest reward a version can give: a 4-hop question answered exactly with full recall. */
function maximumReward(version: RewardVersion): number {
  return combinedReward(version, { em: 1, f1: 1, recall: 1, nHops: 4 }).value;
}

/** What `reward` in a score table is: the formula and range of each version shown, then the hop weight. */
export function rewardFootnote(version?: RewardVersion): string[] {
  const versions = version === undefined ? (Object.keys(BASE_FORMULAS) as RewardVersion[]) : [version];
  return [
    ...versions.map((each) => `reward (${each}) = hop weight × (${BASE_FORMULAS[each]}), from 0 to ${maximumReward(each).toFixed(2)}`),
    "hop weight = min(hops/2, 2): ×1 for 2 hops, ×1.5 for 3, ×2 for 4 (EM, F1: expanded gold answers)",
  ];
}
