/**
 * Answer metrics: official EM and F1 (SQuAD's compute_exact / compute_f1, maximum over the gold
 * list) and the extra gold forms the reference training setup adds for its reward.
 */
import { pythonStrip } from "../text/python.ts";
import { answerTokens, normalizeAnswer } from "./normalize.ts";

/** 1 when the normalised prediction equals one normalised gold answer, else 0. */
export function exactMatch(prediction: string, golds: readonly string[]): number {
  const predicted = normalizeAnswer(prediction);
  return golds.some((gold) => normalizeAnswer(gold) === predicted) ? 1 : 0;
}

/** Token-multiset F1 against one gold answer (SQuAD compute_f1). */
function tokenF1(prediction: string, gold: string): number {
  const predictedTokens = answerTokens(prediction);
  const goldTokens = answerTokens(gold);
  if (predictedTokens.length === 0 || goldTokens.length === 0) {
    return predictedTokens.length === goldTokens.length ? 1 : 0;
  }
  const goldCounts = new Map<string, number>();
  for (const token of goldTokens) goldCounts.set(token, (goldCounts.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of predictedTokens) {
    const left = goldCounts.get(token) ?? 0;
    if (left > 0) {
      common += 1;
      goldCounts.set(token, left - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / predictedTokens.length;
  const recall = common / goldTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/** The best token F1 over the gold list (0 for an empty list). */
export function f1Score(prediction: string, golds: readonly string[]): number {
  let best = 0;
  for (const gold of golds) best = Math.max(best, tokenF1(prediction, gold));
  return best;
}

const NUMBER_WORDS: Record<string, string> = {
  zero: "0",
  one: "1",
  two: "2",
  three: "3",
  four: "4",
  five: "5",
  six: "6",
  seven: "7",
  eight: "8",
  nine: "9",
  ten: "10",
};

const ORDINAL_WORDS: Record<string, string> = {
  zeroth: "0th",
  first: "1st",
  second: "2nd",
  third: "3rd",
  fourth: "4th",
  fifth: "5th",
  sixth: "6th",
  seventh: "7th",
  eighth: "8th",
  ninth: "9th",
};

/**
 * The extra gold form of the reference training setup (vf_musique `_preprocess_answer`), bugs
 * included: `answer.lower().strip()`; a whole-string number word (zero…ten) becomes its digits;
 * otherwise each ordinal word is replaced **as a substring** with Python's `str.replace`, in the
 * order zeroth, first, …, ninth, so "Firstborn" becomes "1stborn" and "seconds" becomes "2nds".
 */
export function trainingGoldForm(gold: string): string {
  const answer = pythonStrip(gold.toLowerCase());
  const number = NUMBER_WORDS[answer];
  if (number !== undefined) return number;
  let replaced = answer;
  for (const [word, digits] of Object.entries(ORDINAL_WORDS)) replaced = replaced.split(word).join(digits);
  return replaced;
}

/**
 * The gold list plus each answer's training form, without duplicates, originals first. Used for
 * the training reward only; the official EM/F1 use the plain gold list ([answer] + aliases).
 */
export function expandGoldAnswers(golds: readonly string[]): string[] {
  const expanded = new Set<string>(golds);
  for (const gold of golds) expanded.add(trainingGoldForm(gold));
  return [...expanded];
}
