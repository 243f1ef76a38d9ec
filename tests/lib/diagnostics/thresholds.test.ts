import { describe, expect, test } from "vitest";
import { diagnose } from "@/lib/diagnostics";
import { DEFAULT_THRESHOLDS, resolveThresholds, thresholdInRange } from "@/lib/diagnostics/thresholds";
import { makeRun, series } from "./synth";

// config.babysit.thresholds is the user's: a value out of a threshold's range is ignored like a
// wrong type, so a typo never silences a rule or turns one alert into another.

const withThresholds = (thresholds: unknown) => ({ babysit: { thresholds } });

describe("threshold overrides", () => {
  test("every default is in its own range", () => {
    for (const [name, value] of Object.entries(DEFAULT_THRESHOLDS))
      expect(thresholdInRange(name as keyof typeof DEFAULT_THRESHOLDS, value)).toBe(true);
  });

  test.each([
    ["min_points", -1],
    ["min_points", 0],
    ["min_points", 0.5],
    ["min_evals", 2.5],
    ["recent_frac", 0],
    ["recent_frac", -5],
    ["recent_frac", 1.5],
    ["dead_frac", 2],
    ["divergence_factor", 0],
    ["divergence_factor", -3],
    ["update_ratio_high", Number.NaN],
    ["update_ratio_high", Number.POSITIVE_INFINITY],
    ["initial_loss_max_step", -1],
  ])("%s = %s is ignored", (name, value) => {
    const t = resolveThresholds(withThresholds({ [name]: value }));
    expect(t[name as keyof typeof t]).toBe(DEFAULT_THRESHOLDS[name as keyof typeof DEFAULT_THRESHOLDS]);
  });

  test.each([
    ["min_points", 3],
    ["recent_frac", 1],
    ["dead_frac", 0.6],
    ["divergence_factor", 10],
    ["initial_loss_max_step", 0],
  ])("%s = %s is taken", (name, value) => {
    expect(resolveThresholds(withThresholds({ [name]: value }))[name as keyof typeof DEFAULT_THRESHOLDS]).toBe(value);
  });

  test.each([["toString"], ["__proto__"], ["constructor"], ["hasOwnProperty"]])("a threshold named %s is not a threshold", (name) => {
    const t = resolveThresholds(withThresholds(JSON.parse(`{"${name}": 5}`)));
    expect(Object.hasOwn(t, name)).toBe(false);
  });

  test.each([
    ["min_points -1", { min_points: -1 }],
    ["min_points 0.5", { min_points: 0.5 }],
    ["recent_frac 0", { recent_frac: 0 }],
    ["recent_frac -5", { recent_frac: -5 }],
  ])("a loss that explodes is a critical divergence whatever the bad override (%s)", (_name, thresholds) => {
    // 1/(s+1) for 45 steps, then 1e6 and still there
    const loss = series(60, (i) => (i < 45 ? 1 / (i + 1) : 1e6), 1, 0);
    const run = makeRun({ config: withThresholds(thresholds), series: { "train/loss": loss } });
    const plain = makeRun({ series: { "train/loss": loss } });
    const codes = (r: typeof run) => diagnose(r).map((d) => `${d.code}:${d.severity}`);
    expect(codes(run)).toEqual(codes(plain));
    expect(codes(plain)).toContain("divergence:critical");
  });
});
