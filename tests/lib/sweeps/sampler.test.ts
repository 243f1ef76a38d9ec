import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { AppError } from "@/lib/errors";
import { portableExp, portableLn, sampleTrial, unit, validateSpace } from "@/lib/sweeps/sampler";
import type { Scalar, Space } from "@/lib/sweeps/types";

interface Vector {
  space: unknown;
  seed: number;
  index: number;
  units: Record<string, number>;
  config: Record<string, Scalar>;
}
const VECTORS: Vector[] = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../../fixtures/sweeps/sampler-vectors.json"), "utf8")).cases;

const space = (raw: unknown): Space => validateSpace(raw);
const draws = (sp: Space, name: string, n: number, seed = 7) => Array.from({ length: n }, (_, i) => sampleTrial(sp, seed, i)[name]) as number[];

/** Kolmogorov-Smirnov distance of samples from the uniform distribution on [0, 1]. */
function ksUniform(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  let d = 0;
  s.forEach((x, i) => {
    d = Math.max(d, (i + 1) / s.length - x, x - i / s.length);
  });
  return d;
}
// 99.9% critical value of the KS distance: a fixed seed either passes or fails for ever, and a
// broken sampler (a skew, a wrong scale) sits far past it
const ksCritical = (n: number) => 1.95 / Math.sqrt(n);

