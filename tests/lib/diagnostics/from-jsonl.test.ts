import { describe, expect, test } from "vitest";
import { runDataFromJsonl } from "../../../lib/diagnostics/from-jsonl";

describe("runDataFromJsonl", () => {
  test("splits config, scalars, histograms and events", () => {
    const run = runDataFromJsonl(
      [
        '{"kind": "config", "run": "r", "num_classes": 10, "hyperparams": {"lr": 0.001}}',
        '{"kind": "input_stats", "mean": [0, 1], "std": [1, 2], "n": 5}',
        '{"kind": "scalar", "step": 1, "epoch": 0, "key": "train/loss", "value": 2.3}',
        '{"kind": "scalar", "step": 2, "key": "train/loss", "value": 2.1}',
        '{"kind": "hist", "step": 2, "key": "act/fc1", "edges": [0, 1, 2], "counts": [3, 4]}',
        '{"kind": "event", "type": "gradcheck", "step": 3, "data": {"param": "W1", "rel_error": 1e-9}}',
        "",
      ].join("\n"),
    );
    expect(run.config).toEqual({ run: "r", num_classes: 10, hyperparams: { lr: 0.001 } });
    expect(run.series.get("train/loss")).toEqual({ steps: [1, 2], values: [2.3, 2.1] });
    expect(run.histograms.get("act/fc1")).toEqual([{ step: 2, edges: [0, 1, 2], counts: [3, 4] }]);
    expect(run.events).toEqual([
      { type: "input_stats", step: 0, data: { mean: [0, 1], std: [1, 2], n: 5 } },
      { type: "gradcheck", step: 3, data: { param: "W1", rel_error: 1e-9 } },
    ]);
    expect(run.finished).toBe(false);
  });

  test("keeps NaN and Infinity, written as bare tokens (Python json) or as wire strings", () => {
    const run = runDataFromJsonl(
      [
        '{"kind": "scalar", "step": 1, "key": "loss", "value": NaN}',
        '{"kind": "scalar", "step": 2, "key": "loss", "value": -Infinity}',
        '{"kind": "scalar", "step": 3, "key": "loss", "value": "Infinity"}',
        '{"kind": "scalar", "step": 4, "key": "loss", "value": "NaN"}',
        '{"kind": "config", "note": "NaN stays text here"}',
      ].join("\n"),
    );
    const v = run.series.get("loss")!.values;
    expect(Number.isNaN(v[0])).toBe(true);
    expect(v[1]).toBe(-Infinity);
    expect(v[2]).toBe(Infinity);
    expect(Number.isNaN(v[3])).toBe(true);
    expect(run.config.note).toBe("NaN stays text here");
  });

  test("sorts out-of-order steps, skips a torn last line, sees a finish line", () => {
    const run = runDataFromJsonl(
      [
        '{"kind": "scalar", "step": 5, "key": "loss", "value": 1}',
        '{"kind": "scalar", "step": 3, "key": "loss", "value": 2}',
        '{"kind": "finish"}',
        '{"kind": "scalar", "step": 6, "ke',
      ].join("\n"),
    );
    expect(run.series.get("loss")).toEqual({ steps: [3, 5], values: [2, 1] });
    expect(run.finished).toBe(true);
  });
});
