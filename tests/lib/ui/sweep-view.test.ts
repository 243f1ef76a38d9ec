import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import type { Space } from "@/lib/sweeps/types";
import {
  type SweepTrialView,
  axisPosition,
  paramNames,
  paramRange,
  paramScale,
  searchedNames,
  sortTrials,
  stageChain,
  objectiveText,
  suggestionSnippet,
} from "@/lib/ui/sweep-view";

// The sweep page's reading of the API: which axis is logarithmic, the table's order (NaN/Inf and
// failures after every number, in both directions), the Python snippet (valid Python whatever
// the names), and the chain of stages.

function trial(
  runId: string,
  params: Record<string, number | string | boolean | null>,
  objective: SweepTrialView["objective"],
  extra: Partial<SweepTrialView> = {},
): SweepTrialView {
  return {
    runId,
    name: runId,
    index: Number(runId.replace(/\D/g, "")) || 0,
    status: "finished",
    params,
    objective,
    failed: false,
    failure: null,
    alerts: [],
    curve: [],
    startedAt: null,
    finishedAt: null,
    durationS: null,
    ...extra,
  };
}

describe("paramScale", () => {
  test.each([
    ["log_uniform is log", { distribution: "log_uniform", low: 1e-4, high: 1e-1 }, [1e-3], "log"],
    ["uniform is linear even over decades", { distribution: "uniform", low: 0.001, high: 1 }, [0.5], "linear"],
    ["int_uniform is linear", { distribution: "int_uniform", low: 1, high: 4 }, [2], "linear"],
    ["choice of strings is categories", { distribution: "choice", values: ["relu", "tanh"] }, ["relu"], "category"],
    ["choice of numbers over decades is log", { distribution: "choice", values: [16, 256, 4096] }, [16], "log"],
    ["no spec: positive values over 2+ decades are log (inferred)", undefined, [1e-4, 3e-3, 0.05], "log"],
    ["no spec: values within a decade are linear", undefined, [0.1, 0.5, 0.9], "linear"],
    ["no spec: a zero makes it linear", undefined, [0, 1e-3, 1], "linear"],
    ["no spec: strings are categories", undefined, ["a", "b"], "category"],
    ["no spec: booleans are categories", undefined, [true, false], "category"],
  ] as const)("%s", (_, spec, values, want) => {
    expect(paramScale(spec as never, [...values])).toBe(want);
  });

  test("the range is the space's, else the trials' extent", () => {
    expect(paramRange({ distribution: "log_uniform", low: 1e-4, high: 1e-1 }, [0.01])).toEqual({ low: 1e-4, high: 1e-1 });
    expect(paramRange(undefined, [0.3, 0.1, Number.NaN, 0.2])).toEqual({ low: 0.1, high: 0.3 });
  });

  test("axis positions: log axes place decades evenly", () => {
    const r = { low: 1e-4, high: 1e-2 };
    expect(axisPosition(1e-3, "log", r, [])).toBeCloseTo(0.5);
    expect(axisPosition(0.5, "linear", { low: 0, high: 1 }, [])).toBeCloseTo(0.5);
    expect(axisPosition("tanh", "category", null, ["relu", "tanh", "gelu"])).toBeCloseTo(0.5);
    expect(axisPosition(undefined, "linear", { low: 0, high: 1 }, [])).toBeNull();
  });
});

