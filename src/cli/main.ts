#!/usr/bin/env bun
/**
 * musique: evaluate and train a multi-hop QA program on MuSiQue. One citty command per file in
 * this folder; each is a thin shell over one function below src/cli/.
 */
import { defineCommand, runMain, type CommandDef } from "citty";
import { ExitCode, UsageError, didYouMean } from "../errors.ts";
import { log } from "../log.ts";
import { versionLine } from "../version.ts";
import { printErrorDocument, wantsJson } from "./_error-document.ts";

/** Registered commands (only those that are built). */
const COMMANDS: Record<string, () => Promise<CommandDef>> = {
  data: () => import("./data.ts").then((m) => m.default),
  retrieve: () => import("./retrieve.ts").then((module) => module.default),
  ask: () => import("./ask.ts").then((module) => module.default),
  evaluate: () => import("./evaluate.ts").then((module) => module.default),
  score: () => import("./score.ts").then((module) => module.default),
  train: () => import("./train.ts").then((module) => module.default),
  query: () => import("./query.ts").then((module) => module.default),
  runs: () => import("./runs.ts").then((module) => module.default),
  report: () => import("./report.ts").then((module) => module.default),
  compare: () => import("./compare.ts").then((module) => module.default),
  serve: () => import("./serve.ts").then((module) => module.default),
};

const main = defineCommand({
  meta: {
    name: "musique",
    version: versionLine().replace(/^musique /, ""),
    description: "Train and evaluate a multi-hop QA program on MuSiQue (DSPy ChatAdapter prompts, GRPO via Arbor)",
  },
  subCommands: Object.fromEntries(Object.entries(COMMANDS).map(([name, load]) => [name, load])),
});

const words = process.argv.slice(2);
const first = words[0];
if (first === "--version" || first === "-v") {
  process.stdout.write(versionLine() + "\n");
} else if (first !== undefined && !first.startsWith("-") && !(first in COMMANDS)) {
  const suggestion = didYouMean(first, Object.keys(COMMANDS));
  const error = new UsageError(`unknown command "${first}"` + (suggestion ? ` (did you mean "${suggestion}"?)` : ""), {
    fix: `run musique --help to list the commands: ${Object.keys(COMMANDS).join(", ")}`,
  });
  log.error(error.describe());
  if (wantsJson(words)) printErrorDocument(error, ExitCode.usage);
  process.exit(ExitCode.usage);
} else {
  await runMain(main);
}
