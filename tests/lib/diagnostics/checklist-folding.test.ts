// The checklist folds a finding the alerts hide under the same alert the panel shows it under:
// causes.ts is the one source of those relations (CAUSES for causes and symptoms, MISREADS for
// findings a cause makes other rules misread), and diagnose()'s suppressions are among them.
import { describe, expect, test } from "vitest";
import { SUPPRESSED_BY } from "../../../lib/diagnostics";
import { CAUSES, MISREADS, causes, foldedUnder, misreads, rootCauseOrder } from "../../../lib/diagnostics/causes";
import { checklist } from "../../../lib/diagnostics/checklist";
import { constant, decayingLoss, makeRun, series } from "./synth";

describe("one source of relations", () => {
  test("every finding diagnose() hides under a cause is a symptom or a misreading of that cause in causes.ts", () => {
    const missing: string[] = [];
    for (const s of SUPPRESSED_BY) for (const h of s.hides) if (!causes(s.cause, h) && !misreads(s.cause, h)) missing.push(`${s.cause} -> ${h}`);
    expect(missing).toEqual([]);
  });

  test("MISREADS names only known codes and never repeats a CAUSES relation", () => {
    const codes = new Set([...Object.keys(CAUSES), ...Object.values(CAUSES).flat()]);
    for (const [cause, findings] of Object.entries(MISREADS)) {
      expect(codes.has(cause)).toBe(true);
      for (const f of findings) {
        expect(codes.has(f)).toBe(true);
        expect(causes(cause, f), `${cause} -> ${f} is already a cause`).toBe(false);
      }
    }
  });

  test("for an active symptom, foldedUnder names the root the panel folds it under (every pair and triple of codes)", () => {
    const codes = [...new Set([...Object.keys(CAUSES), ...Object.values(CAUSES).flat()])].sort();
    const sev = ["critical", "warning", "info"];
    let compared = 0;
    for (let i = 0; i < codes.length; i++)
      for (let j = 0; j < codes.length; j++)
        for (let k = 0; k < codes.length; k++) {
          if (i === j || j === k || i === k || (i + j + k) % 5 !== 0) continue;
          // most severe first: the order the checklist is given the active codes in
          const items = [codes[i], codes[j], codes[k]].map((code, n) => ({ code, severity: sev[n] }));
          for (const r of rootCauseOrder(items)) {
            if (!r.causedBy) continue;
            expect(
              foldedUnder(
                r.code,
                items.map((x) => x.code),
              ),
            ).toBe(r.causedBy);
            compared++;
          }
        }
    expect(compared).toBeGreaterThan(100);
  });
});

describe("foldedUnder", () => {
  test.each<[string, string, string[], string | null]>([
    ["a hidden symptom of an active cause", "dead_relu", ["unshuffled_data"], "unshuffled_data"],
    ["a symptom whose cause is itself under an active root goes to that root", "loss_plateau", ["dead_relu", "lr_too_high"], "lr_too_high"],
    ["a misreading with no causal relation: memorized noise under no_learning", "overfitting", ["no_learning"], "no_learning"],
    ["a misreading goes where its explaining alert is shown", "majority_class", ["divergence", "lr_too_high"], "lr_too_high"],
    ["a cause is preferred to a misreading", "underfitting", ["divergence", "lr_too_low"], "lr_too_low"],
    ["no related active alert", "overfitting", ["lr_too_low"], null],
  ])("%s", (_name, finding, active, want) => {
    expect(foldedUnder(finding, active)).toBe(want);
  });
});

describe("the checklist folds through causes.ts", () => {
  // a healthy 10-class run with the train/val pieces the checklist reads; then a validation gap
  const run = (extra: Record<string, ReturnType<typeof series>> = {}) =>
    makeRun({
      config: { num_classes: 10 },
      series: {
        "train/loss": decayingLoss(400),
        "train/acc": series(20, (_, p) => 0.1 + 0.89 * (1 - Math.exp(-p / 0.15)), 20, 20),
        "val/acc": series(20, (_, p) => 0.1 + 0.6 * (1 - Math.exp(-p / 0.1)) - 0.1 * p, 20, 20),
        "val/loss": series(20, (_, p) => 2.3 * Math.exp(-p / 0.1) + 0.4 + 2 * p * p, 20, 20),
        lr: constant(80, 1e-3, 5),
        ...extra,
      },
    });

  test("a finding hidden as a misreading leads to the alert that explains it (overfitting under no_learning)", () => {
    const items = checklist(run(), { active: ["no_learning"] });
    const raised = items.filter((i) => i.state === "raised" && i.codes.includes("overfitting"));
    expect(raised.length).toBe(1);
    expect(raised[0].alert).toBe("no_learning");
    expect(raised[0].evidence).toContain("(overfitting, folded under no_learning)");
  });

  test("a finding with no related active alert leads to its own code", () => {
    const items = checklist(run(), { active: ["lr_too_low"] });
    const raised = items.find((i) => i.state === "raised" && i.codes.includes("overfitting"));
    expect(raised?.alert).toBe("overfitting");
  });
});
