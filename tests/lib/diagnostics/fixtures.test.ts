import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { runDataFromJsonl } from "../../../lib/diagnostics/from-jsonl";
import { expectedDiagnoses, metricsJsonl } from "../../helpers/fixtures";

// The real training runs in tests/fixtures/runs.
const expected = expectedDiagnoses();

const codes = (text: string, finished: boolean) => {
  const run = runDataFromJsonl(text);
  run.finished = finished;
  return diagnose(run, { strict: true }).map((d) => d.code);
};

describe.each(Object.keys(expected))("fixture run %s", (name) => {
  const lines = metricsJsonl(name).split("\n").filter(Boolean);
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