/** Pearson's chi-square of observed counts against equal expected counts. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const e = total / counts.length;
  return counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
}

describe("the cross-language test vectors", () => {
  test("cover every distribution, fixed values, unicode names, extreme seeds and indexes", () => {
    const kinds = new Set<string>();
    const names = new Set<string>();
    for (const v of VECTORS) {
      for (const [k, spec] of Object.entries(v.space as object)) {
        names.add(k);
        kinds.add(spec === null ? "fixed null" : typeof spec === "object" ? spec.distribution : `fixed ${typeof spec}`);
      }
    }
    expect([...kinds].sort()).toEqual(
      ["choice", "fixed boolean", "fixed null", "fixed number", "fixed string", "int_uniform", "log_uniform", "uniform"].sort(),
    );
    for (const n of ["学习率", "🚀 warmup", "café", "e\u0301", "𠀀", "__proto__"]) expect(names).toContain(n);
    const seeds = new Set(VECTORS.map((v) => v.seed));
    const indexes = new Set(VECTORS.map((v) => v.index));
    for (const s of [0, 2 ** 32 - 1, 2 ** 32 - 2]) expect(seeds).toContain(s);
    for (const i of [0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) expect(indexes).toContain(i);
  });

  test("sampleTrial reproduces every vector exactly (values, types, key order)", () => {
    for (const v of VECTORS) {
      const sp = validateSpace(v.space);
      const got = sampleTrial(sp, v.seed, v.index);
      expect(Object.keys(got)).toEqual(Object.keys(v.config));
      for (const k of Object.keys(v.config)) {
        expect(Object.is(got[k], v.config[k]), `${k} seed ${v.seed} index ${v.index}`).toBe(true);
      }
      for (const k of Object.keys(v.units)) expect(unit(v.seed, v.index, k)).toBe(v.units[k]);
    }
  });
});

describe("sampleTrial", () => {
  const sp = space({
    lr: { distribution: "log_uniform", low: 1e-5, high: 1e-1 },
    dropout: { distribution: "uniform", low: 0, high: 0.5 },
    layers: { distribution: "int_uniform", low: 1, high: 4 },
    act: { distribution: "choice", values: ["relu", "tanh", "gelu"] },
    epochs: 3,
  });

  test("is reproducible from the seed and index, and a different seed gives different trials", () => {
    expect(sampleTrial(sp, 42, 5)).toEqual(sampleTrial(sp, 42, 5));
    expect(sampleTrial(sp, 42, 5)).not.toEqual(sampleTrial(sp, 43, 5));
  });

  test("gives distinct trials across 5,000 indexes (no two workers' trials repeat)", () => {
    const seen = new Set(Array.from({ length: 5000 }, (_, i) => JSON.stringify(sampleTrial(sp, 1, i))));
    expect(seen.size).toBe(5000);
  });

  test("fixed values are passed through; the result is a null-prototype record", () => {
    const t = sampleTrial(space({ opt: "adam", n: 3, flag: false, none: null, __proto__x: 1 }), 0, 0);
    expect({ ...t }).toEqual({ opt: "adam", n: 3, flag: false, none: null, __proto__x: 1 });
    expect(Object.getPrototypeOf(t)).toBeNull();
  });

  test.each([
    ["seed -1", -1, 0],
    ["seed 2^32", 2 ** 32, 0],
    ["seed 1.5", 1.5, 0],
    ["index -1", 0, -1],
    ["index 2^53", 0, 2 ** 53],
    ["index NaN", 0, Number.NaN],
  ])("refuses %s", (_label, seed, index) => {
    expect(() => sampleTrial(sp, seed, index)).toThrow(RangeError);
  });
});

describe("the sampler's distributions (fixed seeds: deterministic)", () => {
  const N = 4000;

  test("log of log_uniform samples is uniform (KS), and all lie within the bounds", () => {
    const sp = space({ lr: { distribution: "log_uniform", low: 1e-6, high: 1 } });
    const xs = draws(sp, "lr", N);
    for (const x of xs) expect(x >= 1e-6 && x <= 1).toBe(true);
    const d = ksUniform(xs.map((x) => (Math.log(x) - Math.log(1e-6)) / (0 - Math.log(1e-6))));
    expect(d).toBeLessThan(ksCritical(N));
    // 5 of the 6 decades lie below 0.1: a sampler uniform on the linear scale would put 10% there
    expect(xs.filter((x) => x < 0.1).length / N).toBeGreaterThan(0.8);
  });

  test("uniform samples are uniform (KS) within [low, high)", () => {
    const sp = space({ p: { distribution: "uniform", low: -2, high: 3 } });
    const xs = draws(sp, "p", N);
    for (const x of xs) expect(x >= -2 && x < 3).toBe(true);
    expect(ksUniform(xs.map((x) => (x + 2) / 5))).toBeLessThan(ksCritical(N));
  });

  test("the unit draws are uniform across seeds at one index (each worker seed is a fresh stream)", () => {
    const us = Array.from({ length: N }, (_, s) => unit(s, 0, "lr"));
    expect(ksUniform(us)).toBeLessThan(ksCritical(N));
  });

  test("two parameters of one trial are uncorrelated", () => {
    const a = Array.from({ length: N }, (_, i) => unit(3, i, "a"));
    const b = Array.from({ length: N }, (_, i) => unit(3, i, "b"));
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const ma = mean(a);
    const mb = mean(b);
    const cov = mean(a.map((x, i) => (x - ma) * (b[i] - mb)));
    // correlation of independent uniforms has sd 1/sqrt(N) ~ 0.016
    expect(Math.abs(cov / (1 / 12))).toBeLessThan(0.06);
  });

  test.each([
    [1, 4],
    [-3, 3],
    [0, 1],
    [10, 10 + 19],
  ])("int_uniform [%i, %i] hits both ends, only integers, evenly (chi-square)", (low, high) => {
    const sp = space({ k: { distribution: "int_uniform", low, high } });
    const xs = draws(sp, "k", N);
    const counts = new Array(high - low + 1).fill(0);
    for (const x of xs) {
      expect(Number.isInteger(x) && x >= low && x <= high).toBe(true);
      counts[x - low]++;
    }
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[counts.length - 1]).toBeGreaterThan(0);
    // 99.9% quantile of chi-square with k-1 degrees of freedom is below 3k + 10 for these k
    expect(chiSquare(counts)).toBeLessThan(3 * counts.length + 10);
  });

  test("choice values come out with equal frequencies (chi-square), mixed types kept", () => {
    const values: Scalar[] = ["relu", "tanh", 1.5, true, null];
    const sp = space({ c: { distribution: "choice", values } });
    const counts = new Array(values.length).fill(0);
    for (let i = 0; i < N; i++) counts[values.indexOf(sampleTrial(sp, 11, i).c)]++;
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(chiSquare(counts)).toBeLessThan(18.5); // 99.9% quantile, 4 degrees of freedom
  });
});

describe("the portable ln and exp", () => {
  test("agree with Math.log / Math.exp to within 2 ulp over the whole allowed range", () => {
    for (let i = 0; i <= 2000; i++) {
      const y = -690 + (1380 * i) / 2000;
      const x = Math.exp(y);
      expect(Math.abs(portableExp(y) - Math.exp(y)) / Math.exp(y)).toBeLessThan(5e-16);
      const l = Math.log(x);
      expect(Math.abs(portableLn(x) - l)).toBeLessThanOrEqual(5e-16 * Math.max(1, Math.abs(l)));
    }
    expect(portableLn(1)).toBe(0);
    expect(portableExp(0)).toBe(1);
  });
});

describe("validateSpace", () => {
  const err = (input: unknown): AppError => {
    try {
      validateSpace(input);
    } catch (e) {
      if (e instanceof AppError) return e;
      throw e;
    }
    throw new Error("accepted");
  };
  const U = (low: unknown, high: unknown, d = "uniform") => ({ distribution: d, low, high });

  test.each<[string, unknown, string]>([
    ["not an object", [1, 2], "space must be an object"],
    ["null", null, "space must be an object"],
    ["empty", {}, "at least one parameter"],
    ["log_uniform low 0", { lr: U(0, 1, "log_uniform") }, 'space["lr"]: log_uniform low must be > 0'],
    ["log_uniform low < 0", { lr: U(-1, 1, "log_uniform") }, 'space["lr"]: log_uniform low must be > 0'],
    ["log_uniform high <= low", { lr: U(0.1, 0.01, "log_uniform") }, 'space["lr"]: log_uniform high must be greater than low'],
    ["log_uniform below 1e-300", { lr: U(1e-310, 1, "log_uniform") }, 'space["lr"]: log_uniform bounds must lie within'],
    ["uniform high == low", { p: U(1, 1) }, 'space["p"]: uniform high must be greater than low'],
    ["uniform low string", { p: U("0", 1) }, 'space["p"]: uniform low must be a finite number'],
    ["uniform high missing", { p: { distribution: "uniform", low: 0 } }, 'space["p"]: uniform high must be a finite number, got nothing'],
    ["uniform too wide", { p: U(-1.7e308, 1.7e308) }, 'space["p"]: uniform range is too wide'],
    ["int bounds not integers", { n: U(1, 2.5, "int_uniform") }, 'space["n"]: int_uniform low and high must be integers'],
    ["int bounds unsafe", { n: U(0, 2 ** 60, "int_uniform") }, 'space["n"]: int_uniform low and high must be integers'],
    ["empty choice", { a: { distribution: "choice", values: [] } }, 'space["a"]: choice values must not be empty'],
    ["choice not a list", { a: { distribution: "choice", values: "abc" } }, 'space["a"]: choice values must be an array'],
    ["choice of objects", { a: { distribution: "choice", values: [1, { x: 1 }] } }, 'space["a"].values[1] must be a number, string'],
    [
      "too many choices",
      { a: { distribution: "choice", values: Array.from({ length: LIMITS.sweepChoiceValuesMax.value + 1 }, (_, i) => i) } },
      `at most ${LIMITS.sweepChoiceValuesMax.value} values`,
    ],
    ["unknown distribution", { lr: { distribution: "loguniform", low: 1, high: 2 } }, 'space["lr"]: unknown distribution "loguniform"'],
    ["no distribution", { lr: { low: 1, high: 2 } }, 'space["lr"]: unknown distribution nothing'],
    ["unknown field", { lr: { distribution: "uniform", low: 1, high: 2, log: true } }, 'space["lr"]: unknown field "log"'],
    ["a bare list", { a: ["relu", "tanh"] }, 'space["a"]: a list is not a parameter'],
    [
      "too many parameters",
      Object.fromEntries(Array.from({ length: LIMITS.sweepParamsMax.value + 1 }, (_, i) => [`p${i}`, 1])),
      `at most ${LIMITS.sweepParamsMax.value} parameters`,
    ],
    ["reserved name sweep", { sweep: 1 }, '"sweep" is reserved'],
    ["reserved name babysit", { babysit: 1 }, '"babysit" is reserved'],
    ["empty name", { "": 1 }, "parameter names must not be empty"],
    ["lone surrogate name", { "lr\ud800": 1 }, "must be well-formed Unicode"],
    ["control character in name", { "l\u0000r": 1 }, "must not contain control characters"],
    ["name too long", { ["🚀".repeat(LIMITS.sweepParamNameMaxLength.value + 1)]: 1 }, "parameter names must be at most 200 code points"],
  ])("%s -> 400 invalid_space", (_label, input, fragment) => {
    const e = err(input);
    expect(e.code).toBe("invalid_space");
    expect(e.status).toBe(400);
    expect(e.message).toContain(fragment);
  });

  test.each([
    ["NaN low", Number.NaN],
    ["Infinity low", Number.POSITIVE_INFINITY],
  ])("%s -> invalid_space naming the parameter", (_label, v) => {
    expect(err({ x: U(v, 1) }).message).toContain('space["x"]: uniform low must be a finite number, got');
    expect(err({ x: v }).message).toContain('space["x"] must be a finite number');
  });

  test("accepts the wire format and rebuilds it as a null-prototype record of fresh specs", () => {
    const raw = JSON.parse(
      '{"__proto__": {"distribution": "choice", "values": [1, "a", null, true]}, "lr": {"distribution": "log_uniform", "low": 1e-4, "high": 0.1}, "n": {"distribution": "int_uniform", "low": -2, "high": 2}, "opt": "sgd", "学习率": 0.5}',
    );
    const sp = validateSpace(raw);
    expect(Object.getPrototypeOf(sp)).toBeNull();
    expect(Object.keys(sp)).toEqual(["__proto__", "lr", "n", "opt", "学习率"]);
    expect(Object.getOwnPropertyDescriptor(sp, "__proto__")?.value).toEqual({ distribution: "choice", values: [1, "a", null, true] });
    expect(sp.lr).not.toBe(raw.lr);
    expect(JSON.parse(JSON.stringify(sp))).toEqual(raw);
  });

  test("at the limits: 100 parameters, 1,000 choices, 200-code-point names are accepted", () => {
    const many = Object.fromEntries(Array.from({ length: LIMITS.sweepParamsMax.value }, (_, i) => [`p${i}`, i]));
    expect(Object.keys(validateSpace(many))).toHaveLength(LIMITS.sweepParamsMax.value);
    const values = Array.from({ length: LIMITS.sweepChoiceValuesMax.value }, (_, i) => i);
    expect(validateSpace({ c: { distribution: "choice", values } }).c).toEqual({ distribution: "choice", values });
    expect(validateSpace({ ["🚀".repeat(200)]: 1 })).toBeTruthy();
  });
});

describe("properties", () => {
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 });
  const uniformSpec = fc
    .tuple(finite, finite)
    .filter(([a, b]) => a !== b)
    .map(([a, b]) => ({ distribution: "uniform", low: Math.min(a, b), high: Math.max(a, b) }));
  const logSpec = fc
    .tuple(fc.double({ min: -299, max: 299, noNaN: true }), fc.double({ min: 1e-9, max: 50, noNaN: true }))
    .map(([e, w]) => ({ distribution: "log_uniform", low: 10 ** e, high: 10 ** Math.min(300, e + w) }))
    .filter((s) => s.high > s.low);
  const intSpec = fc
    .tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }))
    .map(([a, w]) => ({ distribution: "int_uniform", low: a, high: a + w + 1 }));
  const choiceSpec = fc
    .array(fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)), { minLength: 1, maxLength: 8 })
    .map((values) => ({ distribution: "choice", values }));
  const spec = fc.oneof(uniformSpec, logSpec, intSpec, choiceSpec);

  test("every sample of a valid space lies inside its bounds (and int_uniform gives integers)", () => {
    fc.assert(
      fc.property(spec, fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.nat(), (raw, seed, index) => {
        const sp = validateSpace({ x: raw });
        const v = sampleTrial(sp, seed, index).x;
        const s = sp.x as { distribution: string; low: number; high: number; values: Scalar[] };
        if (s.distribution === "choice") return s.values.includes(v);
        if (typeof v !== "number" || v < s.low || v > s.high) return false;
        return s.distribution !== "int_uniform" || Number.isInteger(v);
      }),
      { numRuns: 2000, seed: 20261129 },
    );
  });
});
