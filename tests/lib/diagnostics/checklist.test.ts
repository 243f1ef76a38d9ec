import { describe, expect, test } from "vitest";
import { CHECKLIST_IDS, type ChecklistItem, checklist, checklistSummary } from "../../../lib/diagnostics/checklist";
import { diagnose } from "../../../lib/diagnostics";
import type { RunData } from "../../../lib/diagnostics/types";
import { type RunSpec, constant, decayingLoss, gauss, makeRun, series } from "./synth";

// A careful run: everything each item needs is logged, and nothing is wrong.
function healthy(): RunSpec {
  const g = gauss(7);
  const n = 400;
  const evals = (f: (p: number) => number) => series(20, (_, p) => f(p), 20, 20);
  return {
    config: { num_classes: 10, batch_size: 64, hyperparams: { activation: "relu" } },
    series: {
      "train/loss": series(n, (_, p) => Math.max(0.05, (0.1 + 2.2 * Math.exp(-p / 0.3)) * (1 + 0.05 * g())), 1, 0),
      "train/acc": evals((p) => 0.2 + 0.7 * (1 - Math.exp(-p / 0.3))),
      "val/acc": evals((p) => 0.19 + 0.69 * (1 - Math.exp(-p / 0.3))),
      "val/loss": evals((p) => 0.15 + 2.15 * Math.exp(-p / 0.3)),
      "update_ratio/fc1": series(n, () => 1e-3 * (1 + 0.1 * g()), 1, 0),
      "update_ratio/fc2": series(n, () => 1.2e-3 * (1 + 0.1 * g()), 1, 0),
      "act/fc1/dead_frac": series(n, () => 0.05 + 0.01 * g(), 1, 0),
      "grad/fc1/norm": series(n, () => 0.5 * (1 + 0.1 * g()), 1, 0),
      "grad/fc2/norm": series(n, () => 0.4 * (1 + 0.1 * g()), 1, 0),
      "weight/fc1/std": series(n, () => 0.05, 1, 0),
      "weight/fc2/std": series(n, () => 0.08, 1, 0),
    },
    events: [
      { type: "input_stats", step: 0, data: { mean: [0.01, -0.02, 0.0], std: [1, 0.9, 1.1] } },
      { type: "gradcheck", step: 0, data: { results: [{ param: "fc1.weight", rel_error: 3e-8 }] } },
    ],
    finished: true,
  };
}

const run = (spec: RunSpec): RunData => makeRun(spec);
const byId = (items: ChecklistItem[]) => new Map(items.map((i) => [i.id, i]));

/** A healthy spec with `edit` applied. */
function variant(edit: (s: RunSpec) => void): RunSpec {
  const s = healthy();
  edit(s);
  return s;
}

