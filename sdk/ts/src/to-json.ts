// Turns whatever a training script passes as `config` (or event data) into plain JSON the server
// accepts: Maps, Sets, Dates, class instances, BigInts and typed arrays become their JSON
// counterparts instead of `{}` or an exception, cycles become a marker instead of a hang or a
// throw, and the result keeps within the contract's depth and size limits, with whatever had to be
// cut replaced by a marker string that says so. Never throws.

import { encodeValue, toWellFormed } from "./encode.js";

/** Every marker starts with this, so a truncated config is easy to spot on the dashboard. */
export const MARKER_PREFIX = "[babysit: ";

export interface ToJsonOptions {
  /** Deepest nesting allowed; the object itself is level 1. */
  maxDepth: number;
  /** Largest UTF-8 JSON size allowed, in bytes. */
  maxBytes: number;
  /** Names the value in warnings, e.g. "config". */
  what: string;
  /** Called once per conversion with each kind of problem met (the caller warns once per kind). */
  warn: (kind: string, message: string) => void;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const OMIT = Symbol("omit");

interface State {
  opts: ToJsonOptions;
  ancestors: Set<object>;
  /** Rough size of what was produced so far: stops a shared-reference blow-up early. */
  bytes: number;
  problems: Set<string>;
}

/**
 * Past this rough size conversion stops early (the rest becomes a marker): an object graph that
 * shares references can stand for far more JSON than it takes memory. Well above maxBytes, so that
 * fitSize() below, not this, decides what an ordinary large config keeps.
 */
const runaway = (st: State) => st.bytes > st.opts.maxBytes * 4;

/**
 * Converts `value` (an object) to a JSON object within `opts`' limits, or returns undefined (after a
 * warning) when it is not an object at all.
 */
export function toJsonObject(value: unknown, opts: ToJsonOptions): Record<string, Json> | undefined {
  const st: State = { opts, ancestors: new Set(), bytes: 0, problems: new Set() };
  const problem = (kind: string, message: string) => {
    if (st.problems.has(kind)) return;
    st.problems.add(kind);
    opts.warn(kind, message);
  };
  try {
    if (value === null || typeof value !== "object" || Array.isArray(value) || ArrayBuffer.isView(value) || value instanceof Set) {
      problem("not-object", `${opts.what} must be an object of name -> value; ignored`);
      return undefined;
    }
    const out = convert(value, 1, st, problem, false);
    if (out === null || typeof out !== "object" || Array.isArray(out)) {
      problem("not-object", `${opts.what} must be an object of name -> value; ignored`);
      return undefined;
    }
    return fitSize(out, st, problem);
  } catch (err) {
    problem("internal", `${opts.what} could not be converted to JSON (${(err as Error)?.message ?? err}); ignored`);
    return undefined;
  }
}

function marker(text: string): string {
  return `${MARKER_PREFIX}${text}]`;
}

/** A marker that counts towards the size produced, like any other output. */
function mark(st: State, text: string): string {
  const m = marker(text);
  st.bytes += m.length + 2;
  return m;
}

function convert(v: unknown, depth: number, st: State, problem: (kind: string, message: string) => void, toJsonDone: boolean): Json | typeof OMIT {
  switch (typeof v) {
    case "string": {
      if (v.length > st.opts.maxBytes) {
        // Cannot fit whatever else is cut: mark it now rather than carry it along.
        problem("size", sizeWarning(st));
        st.bytes += 40;
        return mark(st, `truncated, ${utf8(v)} bytes`);
      }
      st.bytes += v.length + 2;
      const s = toWellFormed(v);
      if (s !== v) problem("surrogate", `${st.opts.what} holds strings that are not well-formed Unicode; lone surrogates sent as U+FFFD`);
      return s;
    }
    case "number":
      st.bytes += 8;
      return Number.isFinite(v) ? v : encodeValue(v);
    case "boolean":
      st.bytes += 5;
      return v;
    case "bigint":
      st.bytes += 20;
      return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    case "undefined":
    case "function":
    case "symbol":
      return OMIT;
  }
  if (v === null) {
    st.bytes += 4;
    return null;
  }
  const obj = v as object;
  if (st.ancestors.has(obj)) {
    problem("circular", `${st.opts.what} holds a circular reference; sent as "${marker("circular reference")}"`);
    return mark(st, "circular reference");
  }
  if (runaway(st)) {
    problem("size", sizeWarning(st));
    return mark(st, "truncated, too large");
  }
  if (obj instanceof Date) {
    st.bytes += 26;
    return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  }
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) {
    return convert(obj.valueOf(), depth, st, problem, true);
  }
  if (obj instanceof RegExp) return obj.toString();
  if (!toJsonDone && typeof (obj as { toJSON?: unknown }).toJSON === "function") {
    const replaced = (obj as { toJSON: () => unknown }).toJSON();
    st.ancestors.add(obj);
    try {
      return convert(replaced, depth, st, problem, true);
    } finally {
      st.ancestors.delete(obj);
    }
  }
  if (depth > st.opts.maxDepth) {
    problem(
      "depth",
      `${st.opts.what} is nested deeper than ${st.opts.maxDepth} levels; deeper parts sent as "${marker(`truncated, deeper than ${st.opts.maxDepth} levels`)}"`,
    );
    return mark(st, `truncated, deeper than ${st.opts.maxDepth} levels`);
  }
  st.ancestors.add(obj);
  try {
    if (Array.isArray(obj) || obj instanceof Set || (ArrayBuffer.isView(obj) && !(obj instanceof DataView))) {
      const out: Json[] = [];
      for (const item of Array.isArray(obj) ? obj : Array.from(obj as Iterable<unknown>)) {
        if (runaway(st)) {
          problem("size", sizeWarning(st));
          out.push(mark(st, "truncated, too large"));
          break;
        }
        const c = convert(item, depth + 1, st, problem, false);
        out.push(c === OMIT ? null : c);
        st.bytes += 1;
      }
      return out;
    }
    if (obj instanceof ArrayBuffer || obj instanceof DataView) return mark(st, `${obj.byteLength} bytes of binary data`);
    if (obj instanceof Error) return { name: obj.name, message: toWellFormed(String(obj.message)) };
    const out: Record<string, Json> = Object.create(null);
    const entries: Iterable<[unknown, unknown]> =
      obj instanceof Map ? obj.entries() : Object.keys(obj).map((k) => [k, readProperty(obj, k, st, problem)]);
    for (const [rawKey, item] of entries) {
      if (runaway(st)) {
        problem("size", sizeWarning(st));
        out[marker("truncated")] = mark(st, "truncated, too large");
        break;
      }
      const c = convert(item, depth + 1, st, problem, false);
      if (c === OMIT) continue;
      const key = keyString(rawKey);
      const safeKey = toWellFormed(key);
      if (safeKey !== key) problem("surrogate", `${st.opts.what} holds strings that are not well-formed Unicode; lone surrogates sent as U+FFFD`);
      st.bytes += safeKey.length + 4;
      out[safeKey] = c;
    }
    return out;
  } finally {
    st.ancestors.delete(obj);
  }
}

