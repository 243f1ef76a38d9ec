import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { runDataFromJsonl } from "../../../lib/diagnostics/from-jsonl";

// The real training runs live beside the repo (CI clones the repo elsewhere with shared/ next to it).
const REPO = path.resolve(import.meta.dirname, "../../..");
const RUNS = path.resolve(REPO, "../shared/fixtures/runs");
const expected: Record<string, { must: string[]; must_not: string[] }> = JSON.parse(
  fs.readFileSync(path.join(RUNS, "expected.json"), "utf8"),
);

const codes = (text: string, finished: boolean) => {
  const run = runDataFromJsonl(text);
  run.finished = finished;
  return diagnose(run, { strict: true }).map((d) => d.code);
};

describe.each(Object.keys(expected))("fixture run %s", (name) => {
  const lines = fs.readFileSync(path.join(RUNS, name, "metrics.jsonl"), "utf8").split("\n").filter(Boolean);
  const { must, must_not } = expected[name];

  test("at the end: every expected diagnosis, none of the excluded ones", () => {
    const found = codes(lines.join("\n"), true);
    for (const code of must) expect(found, `${name} must raise ${code}`).toContain(code);
    for (const code of must_not) expect(found, `${name} must not raise ${code}`).not.toContain(code);
  });

  // The server diagnoses a run while it arrives: an alert that is wrong part-way is a false alarm.
  test.each([0.25, 0.5, 0.75])("replayed up to %s of its scalar lines: no excluded diagnosis", (frac) => {
    const scalarLines = lines.flatMap((l, i) => (JSON.parse(l).kind === "scalar" ? [i] : []));
    const cut = scalarLines[Math.ceil(scalarLines.length * frac) - 1];
    const found = codes(lines.slice(0, cut + 1).join("\n"), false);
    for (const code of must_not) expect(found, `${name} at ${frac} must not raise ${code}`).not.toContain(code);
  });
});
