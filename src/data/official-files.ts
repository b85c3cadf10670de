/**
 * Reading the official MuSiQue files of `musique score` with line numbers (docs/specs/metrics.md
 * "Official evaluation"). The gold file is read by the reader and validator of `--datasets FILE`
 * (local.ts, validate.ts), so `score` and `--datasets` accept exactly the same rows, with the
 * same messages (`FILE line N: field X …`, exit 3); the predictions file by the same JSONL reader
 * with the prediction schema of official.ts.
 */
import { readFileRows, type FileRole } from "./local.ts";
import { PredictionSchema, goldRecordOf, type GoldRecord, type PredictionRecord } from "./official.ts";
import type { FileSpec } from "./spec.ts";
import type { Example } from "./types.ts";
import { EXAMPLE_ROWS, RowValidator, checkAgainst, type RowKind } from "./validate.ts";

/** Lines of an official predictions file. */
const PREDICTION_ROWS: RowKind<PredictionRecord> = {
  check: (value) => {
    const checked = checkAgainst(PredictionSchema, value);
    if (!("accepted" in checked)) return checked;
    const row = checked.accepted;
    return {
      accepted: {
        id: row.id,
        predictedAnswer: row.predicted_answer,
        predictedSupportIdxs: row.predicted_support_idxs,
        predictedAnswerable: row.predicted_answerable,
      },
    };
  },
  cause:
    "the line does not follow the official predictions format: one JSON object per line, {id, predicted_answer, predicted_support_idxs, predicted_answerable}",
  fix: "fix or remove the line",
};

/** Gold lines: MuSiQue records as --datasets reads them ((score has no --skip-invalid)). */
const GOLD_ROWS: RowKind<Example> = { ...EXAMPLE_ROWS, fix: "fix or remove the line; the same rows load with --datasets FILE" };

/** .json and .parquet by their extension; anything else is read as JSONL, the official files' format. */
function fileSpec(path: string): FileSpec {
  const extension = /\.(json|parquet)$/i.exec(path)?.[1]?.toLowerCase();
  return { kind: "file", text: path, path, format: extension === "json" ? "json" : extension === "parquet" ? "parquet" : "jsonl", slice: undefined };
}

/** Every row of `path`, validated as `kind`; the first bad row is a DataError naming the file, line and field. */
async function readAll<T>(path: string, role: FileRole, kind: RowKind<T>): Promise<T[]> {
  const stream = await readFileRows(fileSpec(path), role);
  const validator = new RowValidator(stream, false, kind);
  const out: T[] = [];
  for await (const row of stream.rows) {
    const accepted = validator.accept(row);
    if (accepted !== undefined) out.push(accepted);
  }
  validator.finish();
  return out;
}

/** The gold file of `musique score`: MuSiQue records, in file order. */
export async function readGoldFile(path: string): Promise<GoldRecord[]> {
  return (await readAll(path, "gold", GOLD_ROWS)).map(goldRecordOf);
}

/** The predictions file of `musique score`, in file order. */
export function readPredictionsFile(path: string): Promise<PredictionRecord[]> {
  return readAll(path, "predictions", PREDICTION_ROWS);
}
