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

  test("an explosion from the second step also reads as a learning rate too high, from step 1", () => {
    const loss = series(300, (i) => (i === 0 ? 2.31 : 1000 + 5 * i), 1, 0);
    const got = diagnose(makeRun({ config: { num_classes: 10 }, series: { "train/loss": loss } }));
    expect(got.find((d) => d.code === "lr_too_high")?.step).toBe(1);
    expect(got.find((d) => d.code === "divergence")?.evidence.initial_loss).toBeCloseTo(2.31, 2);
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

/** Per-epoch accuracy rising from 0.1 to `to`, 20 evaluations every 20 steps. */
function accTo(to: number, seed = 7) {
  const g = gauss(seed);
  return series(20, (_, p) => Math.min(1, to - (to - 0.1) * Math.exp(-p / 0.15) + 0.003 * g()), 20, 19);
}

/** A 10-class run of 400 steps: loss, accuracies, and a dead share for fc1 every 5 steps. */
function deadRun(opts: { dead: (p: number) => number; trainAcc: number; valAcc?: number; loss?: ReturnType<typeof series> }): RunSpec {
  const g = gauss(21);
  return {
    config: { num_classes: 10, batch_size: 32, activation: "relu" },
    series: {
      "train/loss": opts.loss ?? decayingLoss(400, { floor: Math.max(0.02, -Math.log(opts.trainAcc)) }),
      "train/acc": accTo(opts.trainAcc),
      "val/acc": accTo(opts.valAcc ?? opts.trainAcc - 0.02, 8),
      "act/fc1/dead_frac": series(80, (_, p) => Math.min(1, opts.dead(p) + 0.004 * g()), 5, 0),
      "act/fc2/dead_frac": series(80, () => 0.02, 5, 0),
    },
  };
}

describe("dead_relu: units dead for good that matter", () => {
  const atChanceLoss = series(400, (i) => 2.3 * (1 + 0.03 * Math.sin(i)), 1, 0);
  test.each([
    {
      name: "a whole layer dead from the start (biases -4), at chance",
      spec: deadRun({ dead: () => 1, trainAcc: 0.1, valAcc: 0.1, loss: atChanceLoss }),
      raised: true,
    },
    { name: "95% dead in a model that fits (a layer nearly gone always matters)", spec: deadRun({ dead: () => 0.95, trainAcc: 0.99 }), raised: true },
    { name: "60% dead, accuracy capped at 0.55", spec: deadRun({ dead: () => 0.6, trainAcc: 0.55 }), raised: true },
    { name: "40% of a healthy CNN's fc units dead, train acc 0.99 (C2-H-CNN)", spec: deadRun({ dead: () => 0.4, trainAcc: 0.99 }), raised: false },
    {
      name: "60% dead while labels are permuted: at chance, the live 40% would learn if anything could be learned",
      spec: deadRun({ dead: () => 0.6, trainAcc: 0.15, valAcc: 0.1, loss: atChanceLoss }),
      raised: false,
    },
    { name: "recovering: 70% dead early, 40% now (units came back)", spec: deadRun({ dead: (p) => 0.7 - 0.3 * p, trainAcc: 0.55 }), raised: false },
    {
      name: "borderline: 60% dead at train acc 0.93 (error 8% of chance's: fits)",
      spec: deadRun({ dead: () => 0.6, trainAcc: 0.93 }),
      raised: false,
    },
    {
      name: "borderline: 60% dead at train acc 0.75 (error 28% of chance's: poor)",
      spec: deadRun({ dead: () => 0.6, trainAcc: 0.75 }),
      raised: true,
    },
  ])("$name -> raised: $raised", ({ spec, raised }) => {
    const d = found(spec, "dead_relu");
    expect(!!d, d ? JSON.stringify(d.evidence) : "not raised").toBe(raised);
  });
});

describe("loss_plateau: stopped improving while far from what the run can reach", () => {
  const flatAt = (level: number, noise = 0.03) =>
    series(1000, (i, p) => (p < 0.6 ? level + (2.3 - level) * (1 - p / 0.6) ** 2 : level) * (1 + noise * Math.sin(i * 1.7)), 1, 0);
  test.each([
    { name: "loss-only run flat at 0.8 from 2.3 for 40%", spec: { series: { loss: flatAt(0.8) } }, raised: true },
    {
      name: "classifier capped at train acc 0.6, loss flat",
      spec: { config: { num_classes: 10 }, series: { loss: flatAt(1.2), "train/acc": accTo(0.6) } },
      raised: true,
    },
    {
      name: "converged healthy classifier: train acc 0.99, loss flat at its floor",
      spec: { config: { num_classes: 10 }, series: { loss: flatAt(0.3), "train/acc": accTo(0.99) } },
      raised: false,
    },
    {
      name: "a loss that went UP (a resumed run retrained from scratch: 2.3 -> 0.013 by step 300, then 1.2 flat)",
      spec: {
        series: { loss: series(430, (i) => (i <= 300 ? 0.013 + 2.3 * Math.exp(-i / 30) : 1.2) * (1 + 0.02 * Math.sin(i)), 1, 0) },
      },
      raised: false,
    },
    {
      name: "borderline: flat but so noisy (per-point cv ~1) that a short window cannot tell flat from falling",
      spec: {
        series: {
          loss: (() => {
            const g = gauss(2);
            return series(100, (_, p) => Math.max(1e-3, (0.3 + 0.4 * Math.exp(-p / 0.1)) * (1 + 0.9 * g())), 1, 0);
          })(),
        },
      },
      raised: false,
    },
  ])("$name -> raised: $raised", ({ spec, raised }) => {
    const d = found(spec as RunSpec, "loss_plateau");
    expect(!!d, d ? JSON.stringify(d.evidence) : "not raised").toBe(raised);
  });

  test("the plateau is reported where the flat stretch began, not where the loss first touched its level", () => {
    // falls to 0.8 by 60%, flat after: the flat stretch starts near step 600
    const d = found({ series: { loss: flatAt(0.8) } }, "loss_plateau");
    expect(d!.step).toBeGreaterThan(450);
  });
});
