// The seeded sampler of a search space and the check of a space as a user sends it. The sampler is
// the exact algorithm lib/sweeps/types.ts spells out; both SDKs implement it too and are tested
// against tests/fixtures/sweeps/sampler-vectors.json, so any change here is a wire change.

import { codePointLength, isWellFormed, hasForbiddenCharacter, LIMITS } from "@/lib/contract/limits";
import { AppError } from "@/lib/errors";
import type { Distribution, ParamSpec, Scalar, Space } from "./types";

const MASK64 = (1n << 64n) - 1n;
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const GOLDEN = 0x9e3779b97f4a7c15n;
const MIX1 = 0xbf58476d1ce4e5b9n;
const MIX2 = 0x94d049bb133111ebn;
const TWO_53 = 2 ** 53;
const SEED_LIMIT = 2 ** 32;

export const DISTRIBUTIONS = ["log_uniform", "uniform", "int_uniform", "choice"] as const;

/** Config keys a parameter may not take: the run's config carries them for babysit itself. */
export const RESERVED_PARAM_NAMES: readonly string[] = ["sweep", "babysit"];

const utf8 = new TextEncoder();

/** FNV-1a 64 of the UTF-8 bytes of a (well-formed) string. */
export function fnv1a64(name: string): bigint {
  let h = FNV_OFFSET;
  for (const b of utf8.encode(name)) {
    h ^= BigInt(b);
    h = (h * FNV_PRIME) & MASK64;
  }
  return h;
}

/** splitmix64's output function applied to state + golden gamma. */
export function splitmix64(state: bigint): bigint {
  let z = (state + GOLDEN) & MASK64;
  z = ((z ^ (z >> 30n)) * MIX1) & MASK64;
  z = ((z ^ (z >> 27n)) * MIX2) & MASK64;
  return z ^ (z >> 31n);
}

function checkSeedIndex(seed: number, index: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed >= SEED_LIMIT) {
    throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
  }
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`index must be a non-negative safe integer, got ${index}`);
  }
}

/** The unit draw in [0, 1) of parameter `name` for trial `index` of a sweep seeded `seed`. */
export function unit(seed: number, index: number, name: string): number {
  checkSeedIndex(seed, index);
  const state = ((BigInt(seed) << 32n) ^ BigInt(index) ^ fnv1a64(name)) & MASK64;
  return Number(splitmix64(state) >> 11n) / TWO_53;
}

// Math.log and Math.exp differ between JavaScript engines and C libraries by an ulp now and then
// (V8 and CPython disagree on about 1 log_uniform draw in 20), so the sampler uses its own ln and
// exp built from + - * / only, which IEEE 754 rounds the same everywhere. Python's SDK has the same
// code, operation for operation; ln2 is split in a high part with trailing zero bits (so k * LN2_HI
// is exact) and the rest.
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const INV_LN2 = Math.LOG2E; // 1.4426950408889634
const SQRT2 = Math.SQRT2; // 1.4142135623730951
const LN_TERMS = 12; // (3 - 2 sqrt 2)^(2*12) / 25 < 1e-18: past the last bit
const EXP_TERMS = 16; // 0.35^16 / 16! < 1e-20

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** 2^k for an integer k in [-1022, 1023], exactly. */
function pow2(k: number): number {
  u64[0] = BigInt(k + 1023) << 52n;
  return f64[0];
}

/** ln x for a normal x > 0: x = m 2^e with m in [sqrt(1/2), sqrt 2), ln m = 2 atanh((m-1)/(m+1)). */
export function portableLn(x: number): number {
  f64[0] = x;
  let e = Number((u64[0] >> 52n) & 0x7ffn) - 1023;
  let m = x / pow2(e);
  if (m > SQRT2) {
    m = m / 2;
    e = e + 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 1 / (2 * LN_TERMS + 1);
  for (let k = LN_TERMS - 1; k >= 0; k--) p = 1 / (2 * k + 1) + s2 * p;
  return e * LN2_HI + (e * LN2_LO + 2 * s * p);
}

/** e^y for y in [-700, 700]: y = k ln2 + r with |r| <= ln2 / 2, e^r by its Taylor series. */
export function portableExp(y: number): number {
  const k = Math.floor(y * INV_LN2 + 0.5);
  const r = y - k * LN2_HI - k * LN2_LO;
  let p = 1;
  for (let n = EXP_TERMS; n >= 1; n--) p = 1 + (r * p) / n;
  return p * pow2(k);
}

export function isDistribution(spec: ParamSpec): spec is Distribution {
  return spec !== null && typeof spec === "object";
}

/** One parameter's value for a unit draw u in [0, 1). */
export function drawParam(spec: ParamSpec, u: number): Scalar {
  if (!isDistribution(spec)) return spec;
  switch (spec.distribution) {
    case "uniform":
      return spec.low + u * (spec.high - spec.low);
    case "log_uniform": {
      const a = portableLn(spec.low);
      const v = portableExp(a + u * (portableLn(spec.high) - a));
      return Math.min(spec.high, Math.max(spec.low, v));
    }
    case "int_uniform":
      return Math.min(spec.high, spec.low + Math.floor(u * (spec.high - spec.low + 1)));
    case "choice":
      return spec.values[Math.floor(u * spec.values.length)];
  }
}

/**
 * Trial `index` of a sweep with `seed`: every parameter of the space drawn independently (fixed
 * values as they are), in the space's order. Deterministic: the same (space, seed, index) gives the
 * same config in the server and both SDKs; different indexes give independent draws.
 */
export function sampleTrial(space: Space, seed: number, index: number): Record<string, Scalar> {
  checkSeedIndex(seed, index);
  const out: Record<string, Scalar> = Object.create(null);
  for (const name of Object.keys(space)) {
    const spec = space[name];
    out[name] = isDistribution(spec) ? drawParam(spec, unit(seed, index, name)) : spec;
  }
  return out;
}

// ------------------------------------------------------------------------------ validation

function fail(message: string): never {
  throw new AppError("invalid_space", message);
}

const quote = (name: string) => JSON.stringify(name);

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object" && v !== null) return "an object";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function checkScalar(where: string, v: unknown): Scalar {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) fail(`${where} must be a finite number, got ${describe(v)}`);
    return v;
  }
  fail(`${where} must be a number, string, boolean or null, got ${describe(v)}`);
}

