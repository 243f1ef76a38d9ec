import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { useFreshDatabase } from "../../helpers/lib-db";
import { FIXTURES, expectedDiagnoses, metricsJsonl } from "../../helpers/fixtures";
import { unpackTb } from "../../helpers/import-fixtures";

// The four real runs of tests/fixtures, in the forms torch's SummaryWriter, a cs231n Solver and
// Keras wrote them, imported through lib/import into a fresh database: the TensorBoard import holds
// exactly the scalars of the run's metrics.jsonl (same keys, steps and values), the hparams sub-run
// becomes the run's config, and the finished run raises the diagnoses expected.json lists.

useFreshDatabase();
process.env.BABYSIT_EVAL_INTERVAL_MS = "1000000"; // diagnoses at finish are what is checked
await import("@/lib/alerts/register");
const { planImport } = await import("@/lib/import/plan");
const { importFile } = await import("@/lib/import/import-file");
const { finishRun } = await import("@/lib/runs/finish-run");
const { listAlerts } = await import("@/lib/alerts/list-alerts");
const { scanRunPoints } = await import("@/lib/series/read-points");
const { getRun } = await import("@/lib/runs/get-run");

async function importPaths(project: string, paths: string[]) {
  const plan = planImport(paths);
  const results = [];
  for (const run of plan.runs) {
    let last: Awaited<ReturnType<typeof importFile>> | undefined;
    for (const f of run.files) {
      last = await importFile({ project, source: run.source, name: run.name, path: f.rel, bytes: fs.readFileSync(f.abs) });
      results.push(last);
    }
    if (last) await finishRun(last.runId, "finished");
  }
  return { plan, results };
}

function storedPoints(runId: string): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  scanRunPoints(runId, (key, steps, values) => {
    let m = out.get(key);
    if (!m) out.set(key, (m = new Map()));
    for (let i = 0; i < steps.length; i++) m.set(steps[i], values[i]);
  });
  return out;
}

function jsonlScalars(run: string): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const line of metricsJsonl(run).split("\n")) {
    if (!line.includes('"scalar"')) continue;
    const o = JSON.parse(line.replace(/\bNaN\b/g, '"NaN"').replace(/-?Infinity\b/g, (m) => `"${m}"`));
    let m = out.get(o.key);
    if (!m) out.set(o.key, (m = new Map()));
    m.set(o.step, typeof o.value === "number" ? o.value : Number(o.value));
  }
  return out;
}

const expected = expectedDiagnoses();
// What a TensorBoard directory cannot tell: the statistics of the inputs (metrics.jsonl's
// input_stats line) have no TensorBoard form, so the diagnosis built on them cannot be raised.
const NEEDS_INPUT_STATS = new Set(["input_not_normalized"]);
// A console log prints losses and accuracies only: what is read from layer and input statistics
// cannot be raised from it.
const NEEDS_LAYER_STATS = new Set(["input_not_normalized", "saturated_activations", "dead_relu"]);

describe.each(Object.keys(expected))("fixture run %s", (run) => {
  test("its TensorBoard directory imports as one run with exactly the points of metrics.jsonl", async () => {
    const dir = unpackTb(run);
    const { plan, results } = await importPaths(`tb-${run}`, [dir]);
    expect(plan.runs).toHaveLength(1); // the hparams sub-run is merged into its parent
    expect(plan.runs[0].files.map((f) => f.rel.split("/")[0])).toContain("hparams");
    const runId = results[0].runId;
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    expect(results.flatMap((r) => r.skipped)).toEqual([]);

    const got = storedPoints(runId);
    const want = jsonlScalars(run);
    for (const [key, m] of want) {
      const g = got.get(key);
      expect(g, key).toBeDefined();
      expect([...g!.keys()], key).toEqual([...m.keys()]);
      // TensorBoard stores float32: each value is the float32 nearest the one metrics.jsonl holds
      for (const [step, v] of m) expect(g!.get(step), `${key}@${step}`).toBe(Math.fround(v));
    }
    // beyond those, only the hparams sub-run's metrics
    expect([...got.keys()].filter((k) => !want.has(k)).every((k) => k.startsWith("hparam/"))).toBe(true);
    expect(results.reduce((n, r) => n + r.histograms, 0)).toBeGreaterThan(0);

    const detail = (await getRun(runId)) as unknown as { run: { config: Record<string, unknown>; createdAt: number } };
    const config = detail.run.config;
    expect(config.optimizer).toBeDefined(); // from the hparams sub-run's session_start_info
    expect(config.num_classes).toBe(10); // from the JSON config logged with add_text
    // the run starts when its log does, not when it was imported
    const first = Math.min(...results.flatMap((r) => (r.times ? [r.times.first] : [])));
    expect(first).toBeLessThan(Date.now() / 1000 - 3600);
    expect(detail.run.createdAt).toBe(first);
  });

  test("raises the diagnoses expected.json lists once imported and finished", async () => {
    const dir = unpackTb(run);
    const { results } = await importPaths(`diag-${run}`, [dir]);
    const { alerts } = await listAlerts(results[0].runId);
    const active = alerts.filter((a) => a.status === "active").map((a) => a.code);
    for (const code of expected[run].must.filter((c) => !NEEDS_INPUT_STATS.has(c))) expect(active, `${run} must raise ${code}`).toContain(code);
    for (const code of expected[run].must_not) expect(active).not.toContain(code);
  });

  test.each(["log.txt", "keras_log.txt"])("its %s, imported and finished, raises what a console log can show", async (file) => {
    const { results } = await importPaths(`textdiag-${run}`, [path.join(FIXTURES, run, file)]);
    const { alerts } = await listAlerts(results[0].runId);
    const active = alerts.filter((a) => a.status === "active").map((a) => a.code);
    for (const code of expected[run].must.filter((c) => !NEEDS_LAYER_STATS.has(c)))
      expect(active, `${run} ${file} must raise ${code}`).toContain(code);
    for (const code of expected[run].must_not) expect(active).not.toContain(code);
  });

  test.each(["log.txt", "keras_log.txt"])("its %s imports with every metric line", async (file) => {
    const { results } = await importPaths(`text-${run}`, [path.join(FIXTURES, run, file)]);
    const text = fs.readFileSync(path.join(FIXTURES, run, file), "utf8");
    const lines = text.split("\n");
    const stored = storedPoints(results[0].runId);
    if (file === "log.txt") {
      const iters = lines.filter((l) => l.startsWith("(Iteration")).length;
      expect(stored.get("loss")?.size).toBe(iters);
      // the Solver's epoch checks land on the iterations metrics.jsonl records them at
      const want = jsonlScalars(run).get("val/acc")!;
      expect([...stored.get("val_acc")!.keys()]).toEqual([...want.keys()]);
      for (const [step, v] of want) expect(stored.get("val_acc")!.get(step)).toBeCloseTo(v, 5);
    } else {
      const epochs = lines.filter((l) => /^Epoch \d+\/\d+/.test(l)).length;
      expect(stored.get("val_loss")?.size).toBe(epochs);
      expect(stored.get("loss")?.get(0)).toBe(Number(/loss: ([\d.]+)/.exec(text)![1]));
    }
  });
});
