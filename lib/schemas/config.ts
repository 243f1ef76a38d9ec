import { LIMITS, isWellFormed } from "../contract/limits";

// A run's config is free-form JSON, so it is checked by walking it with an explicit stack: a
// recursive walk (or JSON.stringify) would overflow on a config nested thousands deep.

export interface ConfigProblem {
  /** Path below `config`, e.g. ["model", "layers", 2]. */
  path: (string | number)[];
  message: string;
}

const DEPTH_PROBLEM = `must be nested at most ${LIMITS.configDepth.value} levels deep (the config object itself is level 1)`;
const UNICODE_PROBLEM = "must be well-formed Unicode (no lone surrogates)";

/** Nesting depth and well-formed keys and strings; null when fine. Never recurses. */
export function configShapeProblem(config: Record<string, unknown>): ConfigProblem | null {
  const stack: { value: unknown; depth: number; path: (string | number)[] }[] = [{ value: config, depth: 1, path: [] }];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const { value, depth, path } = top;
    if (typeof value === "string") {
      if (!isWellFormed(value)) return { path, message: UNICODE_PROBLEM };
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    if (depth > LIMITS.configDepth.value) return { path: [], message: DEPTH_PROBLEM };
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: depth + 1, path: [...path, i] });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      if (!isWellFormed(key)) return { path: [...path, key], message: `keys ${UNICODE_PROBLEM}` };
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, path: [...path, key] });
    }
  }
  return null;
}

/** True when a JSON value is nested deeper than `max` levels (the value itself is level 1). Never recurses. */
export function exceedsDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [v, depth] = top;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Size of the config as stored (UTF-8 JSON); call only on a config whose depth was checked. */
export function configBytes(config: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(config), "utf8");
}

export function configSizeProblem(bytes: number): ConfigProblem | null {
  if (bytes <= LIMITS.configBytes.value) return null;
  return { path: [], message: `is ${bytes} bytes of UTF-8 JSON; at most ${LIMITS.configBytes.value} are allowed` };
}

/** Every check of a config, in order (shape first, so that measuring it cannot overflow). */
export function configProblem(config: Record<string, unknown>): ConfigProblem | null {
  return configShapeProblem(config) ?? configSizeProblem(configBytes(config));
}
