import { describe, expect, test } from "vitest";
import { CAUSES, DIAGNOSIS_CODES, causes, rootCauseOrder } from "../../../lib/diagnostics";

// Root cause first: the cause -> symptom relation between alerts active together, and the order
// it gives (a cause above its symptoms, whatever their severities).

type A = { code: string; severity: string; status?: string };
const a = (code: string, severity: string, status = "active"): A => ({ code, severity, status });

describe("the cause table", () => {
  test("names only diagnosis codes", () => {
    for (const [cause, symptoms] of Object.entries(CAUSES)) {
      expect(DIAGNOSIS_CODES).toContain(cause);
      for (const s of symptoms) expect(DIAGNOSIS_CODES).toContain(s);
    }
  });

  test("has no cycle: no diagnosis causes itself, directly or through others", () => {
    for (const code of DIAGNOSIS_CODES) expect(causes(code, code)).toBe(false);
  });

  test.each([
    ["lr_too_high", "dead_relu"],
    ["lr_too_high", "divergence"],
    ["lr_too_high", "exploding_gradients"],
    ["lr_too_high", "noisy_loss"],
    ["vanishing_gradients", "no_learning"],
    ["saturated_activations", "loss_plateau"],
    ["bad_initial_loss", "saturated_activations"],
    ["bad_initial_loss", "no_learning"], // through saturated_activations
    ["unshuffled_data", "noisy_loss"],
    ["input_not_normalized", "saturated_activations"],
    ["input_not_normalized", "exploding_gradients"],
    ["input_not_normalized", "underfitting"], // through a chain
    ["lr_too_low", "loss_plateau"],
    ["exploding_gradients", "divergence"],
  ])("%s causes %s", (cause, symptom) => {
    expect(causes(cause, symptom)).toBe(true);
    expect(causes(symptom, cause)).toBe(false);
  });

  test.each([
    ["dead_relu", "lr_too_high"],
    ["noisy_loss", "unshuffled_data"],
    ["overfitting", "lr_too_high"],
    ["search_boundary", "dead_relu"],
    ["divergence", "exploding_gradients"],
  ])("%s does not cause %s", (cause, symptom) => {
    expect(causes(cause, symptom)).toBe(false);
  });
});

const view = (xs: ReturnType<typeof rootCauseOrder<A>>) => xs.map((x) => [x.code, x.causedBy ?? null, x.symptoms ?? null]);

describe("rootCauseOrder", () => {
  test.each<{ name: string; input: A[]; want: [string, string | null, string[] | null][] }>([
    {
      name: "a critical symptom sorts below the warning that caused it",
      input: [a("dead_relu", "critical"), a("lr_too_high", "warning")],
      want: [
        ["lr_too_high", null, ["dead_relu"]],
        ["dead_relu", "lr_too_high", null],
      ],
    },
    {
      name: "several symptoms fold under one cause, most severe first",
      input: [a("noisy_loss", "info"), a("divergence", "critical"), a("lr_too_high", "warning"), a("dead_relu", "warning")],
      want: [
        ["lr_too_high", null, ["divergence", "dead_relu", "noisy_loss"]],
        ["divergence", "lr_too_high", null],
        ["dead_relu", "lr_too_high", null],
        ["noisy_loss", "lr_too_high", null],
      ],
    },
    {
      name: "a chain folds under its root (lr_too_high -> exploding_gradients -> divergence)",
      input: [a("divergence", "critical"), a("exploding_gradients", "critical"), a("lr_too_high", "info")],
      want: [
        ["lr_too_high", null, ["divergence", "exploding_gradients"]],
        ["divergence", "lr_too_high", null],
        ["exploding_gradients", "lr_too_high", null],
      ],
    },
    {
      name: "unrelated alerts keep severity order; each cause is followed by its own symptoms",
      input: [a("overfitting", "critical"), a("noisy_loss", "warning"), a("unshuffled_data", "info"), a("lr_too_low", "warning")],
      want: [
        ["overfitting", null, null],
        ["lr_too_low", null, null],
        ["unshuffled_data", null, ["noisy_loss"]],
        ["noisy_loss", "unshuffled_data", null],
      ],
    },
    {
      name: "two active causes of one symptom: the more severe one takes it",
      input: [a("noisy_loss", "warning"), a("unshuffled_data", "info"), a("lr_too_high", "warning")],
      want: [
        ["lr_too_high", null, ["noisy_loss"]],
        ["noisy_loss", "lr_too_high", null],
        ["unshuffled_data", null, null],
      ],
    },
    {
      name: "a resolved cause relates nothing; resolved alerts come last",
      input: [a("lr_too_high", "warning", "resolved"), a("dead_relu", "critical")],
      want: [
        ["dead_relu", null, null],
        ["lr_too_high", null, null],
      ],
    },
    {
      name: "no alerts",
      input: [],
      want: [],
    },
  ])("$name", ({ input, want }) => {
    expect(view(rootCauseOrder(input))).toEqual(want);
  });

  test("a stale relation on the input is recomputed, not kept", () => {
    const out = rootCauseOrder([{ ...a("dead_relu", "critical"), causedBy: "lr_too_high" } as A]);
    expect(out).toEqual([{ code: "dead_relu", severity: "critical", status: "active" }]);
  });

  test("every symptom's cause comes before it, for any mix of active codes", () => {
    const sev = ["info", "warning", "critical"];
    for (let seed = 1; seed < 200; seed++) {
      let x = seed;
      const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
      const input = DIAGNOSIS_CODES.filter(() => rnd() < 0.35).map((c) => a(c, sev[Math.floor(rnd() * 3)]));
      const out = rootCauseOrder(input);
      expect(out.map((o) => o.code).sort()).toEqual(input.map((i) => i.code).sort());
      const at = new Map(out.map((o, i) => [o.code, i]));
      for (const o of out) {
        if (!o.causedBy) continue;
        expect(at.get(o.causedBy)!).toBeLessThan(at.get(o.code)!);
        expect(causes(o.causedBy, o.code)).toBe(true);
        expect(out.find((r) => r.code === o.causedBy)!.symptoms).toContain(o.code);
      }
      // two active alerts where one causes the other are never both roots
      for (const p of out) for (const q of out) if (causes(p.code, q.code)) expect(q.causedBy).toBeDefined();
    }
  });
});