describe("sortTrials", () => {
  const ts = [
    trial("t0", { lr: 0.1 }, 0.5),
    trial("t1", { lr: 0.01 }, "NaN"),
    trial("t2", { lr: 0.001 }, 0.9),
    trial("t3", { lr: 0.03 }, null, { failed: true, failure: "diverged" }),
    trial("t4", { lr: 0.003 }, "Infinity"),
    trial("t5", { lr: 0.02 }, 0.7),
  ];
  const ids = (xs: SweepTrialView[]) => xs.map((t) => t.runId);
  test.each([
    ["max, best first", "max", false, ["t2", "t5", "t0"]],
    ["max, worst first", "max", true, ["t0", "t5", "t2"]],
    ["min, best first", "min", false, ["t0", "t5", "t2"]],
    ["min, worst first", "min", true, ["t2", "t5", "t0"]],
  ] as const)("objective %s: numbers in order, then NaN/Inf/failed (never as 0)", (_, goal, desc, head) => {
    const got = ids(sortTrials(ts, { kind: "objective" }, desc, goal));
    expect(got.slice(0, 3)).toEqual(head);
    expect(new Set(got.slice(3))).toEqual(new Set(["t1", "t3", "t4"]));
  });
  test("by a parameter", () => {
    expect(ids(sortTrials(ts, { kind: "param", name: "lr" }, false, "max"))).toEqual(["t2", "t4", "t1", "t5", "t3", "t0"]);
  });
  test("a parameter named like an Object member is a parameter like any other", () => {
    const odd = [trial("a1", JSON.parse('{"__proto__": 2}'), 1), trial("a2", JSON.parse('{"__proto__": 1}'), 1)];
    expect(ids(sortTrials(odd, { kind: "param", name: "__proto__" }, false, "max"))).toEqual(["a2", "a1"]);
    expect(paramNames({ space: {}, trials: odd })).toEqual(["__proto__"]);
  });
});

// pages draw exactly what was logged: a trial whose objective metric logged NaN/Inf failed (objective
// null, failure diverged) and its cell shows the value it logged, never a blank or a 0
describe("objectiveText", () => {
  test.each([
    ["a value", trial("r1", {}, 0.91, { objectiveRaw: 0.91 }), "0.91"],
    ["NaN logged", trial("r2", {}, null, { objectiveRaw: "NaN", failed: true, failure: "diverged" }), "NaN"],
    ["Infinity logged", trial("r3", {}, null, { objectiveRaw: "Infinity", failed: true, failure: "diverged" }), "+Inf"],
    ["-Infinity logged", trial("r4", {}, null, { objectiveRaw: "-Infinity", failed: true, failure: "diverged" }), "-Inf"],
    ["crashed before logging it", trial("r5", {}, null, { objectiveRaw: null, failed: true, failure: "crashed" }), ""],
    ["not logged yet", trial("r6", {}, null, { status: "running" }), "–"],
    ["an older server (no objectiveRaw)", trial("r7", {}, 0.5), "0.5"],
  ])("%s", (_what, t, want) => {
    expect(objectiveText(t)).toBe(want);
  });
});

// A sweep with "epochs": 3 drew a scatter of one dot column and a flat parallel axis for it.
describe("searchedNames: the parameters that get a chart", () => {
  const ts = [trial("t0", { lr: 0.1, epochs: 3, act: "relu", seed: 1 }, 0.5), trial("t1", { lr: 0.01, epochs: 3, act: "relu", seed: 2 }, 0.6)];
  test.each<[string, Space, string[]]>([
    [
      "a declared space: its distributions (not its fixed epochs), and a varying parameter it does not name",
      { lr: { distribution: "log_uniform", low: 1e-3, high: 1 }, epochs: 3, act: { distribution: "choice", values: ["relu", "tanh"] } },
      ["lr", "act", "seed"],
    ],
    ["an empty space: the parameters whose trials differ", {}, ["lr", "seed"]],
    [
      "a refined stage: a choice of one value is fixed",
      { lr: { distribution: "log_uniform", low: 1e-3, high: 1 }, act: { distribution: "choice", values: ["relu"] } },
      ["lr", "seed"],
    ],
    ["a parameter the space does not name: by its values", { epochs: 3 }, ["lr", "seed"]],
  ])("%s", (_label, space, want) => {
    expect(searchedNames({ space, trials: ts })).toEqual(want);
  });
});