describe("checklist", () => {
  test("a careful healthy run raises nothing, and passes each item it has the data for, with its number", () => {
    const r = run(healthy());
    expect(diagnose(r)).toEqual([]);
    const items = byId(checklist(r, { imageKeys: [] }));
    expect([...items.keys()]).toEqual(CHECKLIST_IDS);
    for (const id of [
      "initial_loss",
      "gradient_check",
      "input_preprocessing",
      "initialization",
      "update_ratios",
      "activations_gradients",
      "train_val",
      "loss_shape",
    ]) {
      expect(items.get(id)!.state, `${id}: ${items.get(id)!.evidence}`).toBe("passed");
      expect(items.get(id)!.evidence).toMatch(/\d/); // the number that passed it
      expect(items.get(id)!.how).toBeNull();
    }
    expect(items.get("initial_loss")!.evidence).toMatch(/^initial loss 2\.\d+ vs ln 10 = 2\.3/);
    expect(items.get("update_ratios")!.evidence).toMatch(/^median update\/weight ratio 0\.001\d* over 2 layers/);
    // not a sanity run; filters are never judged by babysit
    expect(items.get("overfit_tiny")!.state).toBe("unknown");
    expect(items.get("first_layer_filters")!.state).toBe("unknown");
  });

  test("a run that logs only a loss: the loss items pass, the rest say the one call that would make them checkable", () => {
    const r = run({ config: { num_classes: 10 }, series: { "train/loss": decayingLoss(300) } });
    const items = byId(checklist(r));
    expect(items.get("initial_loss")!.state).toBe("passed");
    expect(items.get("loss_shape")!.state).toBe("passed");
    const how = Object.fromEntries([...items.values()].filter((i) => i.state === "unknown").map((i) => [i.id, i.how]));
    expect(how).toEqual({
      gradient_check: "call `gradcheck(model, x, loss_fn)`",
      overfit_tiny: 'run ~20 examples with config `sanity: "overfit_tiny"` (regularization off)',
      input_preprocessing: "call `log_input_stats(x)`",
      initialization: "call `watch(model, optimizer)` before the first step",
      update_ratios: "call `watch(model, optimizer)`",
      activations_gradients: "call `watch(model, optimizer)`",
      train_val: "log `val/loss` and `val/acc` at each evaluation",
      first_layer_filters: 'call `log_image("filters/conv1", filters_grid(model.conv1.weight))`',
    });
  });

  test("an empty run passes nothing", () => {
    const items = checklist(run({}));
    expect(items.every((i) => i.state === "unknown")).toBe(true);
    expect(checklistSummary(items).text).toBe(`0 passed, 0 raised, ${CHECKLIST_IDS.length} not checkable`);
  });

  // each item: the run's data makes its rule fire (raised, with the code), or takes away what it needs (unknown)
  test.each<[string, string, (s: RunSpec) => void]>([
    ["initial_loss", "bad_initial_loss", (s) => (s.series!["train/loss"] = series(400, (_, p) => 0.1 + 9 * Math.exp(-p / 0.3), 1, 0))],
    ["gradient_check", "gradcheck_failed", (s) => (s.events![1] = { type: "gradcheck", step: 0, data: { param: "fc1.weight", rel_error: 0.5 } })],
    [
      "input_preprocessing",
      "input_not_normalized",
      (s) => (s.events![0] = { type: "input_stats", step: 0, data: { mean: [120, 130, 110], std: [60, 70, 50] } }),
    ],
    [
      "update_ratios",
      "lr_too_high",
      (s) => (s.series!["update_ratio/fc1"] = constant(400, 0.3)) && (s.series!["update_ratio/fc2"] = constant(400, 0.3)),
    ],
    ["activations_gradients", "dead_relu", (s) => (s.series!["act/fc1/dead_frac"] = constant(400, 0.97))],
    ["overfit_tiny", "overfit_sanity_failed", (s) => (s.config!.sanity = "overfit_tiny")],
  ])("%s reads raised when %s fires, and names the alert", (id, code, edit) => {
    const r = run(variant(edit));
    const item = byId(checklist(r)).get(id)!;
    expect(item.state).toBe("raised");
    expect(item.alert).toBe(code);
    expect(item.codes).toContain(code);
  });

  // A ported SummaryWriter script (Loss/train, loss/val, Accuracy/val, no train accuracy) read
  // "loss/train 0.475 vs Accuracy/val 0.886": the item compares like with like, or names what it has.
  test.each<[string, (s: RunSpec) => void, RegExp]>([
    ["no train accuracy: the losses", (s) => delete s.series!["train/acc"], /^train\/loss [0-9.]+ vs val\/loss [0-9.]+ over/],
    ["all four: the accuracies", () => {}, /^train\/acc [0-9.]+ vs val\/acc [0-9.]+ over/],
  ])("train_val with %s", (_label, edit, want) => {
    const item = byId(checklist(run(variant(edit)))).get("train_val")!;
    expect(item.state).toBe("passed");
    expect(item.evidence).toMatch(want);
  });

  // A new user's run with unnormalised validation inputs read "Input preprocessing: passed" beside the
  // train_val_mismatch alert: a mismatch read from the input statistics is the item's finding too.
  const valStats = (mean: number[], std: number[]) => (s: RunSpec) =>
    s.events!.push({ type: "input_stats", step: 50, data: { mean, std, n: 64, split: "val" } });
  test.each<[string, (s: RunSpec) => void, string, RegExp]>([
    ["validation inputs left unnormalised", valStats([120, 130, 110], [60, 70, 50]), "raised", /^Validation inputs are on another scale/],
    [
      "validation inputs preprocessed alike",
      valStats([0.02, -0.01, 0.01], [1.05, 0.95, 1]),
      "passed",
      /; validation inputs compared over 3 features$/,
    ],
    ["validation inputs of another width", valStats([0, 0], [1, 1]), "passed", /; validation inputs have 2 features, not comparable$/],
    ["no validation inputs", () => {}, "passed", /; validation inputs not logged \(evaluate after `model\.eval\(\)`/],
  ])("input_preprocessing with %s", (_what, edit, state, evidence) => {
    const item = byId(checklist(run(variant(edit)))).get("input_preprocessing")!;
    expect(item.state).toBe(state);
    expect(item.evidence).toMatch(evidence);
    if (state === "raised") expect(item.alert).toBe("train_val_mismatch");
  });

  test("a train_val_mismatch read from the curves leaves input preprocessing to its own rule", () => {
    const items = byId(checklist(run(healthy()), { active: ["train_val_mismatch"] }));
    expect(items.get("train_val")!).toMatchObject({ state: "raised", alert: "train_val_mismatch" });
    expect(items.get("input_preprocessing")!.state).toBe("passed");
  });

  test("a stored active alert makes its item raised even before the rule sees it again", () => {
    const item = byId(checklist(run(healthy()), { active: ["overfitting"] })).get("train_val")!;
    expect(item).toMatchObject({ state: "raised", alert: "overfitting" });
  });

  test.each<[string, (s: RunSpec) => void, string]>([
    ["initial_loss", (s) => delete s.config!.num_classes, "set `num_classes` in the run config"],
    [
      "initial_loss",
      (s) => (s.series!["train/loss"] = series(400, (_, p) => 2.3 - p, 1, 100)),
      "log `train/loss` at step 0, before the first update",
    ],
    ["initial_loss", (s) => (s.config!.loss = "mse"), ""],
    ["gradient_check", (s) => s.events!.pop(), "call `gradcheck(model, x, loss_fn)`"],
    ["input_preprocessing", (s) => s.events!.shift(), "call `log_input_stats(x)`"],
    ["update_ratios", (s) => delete s.series!["update_ratio/fc1"] && delete s.series!["update_ratio/fc2"], "call `watch(model, optimizer)`"],
    ["train_val", (s) => delete s.series!["val/acc"] && delete s.series!["val/loss"], "log `val/loss` and `val/acc` at each evaluation"],
    [
      "train_val",
      (s) => (s.series!["val/acc"] = series(2, () => 0.5, 20, 20)) && delete s.series!["val/loss"],
      "log `val/acc` at 5 evaluations or more",
    ],
    ["loss_shape", (s) => (s.series!["train/loss"] = series(12, (_, p) => 2.3 - p, 1, 0)), "log `train/loss` every step"],
    ["overfit_tiny", (s) => (s.config!.sanity = "overfit_tiny") && (s.finished = false), "call `finish()`"],
  ])("%s is not checkable without its data (%#)", (id, edit, how) => {
    const item = byId(checklist(run(variant(edit)))).get(id)!;
    expect(item.state).toBe("unknown");
    expect(item.how ?? "").toBe(how);
    expect(item.evidence.length).toBeGreaterThan(0);
  });

  test("a sanity run that memorized its subset passes with its final accuracy", () => {
    const s = variant((x) => {
      x.config!.sanity = "overfit_tiny";
      x.series!["train/acc"] = series(20, (_, p) => 0.1 + 0.9 * p, 20, 20);
    });
    const item = byId(checklist(run(s))).get("overfit_tiny")!;
    expect(item.state).toBe("passed");
    expect(item.evidence).toBe("final train accuracy 1 (at least 0.99)");
  });

  test("a finding folded under its root cause still raises the item, which leads to the cause's alert", () => {
    const r = run(variant((s) => (s.series!["act/fc1/dead_frac"] = constant(400, 0.97))));
    const item = byId(checklist(r, { active: ["unshuffled_data"] })).get("activations_gradients")!;
    expect(item.state).toBe("raised");
    expect(item.alert).toBe("unshuffled_data");
    expect(item.evidence).toContain("(dead_relu, folded under unshuffled_data)");
  });

  test("logged images are named, never passed: babysit does not judge pictures", () => {
    const item = byId(checklist(run(healthy()), { imageKeys: ["filters/conv1"] })).get("first_layer_filters")!;
    expect(item.state).toBe("unknown");
    expect(item.how).toBeNull();
    expect(item.evidence).toContain("filters/conv1");
  });

  test("a rule disabled in config.babysit.disable does not pass its item", () => {
    const item = byId(checklist(run(variant((s) => (s.config!.babysit = { disable: ["gradcheck_failed"] }))))).get("gradient_check")!;
    expect(item.state).toBe("unknown");
    expect(item.evidence).toContain("disabled");
  });

  test("the summary line counts items and names the raised codes once, in checklist order", () => {
    const items = checklist(run(healthy()), { active: ["lr_too_high", "overfitting"], imageKeys: [] });
    const s = checklistSummary(items);
    expect(s.raisedCodes).toEqual(["lr_too_high", "overfitting"]);
    expect(s.text).toBe(`${s.passed} passed, 3 raised (lr_too_high, overfitting), ${s.unknown} not checkable`);
    expect(s.passed + s.raised + s.unknown).toBe(CHECKLIST_IDS.length);
  });
});

describe("a run made without the SDK gets advice about its logs, not SDK calls", () => {
  const lossOnly = (config: Record<string, unknown> = {}): RunData =>
    run({ config, series: { "train/loss": series(200, (_, p) => 0.2 + 2 * Math.exp(-p / 0.3), 1, 0) }, finished: true });
  const SDK_CALL = /call `(gradcheck|watch|log_input_stats|log_image)\(/;
  const command = { command: "python train.py --lr 0.1", argv: ["python", "train.py", "--lr", "0.1"], cwd: "/tmp" };
  test.each<[string, RunData, string | undefined, string | null]>([
    ["an imported run (imp- id)", lossOnly(), "imp-0123456789abcdef0123456789abcdef", "not checkable from imported logs: "],
    ["a `babysit run` command (config.command + argv)", lossOnly(command), "20261130-002702-b4457eae", "not checkable from a command's output: "],
    ["an SDK run keeps its SDK calls", lossOnly(), "20261130-002702-b4457eae", null],
    ["borderline: a config key named command alone (a user's hyperparameter) is still an SDK run", lossOnly({ command: "fit" }), undefined, null],
    ["borderline: an id merely containing imp- is an SDK run", lossOnly(), "x-imp-1", null],
  ])("%s", (_, r, runId, prefix) => {
    const items = byId(checklist(r, { runId, imageKeys: [] }));
    for (const id of ["gradient_check", "input_preprocessing", "initialization", "update_ratios", "activations_gradients", "first_layer_filters"]) {
      const item = items.get(id)!;
      expect(item.state).toBe("unknown");
      if (prefix === null) {
        expect(item.how).not.toMatch(/^not checkable from/);
      } else {
        expect(item.how!.startsWith(prefix), `${id}: ${item.how}`).toBe(true);
        expect(item.how).not.toMatch(SDK_CALL);
        expect(item.how).toMatch(/stream the run with the SDK/);
      }
    }
    // advice that a log can follow stays as it is
    expect(items.get("train_val")!.how).toBe("log `val/loss` and `val/acc` at each evaluation");
  });
  // "set num_classes in the run config" was no advice for a run whose config no one can write
  test.each<[string, string | undefined, Record<string, unknown>, string]>([
    ["an SDK run", undefined, {}, "set `num_classes` in the run config"],
    ["an imported run", "imp-00", {}, "not checkable from imported logs without `num_classes` among their hyperparameters"],
    ["a `babysit run` command", "cli-00", command, "not checkable from a command's output: stream the run with the SDK"],
  ])("the number of classes, for %s", (_what, runId, config, how) => {
    const item = byId(checklist(lossOnly(config), { runId })).get("initial_loss")!;
    expect(item.state).toBe("unknown");
    expect(item.how!.startsWith(how), item.how!).toBe(true);
  });
  test("the update-ratio advice for imported logs names the series the rules read", () => {
    const item = byId(checklist(lossOnly(), { runId: "imp-00" })).get("update_ratios")!;
    expect(item.how).toContain("`update_ratio/<layer>`");
  });
});
