/**
 * The embedded sample records (CC BY 4.0, see ./sample/README.md): the dataset specs `sample`
 * (150 dev records) and `sample-train` (100 train records). Imported as text so that
 * `bun build --compile` puts them inside the binary.
 */
import devText from "./sample/musique_ans_dev_sample150.jsonl" with { type: "text" };
import trainText from "./sample/musique_ans_train_sample100.jsonl" with { type: "text" };
import type { SampleName } from "./spec.ts";

const SAMPLES: Record<SampleName, { text: string; file: string }> = {
  sample: { text: devText, file: "musique_ans_dev_sample150.jsonl" },
  "sample-train": { text: trainText, file: "musique_ans_train_sample100.jsonl" },
};

/** The JSONL text of an embedded sample. */
export function sampleText(name: SampleName): string {
  return SAMPLES[name].text;
}
