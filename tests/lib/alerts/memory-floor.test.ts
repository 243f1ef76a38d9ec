import { describe, expect, test } from "vitest";
import { useFreshDatabase } from "../../helpers/lib-db";

// What the diagnostics hold stays within their share of BABYSIT_MEMORY_MB whatever the number of
// keys and runs (issue #8): series no rule reads are not held, every held series shrinks toward a
// small floor as series multiply, and beyond that runs other than the one logging leave memory;
// the points storage holds uncompacted for the run being written stay within their share as well.
// Read from the budget bookkeeping (diagnosticsHeld), not from RSS.

useFreshDatabase();
process.env.BABYSIT_MEMORY_MB = "16";
process.env.BABYSIT_EVAL_INTERVAL_MS = "1000000"; // the rules' verdicts are not what this is about
await import("@/lib/alerts/register");
const { createRun } = await import("@/lib/runs/create-run");
const { appendBatch } = await import("@/lib/ingest/append-batch");
const { diagnosticsHeld } = await import("@/lib/alerts/watch-runs");
const { MIN_SERIES_POINTS, memoryBudgetBytes, pendingBudget, seriesCap } = await import("@/lib/memory-budget");
const { PENDING_POINT_BYTES, cachedRunSeries } = await import("@/lib/series/series-meta");
const { seriesReader } = await import("@/lib/diagnostics/keys");
const { parseLogBatch } = await import("@/lib/schemas/parse-log-batch");

/** Bytes one run of `series` held series costs at the floor (the overhead the docs allow). */
const atFloor = (series: number) => series * (MIN_SERIES_POINTS * 24 + 200);

function rows(keys: string[], from: number, steps: number) {
  return Array.from({ length: steps }, (_, i) => {
    const metrics: Record<string, number> = Object.create(null);
    for (let k = 0; k < keys.length; k++) metrics[keys[k]] = Math.sin(from + i + k) + (k === 0 ? 2 / (from + i + 1) : 0);
    return { step: from + i, metrics };
  });
}

describe("which series the diagnostics hold", () => {
  test.each([
    ["train/loss", {}, true],
    ["Train_Loss", {}, true],
    ["val/acc", {}, true],
    ["lr", {}, true],
    ["update_ratio/encoder.0", {}, true],
    ["act/fc1/dead_frac", {}, true],
    ["grad_norm/blocks.3", {}, true],
    ["weights/fc1/std", {}, true],
    ["layer7/metric", {}, false],
    ["system/gpu_mem", {}, false],
    ["my_objective", { babysit: { keys: { train_loss: "my_objective" } } }, true],
    ["ratios/l3", { babysit: { keys: { update_ratio: "ratios/{layer}" } } }, true],
    ["ratios/l3", {}, false],
  ])("%s with config %j: held %s", (key, config, held) => {
    expect(seriesReader(config)(key)).toBe(held);
  });
});

describe("the diagnostics' share of a 16 MiB budget", () => {
  test("one run of 10,000 keys x many steps: unread keys are not held, held points within the share", async () => {
    const keys = [
      "train/loss",
      ...Array.from({ length: 4999 }, (_, k) => `update_ratio/l${k}`),
      ...Array.from({ length: 5000 }, (_, k) => `misc/${k}`),
    ];
    const run = await createRun({ project: "mem", name: "wide", config: { num_classes: 10 } });
    let seq = 0;
    for (let step = 0; step < 400; step += 10) {
      appendBatch(run.id, parseLogBatch({ seq: seq++, rows: rows(keys, step, 10) }));
      const h = diagnosticsHeld();
      expect(h.series).toBe(5000);
      expect(h.points).toBeLessThanOrEqual(h.series * seriesCap(h.budget, h.series));
      expect(h.bytes).toBeLessThanOrEqual(h.budget);
      // storage's points not yet compacted of the run being written: within their share too
      let pending = 0;
      for (const m of cachedRunSeries(run.id)!.values()) pending += m.pending.steps.length;
      expect(pending * PENDING_POINT_BYTES).toBeLessThanOrEqual(pendingBudget(memoryBudgetBytes()));
    }
    // 400 steps each: thinned, far below the 2 M points logged
    expect(diagnosticsHeld().points).toBeLessThan(5000 * 400);
  }, 300_000);

  test("ten live runs of 2,000 read keys: within the share but for the one logging at the floor", async () => {
    const keys = ["train/loss", ...Array.from({ length: 1999 }, (_, k) => `grad_norm/l${k}`)];
    const runs = [];
    for (let r = 0; r < 10; r++) runs.push(await createRun({ project: "mem", name: `many-${r}`, config: { num_classes: 10 } }));
    let seq = 0;
    for (let step = 0; step < 200; step += 50) {
      for (const run of runs) {
        appendBatch(run.id, parseLogBatch({ seq: seq++, rows: rows(keys, step, 50) }));
        const h = diagnosticsHeld();
        expect(h.bytes).toBeLessThanOrEqual(h.budget + atFloor(keys.length));
      }
    }
    // the share holds fewer runs than were logging: the least recently logged ones left
    expect(diagnosticsHeld().runs).toBeLessThan(10);
  }, 300_000);
});
