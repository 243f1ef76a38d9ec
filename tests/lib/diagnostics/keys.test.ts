import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { compileKeyPattern, matchKeyPattern, resolveKeys } from "@/lib/diagnostics/keys";
import type { RunData, SeriesPoints } from "@/lib/diagnostics/types";

// config.babysit.keys {layer} patterns: matched without building a RegExp from user text, with the
// documented meaning (docs/diagnostics.md): each {layer} is one or more characters of any kind,
// the whole key must match, the first {layer} names the layer.

/** What the matcher must agree with: the anchored regex the patterns used to become (small inputs only). */
function reference(pattern: string, key: string): string | null {
  const parts = pattern.split("{layer}").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const m = key.match(new RegExp(`^${parts.join("(.+)")}$`, "s"));
  return m ? m[1] : null;
}

const match = (pattern: string, key: string) => matchKeyPattern(compileKeyPattern(pattern)!, key);

describe("{layer} patterns", () => {
  test.each([
    ["ratios/{layer}", "ratios/fc1", "fc1"],
    ["ratios/{layer}", "ratios/enc/block.0/attn", "enc/block.0/attn"],
    ["ratios/{layer}", "ratios/", null],
    ["ratios/{layer}", "Ratios/fc1", null], // case-sensitive
    ["ratios/{layer}", "xratios/fc1", null],
    ["ratios.{layer}", "ratios.a", "a"],
    ["ratios.{layer}", "ratiosXa", null], // a dot is a dot
    ["{layer}/dead", "fc1/dead", "fc1"],
    ["{layer}/dead", "a/dead/dead", "a/dead"],
    ["relu_dead/{layer}/frac", "relu_dead/x/frac", "x"],
    ["relu_dead/{layer}/frac", "relu_dead//frac", null],
    ["{layer}", "anything at all", "anything at all"],
    ["a{layer}a", "aa", null],
    ["a{layer}a", "aaa", "a"],
    ["{layer}{layer}", "ab", "a"],
    ["{layer}{layer}", "abc", "ab"], // the first {layer} takes what it can
    ["{layer}/{layer}", "a/b/c", "a/b"],
    ["x/{layer}/y/{layer}/z", "x/1/y/2/y/3/z", "1/y/2"],
    ["(.+)[{layer}]", "(.+)[fc]", "fc"], // regex syntax in a pattern is plain text
    ["^$|{layer}\\d", "^$|q\\d", "q"],
    ["grad/{layer}/std", "grad/🚀層/std", "🚀層"],
    ["no placeholder", "no placeholder", undefined],
  ])("%s on %s -> %s", (pattern, key, want) => {
    const p = compileKeyPattern(pattern);
    if (want === undefined) return expect(p).toBeNull();
    expect(matchKeyPattern(p!, key)).toBe(want);
    expect(reference(pattern, key)).toBe(want);
  });

  test("agrees with the regex it replaces on generated patterns and keys", () => {
    const piece = fc.constantFrom("a", "b", "/", "ab", "{layer}");
    const pattern = fc
      .array(piece, { minLength: 1, maxLength: 8 })
      .map((a) => a.join(""))
      .filter((p) => p.includes("{layer}"));
    const key = fc.array(fc.constantFrom("a", "b", "/"), { maxLength: 14 }).map((a) => a.join(""));
    fc.assert(
      fc.property(pattern, key, (p, k) => match(p, k) === reference(p, k)),
      { numRuns: 3000 },
    );
  });

  test.each([
    ["24 placeholders, a 60-character key that almost matches", `${"{layer}/".repeat(24)}end`, `${"a/".repeat(30)}`, null],
    // 23 later placeholders and 24 a's take 47 characters at least: the first {layer} keeps 13
    ["24 placeholders on 60 a's", "{layer}a".repeat(24), "a".repeat(60), "a".repeat(13)],
    ["36 placeholders, a 200-character key", `${"{layer}".repeat(36)}x`, "y".repeat(200), null],
    ["36 placeholders, a 200-character key that ends right", `${"{layer}".repeat(36)}x`, `${"y".repeat(199)}x`, "y".repeat(164)],
    ["a 256-character pattern of placeholders and literals", `${"{layer}ab".repeat(28)}abc`, "ab".repeat(100), null],
  ])("a hostile pattern returns at once: %s", (_name, pattern, key, want) => {
    // the regex this replaces backtracks for minutes (hours) here; printed, not asserted
    const t0 = performance.now();
    const got = match(pattern, key);
    const ms = performance.now() - t0;
    console.log(`keys: "${_name}" answered ${JSON.stringify(got)} in ${ms.toFixed(3)} ms`);
    expect(got).toBe(want);
  });
});

