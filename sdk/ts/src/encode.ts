// The wire format of docs/api.md: validation rules shared by init(), log(), logHistogram() and event().

/** A metric value on the wire: non-finite numbers travel as strings because JSON has no NaN. */
export type WireValue = number | "NaN" | "Infinity" | "-Infinity";

/**
 * The SDK's copy of the server's wire contract (lib/contract/limits.ts, docs/contract.json), with the
 * same names. The SDK is installed without the babysit checkout, so it carries the numbers itself;
 * tests/sdk/ts/contract.test.ts fails when they differ from docs/contract.json.
 */
export const CONTRACT = {
  stringUnit: "code points",
  runIdPattern: "^[A-Za-z0-9_-]{1,64}$",
  nonFiniteStrings: ["NaN", "Infinity", "-Infinity"],
  limits: {
    keyMaxLength: 200,
    eventTypeMaxLength: 64,
    projectMaxLength: 100,
    runNameMaxLength: 200,
    runIdMaxLength: 64,
    rowsPerBatch: 10_000,
    histogramsPerBatch: 1_000,
    eventsPerBatch: 1_000,
    histogramBins: 1_000,
    bodyBytes: 8 * 1024 * 1024,
    jsonDepth: 64,
    configBytes: 1024 * 1024,
    configDepth: 32,
    stepMax: Number.MAX_SAFE_INTEGER,
    timeMax: 1e10,
    epochAbsMax: 1e12,
    imageSideMax: 8192,
    imageBytesMax: 4 * 1024 * 1024,
    urlBytesMax: 8 * 1024,
    keysPerRun: 10_000,
    histogramKeysPerRun: 2_000,
    imageKeysPerRun: 1_000,
    statsFeaturesMax: 100_000,
    statsSplitMaxLength: 64,
    labelStatsClasses: 100_000,
    labelStatsSplitMaxLength: 64,
    // sweeps (sweep()): checked by the SDK before a sweep starts
    sweepNameMaxLength: 200,
    sweepParamsMax: 100,
    sweepParamNameMaxLength: 200,
    sweepChoiceValuesMax: 1_000,
    sweepLogUniformMin: 1e-300,
    sweepLogUniformMax: 1e300,
  },
} as const;

export const LIMITS = CONTRACT.limits;
export const RUN_ID_PATTERN = new RegExp(CONTRACT.runIdPattern);

export function encodeValue(value: number): WireValue {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "Infinity" : "-Infinity";
}

/** Length in Unicode code points, the unit of every string limit (a lone surrogate counts as one). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Index of the first lone surrogate, or -1 when `s` is well-formed Unicode. */
function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

/** True when `s` holds no lone surrogate (so it survives UTF-8 unchanged). */
export function isWellFormed(s: string): boolean {
  return loneSurrogateAt(s) < 0;
}

/** `s` with every lone surrogate replaced by U+FFFD, as a UTF-8 encoder would. */
export function toWellFormed(s: string): string {
  if (loneSurrogateAt(s) < 0) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
    }
    out += c >= 0xd800 && c <= 0xdfff ? "\ufffd" : s[i]!;
  }
  return out;
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f) return true;
  }
  return false;
}

/**
 * Why a user-named string (a key, event type, project or run name) breaks the contract, or null when
 * it is fine. The answer names the kind of problem, not the string, so it can key a once-only warning
 * and a line of finish()'s rejection report. `what` is e.g. "metric key".
 */
export function nameProblem(s: unknown, max: number, what: string): string | null {
  if (typeof s !== "string") return `${what} is not a string`;
  if (s.length === 0) return `${what} is empty`;
  if (!isWellFormed(s)) return `${what} is not well-formed Unicode (lone surrogate)`;
  if (hasControlCharacter(s)) return `${what} contains control characters`;
  if (codePointLength(s) > max) return `${what} longer than ${max} code points`;
  return null;
}

/** Why `key` is not a valid metric or histogram key, or null when it is. */
export function keyProblem(key: unknown, what = "metric key"): string | null {
  return nameProblem(key, LIMITS.keyMaxLength, what);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/; // no alternation or nesting: linear on any input

/**
 * Why the data of an `image` event breaks the contract, or null: a valid key, integer width and
 * height from 1 to imageSideMax, and base64 PNG data of at most imageBytesMax bytes.
 */
export function imageProblem(d: Record<string, unknown>): string | null {
  const key = keyProblem(d.key, "image key");
  if (key) return key;
  for (const side of ["width", "height"] as const) {
    const v = d[side];
    if (!(typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= LIMITS.imageSideMax)) {
      return `image ${side} is not an integer from 1 to ${LIMITS.imageSideMax} pixels`;
    }
  }
  const png = d.png_base64;
  if (typeof png !== "string" || png.length % 4 !== 0 || !BASE64.test(png)) return "image png_base64 is not base64 text";
  const bytes = (png.length / 4) * 3 - (png.endsWith("==") ? 2 : png.endsWith("=") ? 1 : 0);
  if (bytes > LIMITS.imageBytesMax) return `image larger than ${LIMITS.imageBytesMax} bytes`;
  const head = Buffer.from(png.slice(0, 12), "base64");
  if (!PNG_SIGNATURE.every((b, i) => head[i] === b)) return "image png_base64 is not a PNG image";
  return null;
}

export function isValidStep(step: unknown): step is number {
  return typeof step === "number" && Number.isSafeInteger(step) && step >= 0 && step <= LIMITS.stepMax;
}

/** Now in Unix seconds, or undefined when the clock is outside what the server accepts (it then uses its own). */
export function nowSeconds(): number | undefined {
  const t = Date.now() / 1000;
  return t >= 0 && t <= LIMITS.timeMax ? t : undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Shortens user-supplied text for a warning line. */
export function preview(text: string, max = 60): string {
  const s = JSON.stringify(toWellFormed(text));
  if (s.length <= max) return s;
  // Cut between code points, so the warning itself stays well-formed.
  let cut = max - 4;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return `${s.slice(0, cut)}..."`;
}