describe("suggestionSnippet", () => {
  const space: Space = Object.assign(Object.create(null), {
    lr: { distribution: "log_uniform", low: 0.01, high: 1 },
    'name"); import os; os.system("x': { distribution: "uniform", low: 0, high: 0.5 },
    act: { distribution: "choice", values: ["relu", 'ta"nh', null, true] },
    layers: { distribution: "int_uniform", low: 1, high: 4 },
    batch: 32,
  });
  const snippet = suggestionSnippet(
    { id: 'sw"1\n', parentId: null, project: "p\n'x", name: "coarse", stage: 1, objective: { metric: "val/acc", goal: "max", declared: true } },
    space,
  );

  test("names the next stage and writes each distribution", () => {
    expect(snippet).toContain('name="coarse-s2"');
    expect(snippet).toContain('"lr": babysit.log_uniform(0.01, 1),');
    expect(snippet).toContain('babysit.choice(["relu", "ta\\"nh", None, True])');
    expect(snippet).toContain('"layers": babysit.int_uniform(1, 4),');
    expect(snippet).toContain('"batch": 32,');
  });

  test("links the new sweep to this one (parent) and says which stage it is", () => {
    expect(snippet).toContain('parent="sw\\"1\\n",  # this sweep: the new one is its stage 2');
    const third = suggestionSnippet(
      { id: "abc", parentId: "s0", project: "p", name: "fine", stage: 2, objective: { metric: "loss", goal: "min", declared: false } },
      space,
    );
    expect(third).toContain('name="fine-s3"');
    expect(third).toContain('parent="abc",  # this sweep: the new one is its stage 3');
  });

  // the page of a stage with no trials yet (just made by Refine) shows how to run that stage itself
  test("with a name: joins that sweep, with its budget as the loop's count", () => {
    const own = suggestionSnippet(
      { id: "s2", parentId: "s1", project: "p", name: "coarse-s2", stage: 2, objective: { metric: "val/acc", goal: "max", declared: true } },
      space,
      12,
      "coarse-s2",
    );
    expect(own).toContain('name="coarse-s2",');
    expect(own).toContain('parent="s1",  # stage 2 of the search');
    expect(own).not.toContain("coarse-s2-s3");
    expect(own).toContain("for trial in sweep.trials(12):");
  });

  // hostile names stay inside their string literals: Python parses the snippet and finds exactly the space
  test("is valid Python whatever the names", () => {
    const stub =
      "import sys, types, ast\nsrc = sys.stdin.read()\ntree = ast.parse(src)\ncall = tree.body[1].value\nkw = {k.arg: k.value for k in call.keywords}\nprint(len(kw['space'].keys), ast.literal_eval(kw['project']), repr(ast.literal_eval(kw['parent'])))\n";
    let out = "";
    try {
      out = execFileSync("/usr/bin/python3", ["-c", stub], { input: snippet }).toString();
    } catch (e) {
      throw new Error(`python could not parse:\n${snippet}\n${e}`);
    }
    expect(out.trim()).toBe(`5 p\n'x 'sw"1\\n'`);
  });
});

describe("stageChain", () => {
  const list = [
    { id: "s1", name: "coarse", project: "p", stage: 1, parentId: null, trials: 8, best: null, createdAt: 1 },
    { id: "s2", name: "coarse-s2", project: "p", stage: 2, parentId: "s1", trials: 6, best: null, createdAt: 2 },
    { id: "s3", name: "coarse-s3", project: "p", stage: 3, parentId: "s2", trials: 0, best: null, createdAt: 3 },
    { id: "s2b", name: "coarse-s2b", project: "p", stage: 2, parentId: "s1", trials: 0, best: null, createdAt: 4 },
  ];
  test("ancestors, itself, then each stage of descendants", () => {
    const self = { id: "s2", name: "coarse-s2", stage: 2, parentId: "s1", children: [{ id: "s3", name: "coarse-s3", stage: 3 }] };
    expect(stageChain(self, list).map((l) => l.map((s) => s.id))).toEqual([["s1"], ["s2"], ["s3"]]);
    const first = {
      id: "s1",
      name: "coarse",
      stage: 1,
      parentId: null,
      children: [list[1], list[3]].map(({ id, name, stage }) => ({ id, name, stage })),
    };
    expect(stageChain(first, list).map((l) => l.map((s) => s.id))).toEqual([["s1"], ["s2", "s2b"], ["s3"]]);
  });
  test("a parent cycle in the data ends instead of looping", () => {
    const cyc = [
      { ...list[0], parentId: "s2" },
      { ...list[1], parentId: "s1" },
    ];
    const self = { id: "s2", name: "coarse-s2", stage: 2, parentId: "s1", children: [] };
    expect(stageChain(self, cyc).length).toBeLessThanOrEqual(3);
  });
});
