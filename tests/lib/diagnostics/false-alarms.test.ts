import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import type { Diagnosis } from "../../../lib/diagnostics/types";
import { decayingLoss, gauss, makeRun, type RunSpec, series } from "./synth";

// Issue #10's false alarms and blind spots of divergence, noisy_loss, dead_relu and loss_plateau:
// positive, negative and borderline synthetic runs per rule.

const LN3 = Math.log(3);

function found(spec: RunSpec, code: string): Diagnosis | undefined {
  return diagnose(makeRun(spec), { strict: true }).find((d) => d.code === code);
}

/** A loss that follows `f(i)` with multiplicative noise. */
function lossOf(n: number, f: (i: number, p: number) => number, noise = 0.05, seed = 3): ReturnType<typeof series> {
  const g = gauss(seed);
  return series(n, (i, p) => f(i, p) * (1 + noise * g()), 1, 0);
}

describe("divergence: an explosion is judged against the very first loss and ln C", () => {
  test.each([
    {
      name: "explodes from the second step (2.31, 1006, 1945, ...): the first points are not the reference",
      loss: lossOf(300, (i) => (i === 0 ? 2.31 : 1000 + 5 * i)),
      config: { num_classes: 10 },
      raised: true,
      severity: "critical",
    },
    {
      name: "binary, spikes to 560 and 1,824 within a few steps, then back at ln 2 (never recovered)",
      loss: lossOf(200, (i) => (i < 4 ? 0.4 : ([11, 98, 560, 2.3, 1.5, 2.7, 1824, 2.1, 2.6][i - 4] ?? 0.69))),
      config: { num_classes: 2 },
      raised: true,
      severity: "critical",
    },
    {
      name: "explodes for a stretch, then learns again below its start",
      loss: lossOf(300, (i) => (i >= 20 && i < 35 ? 40 : i < 20 ? 2.3 : 0.5)),
      config: { num_classes: 10 },
      raised: true,
      severity: "warning",
    },
    {
      name: "healthy loss from ln C",
      loss: decayingLoss(400),
      config: { num_classes: 10 },
      raised: false,
    },
    {
      name: "borderline: a lucky low first batch (0.2 for 3 classes), then ordinary levels around ln 3",
      loss: lossOf(300, (i, p) => (i === 0 ? 0.2 : 1.0 - 0.5 * p)),
      config: { num_classes: 3 },
      raised: false,
    },
    {
      name: "borderline: two spiky batches of 10x, nothing sustained",
      loss: lossOf(300, (i, p) => (i === 50 || i === 120 ? 23 : 2.3 * (1 - 0.8 * p))),
      config: { num_classes: 10 },
      raised: false,
    },
  ])("$name -> raised: $raised", ({ loss, config, raised, severity }) => {
    const d = found({ config, series: { "train/loss": loss } }, "divergence");
    if (!raised) return expect(d, d?.message).toBeUndefined();
    expect(d).toBeDefined();
    expect(d!.severity).toBe(severity);
  });

  test("the lr=40 story: NaN, then finite again at the starting level: one critical alert saying it never recovered", () => {
    const loss = lossOf(300, (i) => (i < 10 ? LN3 * (1 - 0.02 * i) : i < 14 ? NaN : LN3));
    const got = diagnose(makeRun({ config: { num_classes: 3 }, series: { "train/loss": loss } }));
    const div = got.filter((d) => d.code === "divergence");
    expect(div).toHaveLength(1);
    expect(div[0].severity).toBe("critical");
    expect(div[0].title).toMatch(/never recovered/);
    expect(div[0].title).not.toMatch(/came back/);
    expect(div[0].evidence.recovered).toBe(false);
  });

  test("NaN, then learning again below the start: a warning that says it came back", () => {
    const loss = lossOf(300, (i, p) => (i < 10 ? LN3 : i < 12 ? NaN : LN3 * (0.6 - 0.4 * p)));
    const d = found({ config: { num_classes: 3 }, series: { "train/loss": loss } }, "divergence");
    expect(d?.severity).toBe("warning");
    expect(d?.title).toMatch(/came back/);
  });
});

describe("noisy_loss: per-sample losses (config batch_size 1-4) are noisy by nature", () => {
  /** A converging run whose points are single samples: most tiny, a few large. */
  function perSample(batch: number, seed = 4) {
    const g = gauss(seed);
    return series(
      1200,
      (_, p) => {
        const mean = 0.05 + 0.6 * Math.exp(-p / 0.2);
        return Math.max(1e-4, mean * Math.exp(1.3 * g() - 0.85) * (batch > 4 ? 0 : 1) + (batch > 4 ? mean * (1 + 0.1 * g()) : 0));
      },
      1,
      0,
    );
  }
  test.each([
    { name: "batch_size 1, converged: tiny level, huge relative noise", batch: 1, raised: true },
    { name: "batch_size 4 (borderline: still a few samples)", batch: 4, raised: true },
    { name: "batch_size 32, smooth converged loss", batch: 32, raised: false },
  ])("$name -> raised: $raised", ({ batch, raised }) => {
    const d = found({ config: { batch_size: batch, num_classes: 2 }, series: { "train/loss": perSample(batch) } }, "noisy_loss");
    expect(!!d, d?.message).toBe(raised);
    if (raised) expect(d!.message).toMatch(/config batch_size/);
  });
});
