/**
 * The commands of musique, in the order `musique --help` lists them: one file per command in
 * this folder, loaded only when run. src/cli/main.ts dispatches on this table; a command with
 * actions (`musique runs rm|rename|tag|untag`) lists them in its definition's `actions`, so
 * every command line that has a --help can be enumerated from here (the help tests do).
 */
import type { CommandDefinition } from "./_command.ts";

export const COMMANDS: Record<string, () => Promise<CommandDefinition>> = {
  init: () => import("./init.ts").then((module) => module.default),
  data: () => import("./data.ts").then((module) => module.default),
  retrieve: () => import("./retrieve.ts").then((module) => module.default),
  ask: () => import("./ask.ts").then((module) => module.default),
  evaluate: () => import("./evaluate.ts").then((module) => module.default),
  score: () => import("./score.ts").then((module) => module.default),
  train: () => import("./train.ts").then((module) => module.default),
  query: () => import("./query.ts").then((module) => module.default),
  runs: () => import("./runs.ts").then((module) => module.default),
  export: () => import("./export.ts").then((module) => module.default),
  import: () => import("./import.ts").then((module) => module.default),
  report: () => import("./report.ts").then((module) => module.default),
  compare: () => import("./compare.ts").then((module) => module.default),
  schema: () => import("./schema.ts").then((module) => module.default),
  serve: () => import("./serve.ts").then((module) => module.default),
  view: () => import("./view.ts").then((module) => module.default),
};

/** Every command line that has its own --help: ["evaluate"], …, ["runs", "rm"], …, in --help order. */
export async function commandLines(): Promise<string[][]> {
  const lines: string[][] = [];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const command = await load();
    lines.push([name]);
    for (const action of Object.keys(command.actions ?? {})) lines.push([name, action]);
  }
  return lines;
}