const pts = (n: number): SeriesPoints =>
  ({ steps: Array.from({ length: n }, (_, i) => i), values: Array(n).fill(0.5), times: Array(n).fill(0) }) as SeriesPoints;
const run = (keys: Record<string, unknown>, series: string[]): RunData =>
  ({ config: { babysit: { keys } }, series: new Map(series.map((k) => [k, pts(3)])), histograms: new Map(), events: [], finished: false }) as RunData;

describe("resolveKeys with user patterns", () => {
  test("the hostile mapping from the issue resolves (two dozen {layer} against 60-character keys)", () => {
    const hostile = `${"{layer}/".repeat(24)}x`;
    const keys = Array.from({ length: 50 }, (_, i) => `${"a/".repeat(29)}${i}`);
    const r = resolveKeys(run({ update_ratio: hostile, dead_frac: [hostile, "relu/{layer}"] }, [...keys, "relu/fc1"]));
    expect([...r.layers.keys()]).toEqual(["fc1"]);
    expect(r.layers.get("fc1")!.dead_frac!.key).toBe("relu/fc1");
  });

  test(`a pattern longer than ${LIMITS.keyPatternMaxLength.value} code points is ignored`, () => {
    const long = `${"x".repeat(LIMITS.keyPatternMaxLength.value)}{layer}`;
    const r = resolveKeys(run({ update_ratio: [long, "ratio/{layer}"] }, [`${"x".repeat(LIMITS.keyPatternMaxLength.value)}fc`, "ratio/fc2"]));
    expect([...r.layers.keys()]).toEqual(["fc2"]);
  });

  test(`only the first ${LIMITS.keyPatternsMax.value} patterns of a run count`, () => {
    const many = Array.from({ length: LIMITS.keyPatternsMax.value }, (_, i) => `p${i}/{layer}`);
    const r = resolveKeys(
      run({ update_ratio: [...many, "late/{layer}"], dead_frac: "later/{layer}" }, [
        "p0/a",
        `p${LIMITS.keyPatternsMax.value - 1}/b`,
        "late/c",
        "later/d",
      ]),
    );
    expect([...r.layers.keys()]).toEqual(["a", "b"]);
  });
});

describe("keys that differ only by case name one series: the one with more points is read", () => {
  const pts = (n: number): SeriesPoints => ({ steps: Array.from({ length: n }, (_, i) => i), values: Array.from({ length: n }, () => 1) });
  const run = (series: Record<string, number>, config: Record<string, unknown> = {}): RunData => ({
    config,
    series: new Map(Object.entries(series).map(([k, n]) => [k, pts(n)])),
    histograms: new Map(),
    events: [],
    finished: false,
  });
  test.each<[string, Record<string, number>, Record<string, unknown>, string | undefined]>([
    ["the exact alias spelling is the sparser series", { "Loss/train": 500, "loss/train": 5 }, {}, "Loss/train"],
    ["the exact alias spelling has more points", { "Loss/train": 5, "loss/train": 500 }, {}, "loss/train"],
    ["borderline: as many points, the exact spelling", { "Loss/train": 50, "loss/train": 50 }, {}, "loss/train"],
    ["borderline: as many points, no exact spelling: the first logged", { "LOSS/TRAIN": 50, "Loss/Train": 50 }, {}, "LOSS/TRAIN"],
    ["one spelling only", { "Loss/Train": 3 }, {}, "Loss/Train"],
    [
      "a key the user named is read as named, even when sparser",
      { "Loss/train": 500, "loss/train": 5 },
      { babysit: { keys: { train_loss: "loss/train" } } },
      "loss/train",
    ],
  ])("%s", (_, series, config, key) => {
    expect(resolveKeys(run(series, config)).scalars.train_loss?.key).toBe(key);
  });
});
