#!/usr/bin/env bun
/**
 * musique: evaluate and train a multi-hop QA program on MuSiQue. One command per file in this
 * folder (musiqueCommand in _command.ts), registered in commands.ts (with their actions); each is a
 * thin shell over one function below src/cli/. citty holds the command tree and dispatches the
 * first word to its command (loaded lazily, so a command's modules load only when it runs); what citty does not do our way stays here: help
 * wrapped to the terminal and grouped (_help.ts), did-you-mean for an unknown command, the
 * documented exit codes and the --json error document. Flags are parsed by each command
 * (src/config/resolve.ts, node:util parseArgs) from the raw words citty passes on.
 */
import { defineCommand, runCommand, type CommandDef } from "citty";
import { ExitCode, UsageError, didYouMean } from "../errors.ts";
import { log } from "../log.ts";
import { streamWidth } from "../text/stream.ts";
import { VERSION, versionLine } from "../version.ts";
import type { CommandDefinition } from "./_command.ts";
import { printErrorDocument, wantsJson } from "./_error-document.ts";
import { mainHelp } from "./_help.ts";
import { COMMANDS } from "./commands.ts";

/** A musique command as a citty command: citty passes the words after the command's name. */
function cittyCommand(command: CommandDefinition): CommandDef {
  return defineCommand({
    meta: { name: command.name, description: command.description },
    run: ({ rawArgs }) => command.main(rawArgs),
  });
}

const root = defineCommand({
  meta: { name: "musique", version: VERSION, description: "evaluate and train a multi-hop QA program on MuSiQue" },
  subCommands: Object.fromEntries(Object.entries(COMMANDS).map(([name, load]) => [name, async () => cittyCommand(await load())])),
});

const words = process.argv.slice(2);
const first = words[0];
if (first === "--version" || first === "-v") {
  process.stdout.write(versionLine() + "\n");
} else if (first === "help" && words[1] !== undefined && COMMANDS[words[1]] !== undefined) {
  const load = COMMANDS[words[1]];
  if (load) process.stdout.write((await load()).help(streamWidth(process.stdout)));
} else if (first === undefined || first === "--help" || first === "-h" || first === "help") {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  process.stdout.write(mainHelp(VERSION, commands, streamWidth(process.stdout)));
} else {
  const load = COMMANDS[first];
  if (load === undefined) {
    const suggestion = first.startsWith("-") ? undefined : didYouMean(first, Object.keys(COMMANDS));
    const error = new UsageError(
      first.startsWith("-") ? `${first} needs a command before it` : `unknown command "${first}"` + (suggestion ? ` (did you mean "${suggestion}"?)` : ""),
      { fix: `run musique --help to list the commands: ${Object.keys(COMMANDS).join(", ")}` },
    );
    log.error(error.describe());
    if (wantsJson(words)) printErrorDocument(error, ExitCode.usage);
    process.exit(ExitCode.usage);
  }
  await runCommand(root, { rawArgs: words });
}
