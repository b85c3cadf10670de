/** Metrics and rewards (docs/specs/metrics.md). */
export { answerTokens, normalizeAnswer } from "./normalize.ts";
export { exactMatch, expandGoldAnswers, f1Score, tokenF1, trainingGoldForm } from "./answer.ts";
export { retrievalRecall, supportF1 } from "./retrieval.ts";
export { averageOf } from "./average.ts";
export {
  FORMAT_FAILURE_REWARD,
  combinedReward,
  hopWeight,
  scoreExample,
  type ExampleScore,
  type PredictionToScore,
  type Reward,
  type RewardComponents,
  type RewardInputs,
} from "./reward.ts";
export {
  evaluateOfficialRecords,
  type GoldRecord,
  type HopScores,
  type OfficialEvaluation,
  type OfficialScores,
  type PredictionRecord,
} from "./official.ts";
