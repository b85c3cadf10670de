/** Retrieval recall and the official support F1. */

/** |retrieved ∩ supporting| / |supporting|; 1.0 when there are no supporting ids (program.md §6). */
export function retrievalRecall(retrievedIds: readonly string[], supportingIds: readonly string[]): number {
  const supporting = new Set(supportingIds);
  if (supporting.size === 0) return 1;
  const retrieved = new Set(retrievedIds);
  let found = 0;
  for (const id of supporting) if (retrieved.has(id)) found += 1;
  return found / supporting.size;
}

/** Set F1 between predicted and gold supporting paragraphs; both empty → 1, one empty → 0. */
export function supportF1<T extends string | number>(predicted: readonly T[], gold: readonly T[]): number {
  const predictedSet = new Set(predicted);
  const goldSet = new Set(gold);
  if (predictedSet.size === 0 && goldSet.size === 0) return 1;
  let truePositives = 0;
  for (const item of predictedSet) if (goldSet.has(item)) truePositives += 1;
  if (truePositives === 0) return 0;
  const precision = truePositives / predictedSet.size;
  const recall = truePositives / goldSet.size;
  return (2 * precision * recall) / (precision + recall);
}