const FIELDS: Record<Distribution["distribution"], readonly string[]> = {
  log_uniform: ["distribution", "low", "high"],
  uniform: ["distribution", "low", "high"],
  int_uniform: ["distribution", "low", "high"],
  choice: ["distribution", "values"],
};

function checkBounds(p: string, kind: string, raw: Record<string, unknown>): { low: number; high: number } {
  const out = { low: 0, high: 0 };
  for (const side of ["low", "high"] as const) {
    const v = raw[side];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      fail(`space[${p}]: ${kind} ${side} must be a finite number, got ${describe(v)}`);
    }
    out[side] = v;
  }
  if (!(out.high > out.low)) fail(`space[${p}]: ${kind} high must be greater than low (low ${out.low}, high ${out.high})`);
  return out;
}

function checkDistribution(name: string, raw: Record<string, unknown>): Distribution {
  const p = quote(name);
  const kind = raw.distribution;
  if (typeof kind !== "string" || !(DISTRIBUTIONS as readonly string[]).includes(kind)) {
    fail(`space[${p}]: unknown distribution ${describe(kind)}; use one of ${DISTRIBUTIONS.join(", ")}, or a bare value for a fixed parameter`);
  }
  const d = kind as Distribution["distribution"];
  for (const field of Object.keys(raw)) {
    if (!FIELDS[d].includes(field)) fail(`space[${p}]: unknown field ${quote(field)} for ${d} (fields: ${FIELDS[d].join(", ")})`);
  }
  if (d === "choice") {
    const values = raw.values;
    if (!Array.isArray(values)) fail(`space[${p}]: choice values must be an array, got ${describe(values)}`);
    if (values.length === 0) fail(`space[${p}]: choice values must not be empty`);
    const max = LIMITS.sweepChoiceValuesMax;
    if (values.length > max.value) fail(`space[${p}]: choice has ${values.length} values, at most ${max.value} ${max.unit}`);
    return { distribution: "choice", values: values.map((v, i) => checkScalar(`space[${p}].values[${i}]`, v)) };
  }
  const { low, high } = checkBounds(p, d, raw);
  if (d === "log_uniform") {
    if (!(low > 0)) fail(`space[${p}]: log_uniform low must be > 0 (got ${low}); use uniform for ranges that include 0 or negatives`);
    const { sweepLogUniformMin: min, sweepLogUniformMax: max } = LIMITS;
    if (low < min.value || high > max.value)
      fail(`space[${p}]: log_uniform bounds must lie within [${min.value}, ${max.value}] (low ${low}, high ${high})`);
    return { distribution: d, low, high };
  }
  if (d === "int_uniform") {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) {
      fail(`space[${p}]: int_uniform low and high must be integers within ±(2^53-1) (low ${low}, high ${high})`);
    }
    if (!Number.isSafeInteger(high - low + 1)) fail(`space[${p}]: int_uniform range is too wide (more than 2^53-1 values)`);
    return { distribution: d, low, high };
  }
  if (!Number.isFinite(high - low)) fail(`space[${p}]: uniform range is too wide (high - low overflows)`);
  return { distribution: d, low, high };
}

/**
 * A search space as a user sent it (JSON) -> a Space (a null-prototype record of fresh specs), or
 * AppError 400 invalid_space whose message names the parameter and the problem.
 */
export function validateSpace(input: unknown): Space {
  if (!isPlainRecord(input)) fail(`space must be an object of parameter name -> distribution or value, got ${describe(input)}`);
  const names = Object.keys(input);
  if (names.length === 0) fail("space must name at least one parameter");
  const maxParams = LIMITS.sweepParamsMax;
  if (names.length > maxParams.value) fail(`space has ${names.length} parameters, at most ${maxParams.value} ${maxParams.unit}`);
  const space: Space = Object.create(null);
  for (const name of names) {
    const nameMax = LIMITS.sweepParamNameMaxLength;
    if (name.length === 0) fail("space: parameter names must not be empty");
    if (!isWellFormed(name)) fail(`space: parameter name ${quote(name)} must be well-formed Unicode (no lone surrogates)`);
    if (hasForbiddenCharacter(name)) fail(`space: parameter name ${quote(name)} must not contain control characters`);
    if (codePointLength(name) > nameMax.value) fail(`space: parameter names must be at most ${nameMax.value} ${nameMax.unit}`);
    if (RESERVED_PARAM_NAMES.includes(name)) fail(`space: ${quote(name)} is reserved in a run's config; name the parameter otherwise`);
    const raw = (input as Record<string, unknown>)[name];
    if (isPlainRecord(raw)) {
      space[name] = checkDistribution(name, raw);
    } else if (Array.isArray(raw)) {
      fail(`space[${quote(name)}]: a list is not a parameter; use {"distribution": "choice", "values": [...]}`);
    } else {
      space[name] = checkScalar(`space[${quote(name)}]`, raw);
    }
  }
  return space;
}
