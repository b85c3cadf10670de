/**
 * `musique score`: the official evaluation (official.ts) of a gold file and a predictions file,
 * read with line numbers by src/data/official-files.ts (the gold file exactly as --datasets reads it).
 */
import { readGoldFile, readPredictionsFile } from "../data/official-files.ts";
import { evaluateOfficialRecords, type OfficialEvaluation } from "./official.ts";

export async function evaluateOfficialFiles(goldPath: string, predictionsPath: string, options: { detailed?: boolean } = {}): Promise<OfficialEvaluation> {
  const gold = await readGoldFile(goldPath);
  const predictions = await readPredictionsFile(predictionsPath);
  return evaluateOfficialRecords(gold, predictions, options);
}