function readProperty(obj: object, key: string, st: State, problem: (kind: string, message: string) => void): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch (err) {
    problem("getter", `${st.opts.what}: reading a property threw (${(err as Error)?.message ?? err}); left out`);
    return undefined;
  }
}

function keyString(k: unknown): string {
  if (typeof k === "string") return k;
  if (k === null || typeof k !== "object") return String(k);
  if (k instanceof Date) return Number.isNaN(k.getTime()) ? "null" : k.toISOString();
  try {
    return JSON.stringify(k) ?? String(k);
  } catch {
    return Object.prototype.toString.call(k);
  }
}

function sizeWarning(st: State): string {
  return `${st.opts.what} is larger than ${st.opts.maxBytes} bytes of JSON; the largest entries are sent as ` + `"${marker("truncated, N bytes")}"`;
}

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

/** Replaces the largest top-level entries by markers until the JSON fits `maxBytes`. */
function fitSize(out: Record<string, Json>, st: State, problem: (kind: string, message: string) => void): Record<string, Json> {
  const max = st.opts.maxBytes;
  let total = utf8(JSON.stringify(out));
  if (total <= max) return out;
  problem("size", sizeWarning(st));
  const sizes = Object.keys(out)
    .map((k) => ({ k, bytes: utf8(JSON.stringify(out[k])) }))
    .sort((a, b) => b.bytes - a.bytes);
  for (const { k, bytes } of sizes) {
    if (total <= max) break;
    const m = marker(`truncated, ${bytes} bytes`);
    const saved = bytes - utf8(JSON.stringify(m));
    if (saved <= 0) break; // the rest are smaller than their marker would be
    out[k] = m;
    total -= saved;
  }
  if (total <= max) return out;
  // So many keys that even their markers do not fit: keep the first ones that do.
  const kept: Record<string, Json> = Object.create(null);
  const note = marker("truncated");
  const all = Object.keys(out).length;
  // Room for the note, its value at its longest, the colon and the comma before it.
  let size = 2 + utf8(JSON.stringify(note)) + utf8(JSON.stringify(marker(`${all} more entries left out`))) + 2;
  for (const k of Object.keys(out)) {
    const add = utf8(JSON.stringify(k)) + utf8(JSON.stringify(out[k])) + 2;
    if (size + add > max) break;
    kept[k] = out[k]!;
    size += add;
  }
  kept[note] = marker(`${all - Object.keys(kept).length} more entries left out`);
  return kept;
}
