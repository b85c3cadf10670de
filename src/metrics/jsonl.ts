/** Reading the official gold and predictions JSONL files, with line-numbered DataErrors. */
import { DataError } from "../errors.ts";
import type { GoldRecord, OfficialEvaluation, PredictionRecord } from "./official.ts";
import { evaluateOfficialRecords } from "./official.ts";

type JsonObject = Record<string, unknown>;

async function readJsonLines(path: string, what: string): Promise<{ line: number; value: JsonObject }[]> {
  const file = Bun.file(path);
  if (!(await file.exists())) {
    throw new DataError(`${what} file not found: ${path}`, { fix: `check the path given to --${what}` });
  }
  const rows: { line: number; value: JsonObject }[] = [];
  const lines = (await file.text()).split("\n");
  lines.forEach((text, index) => {
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DataError(`${path}:${index + 1}: not valid JSON`, {
        cause: error instanceof Error ? error.message : String(error),
        fix: `the ${what} file must be JSONL: one JSON object per line`,
      });
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new DataError(`${path}:${index + 1}: expected a JSON object`, {
        fix: `the ${what} file must be JSONL: one JSON object per line`,
      });
    }
    rows.push({ line: index + 1, value: value as JsonObject });
  });
  return rows;
}

function fieldError(path: string, line: number, field: string, expected: string): DataError {
  return new DataError(`${path}:${line}: "${field}" must be ${expected}`, {
    fix:
      "each line is one JSON object in MuSiQue's official format: gold {id, question, paragraphs, answer, answer_aliases, answerable}, " +
      "predictions {id, predicted_answer, predicted_support_idxs, predicted_answerable}",
  });
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function isIntegerList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => Number.isInteger(item));
}

export function goldRecord(value: JsonObject, path: string, line: number): GoldRecord {
  const { id, answer, answer_aliases: aliases = [], paragraphs, answerable = true } = value;
  if (typeof id !== "string") throw fieldError(path, line, "id", "a string");
  if (typeof answer !== "string") throw fieldError(path, line, "answer", "a string");
  if (!isStringList(aliases)) throw fieldError(path, line, "answer_aliases", "a list of strings");
  if (typeof answerable !== "boolean") throw fieldError(path, line, "answerable", "true or false");
  if (!Array.isArray(paragraphs)) throw fieldError(path, line, "paragraphs", "a list");
  const supportIdxs: number[] = [];
  for (const paragraph of paragraphs as unknown[]) {
    const { idx, is_supporting: supporting } = (paragraph ?? {}) as JsonObject;
    if (!Number.isInteger(idx) || typeof supporting !== "boolean") {
      throw fieldError(path, line, "paragraphs", "objects with an integer idx and a boolean is_supporting");
    }
    if (supporting) supportIdxs.push(idx as number);
  }
  return { id, answers: [answer, ...aliases], supportIdxs, answerable };
}

export function predictionRecord(value: JsonObject, path: string, line: number): PredictionRecord {
  const {
    id,
    predicted_answer: predictedAnswer,
    predicted_support_idxs: predictedSupportIdxs,
    predicted_answerable: predictedAnswerable = true,
  } = value;
  if (typeof id !== "string") throw fieldError(path, line, "id", "a string");
  if (typeof predictedAnswer !== "string") throw fieldError(path, line, "predicted_answer", "a string");
  if (!isIntegerList(predictedSupportIdxs)) {
    throw fieldError(path, line, "predicted_support_idxs", "a list of integers");
  }
  if (typeof predictedAnswerable !== "boolean") {
    throw fieldError(path, line, "predicted_answerable", "true or false");
  }
  return { id, predictedAnswer, predictedSupportIdxs, predictedAnswerable };
}

/** `musique score`: the official evaluation of two files. */
export async function evaluateOfficialFiles(
  goldPath: string,
  predictionsPath: string,
  options: { detailed?: boolean } = {},
): Promise<OfficialEvaluation> {
  const gold = (await readJsonLines(goldPath, "gold")).map(({ value, line }) => goldRecord(value, goldPath, line));
  const predictions = (await readJsonLines(predictionsPath, "predictions")).map(({ value, line }) =>
    predictionRecord(value, predictionsPath, line),
  );
  return evaluateOfficialRecords(gold, predictions, options);
}
