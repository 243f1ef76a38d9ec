import fs from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { LIMITS } from "../contract/limits";
import { DEFAULT_URL } from "../import/client";
import { FORMATS } from "../import/parse-file";
import { importCommand } from "./import-command";
import { runCommand } from "./run-command";
import { watchCommand } from "./watch-command";

// `babysit`: the command installed with the package (package.json "bin"; scripts/babysit.mjs runs
// this file). `babysit import` sends existing logs to a babysit server.

function pattern(value: string, previous: string[] = []): string[] {
  if ([...value].length > LIMITS.importPatternMaxLength.value)
    throw new InvalidArgumentError(`a pattern is at most ${LIMITS.importPatternMaxLength.value} characters`);
  return [...previous, value];
}

export function program(): Command {
  const p = new Command("babysit").description("babysit: a training monitor for neural networks").showHelpAfterError().enablePositionalOptions();
  p.command("import")
    .description("import TensorBoard log directories, CSV, JSON Lines and text logs as runs (again: only what is new)")
    .argument("<paths...>", "files or directories (walked recursively; one run per TensorBoard run directory or log file)")
    .option("-p, --project <project>", "project of the runs", "default")
    .option("-n, --name <name>", "run name (PATHS must hold one run; without it each run is named by its path)")
    .option("--url <url>", `server address (default $BABYSIT_URL or ${DEFAULT_URL})`)
    .option("--api-key <key>", "API key (default $BABYSIT_API_KEY; a team-mode server needs one)")
    .addOption(new Option("--format <format>", "read every file as this format").choices(["auto", ...FORMATS]).default("auto"))
    .option("--step-column <name>", "CSV: the column that holds the step")
    .option("--pattern <template>", "text logs: a line template such as 'it {step} | loss={loss}' (repeatable)", pattern)
    .option("--patterns-file <file>", "text logs: a file of line templates, one per line")
    .option("--no-finish", "leave the runs running (a directory still being written)")
    .option("--no-progress", "no progress bar (one line per run)")
    .action(async (paths: string[], o) => {
      const patterns: string[] = [...(o.pattern ?? [])];
      if (o.patternsFile) {
        for (const line of fs.readFileSync(o.patternsFile, "utf8").split("\n"))
          if (line.trim() && !line.startsWith("#")) patterns.push(...pattern(line.trimEnd()));
      }
      if (patterns.length > LIMITS.importPatternsMax.value) p.error(`at most ${LIMITS.importPatternsMax.value} patterns`);
      const s = await importCommand(paths, {
        url: (o.url || process.env.BABYSIT_URL || DEFAULT_URL).replace(/\/+$/, ""),
        apiKey: o.apiKey || process.env.BABYSIT_API_KEY || undefined,
        project: o.project,
        name: o.name,
        format: o.format === "auto" ? undefined : o.format,
        stepColumn: o.stepColumn,
        patterns: patterns.length ? patterns : undefined,
        finish: o.finish,
        progress: o.progress && Boolean(process.stderr.isTTY),
      });
      process.exitCode = s.keyRefused ? 3 : s.failed.length ? 1 : 0;
    });
  p.command("run")
    .description("run a command unchanged and follow it as a run: console output kept, metric lines parsed live, exit code returned")
    .usage("[options] -- <command> [args...]")
    .argument("<command...>", "the command and its arguments (after --)")
    .option("-p, --project <project>", "project of the run", "default")
    .option("-n, --name <name>", "run name (default: the command line)")
    .option("--url <url>", `server address (default $BABYSIT_URL or ${DEFAULT_URL})`)
    .option("--api-key <key>", "API key (default $BABYSIT_API_KEY; a team-mode server needs one)")
    .option("--pattern <template>", "a metric line template such as 'it {step} | loss={loss}' (repeatable)", pattern)
    .option("--flush-timeout <seconds>", "once the command ends, how long to keep trying to send what is left", seconds, 15)
    .passThroughOptions()
    .action(async (argv: string[], o) => {
      const code = await runCommand(argv, {
        url: (o.url || process.env.BABYSIT_URL || DEFAULT_URL).replace(/\/+$/, ""),
        apiKey: o.apiKey || process.env.BABYSIT_API_KEY || undefined,
        project: o.project,
        name: o.name,
        patterns: o.pattern,
        flushTimeout: o.flushTimeout,
      });
      process.exit(code);
    });
  p.command("watch")
    .description("follow a TensorBoard log directory as it is written: new runs and new events, live")
    .argument("<dir>", "the log directory (walked recursively; one run per run directory)")
    .option("-p, --project <project>", "project of the runs", "default")
    .option("--url <url>", `server address (default $BABYSIT_URL or ${DEFAULT_URL})`)
    .option("--api-key <key>", "API key (default $BABYSIT_API_KEY; a team-mode server needs one)")
    .option("--interval <seconds>", "seconds between looks at the files", seconds, 1)
    .option("--idle-timeout <seconds>", "finish a run once it has not grown for this long (0: only on Ctrl-C)", seconds, 0)
    .action(async (dir: string, o) => {
      process.exitCode = await watchCommand(dir, {
        url: (o.url || process.env.BABYSIT_URL || DEFAULT_URL).replace(/\/+$/, ""),
        apiKey: o.apiKey || process.env.BABYSIT_API_KEY || undefined,
        project: o.project,
        interval: o.interval,
        idleTimeout: o.idleTimeout,
      });
    });
  return p;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new InvalidArgumentError("a number of seconds (0 or more)");
  return n;
}

export async function main(argv = process.argv): Promise<void> {
  await program().parseAsync(argv);
}
