// The wire format of docs/api.md: validation rules shared by log(), logHistogram() and event().

/** A metric value on the wire: non-finite numbers travel as strings because JSON has no NaN. */
export type WireValue = number | "NaN" | "Infinity" | "-Infinity";

export const MAX_KEY_LENGTH = 200;
export const MAX_EVENT_TYPE_LENGTH = 64;
export const MAX_HISTOGRAM_BINS = 1000;
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

// The server's rule: no C0 control characters and no DEL.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export function encodeValue(value: number): WireValue {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "Infinity" : "-Infinity";
}

/** Returns why `key` is not a valid metric or histogram key, or null when it is. */
export function keyProblem(key: string): string | null {
  if (key.length === 0) return "empty key";
  if (key.length > MAX_KEY_LENGTH) return `key longer than ${MAX_KEY_LENGTH} characters`;
  if (CONTROL_CHARS.test(key)) return "key contains control characters";
  return null;
}

export function isValidStep(step: unknown): step is number {
  return typeof step === "number" && Number.isSafeInteger(step) && step >= 0;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Shortens user-supplied text for a warning line. */
export function preview(text: string, max = 60): string {
  const s = JSON.stringify(text);
  return s.length > max ? `${s.slice(0, max - 4)}..."` : s;
}
