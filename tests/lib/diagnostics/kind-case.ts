// One row of the table-driven tests of issue #10's kinds: a synthetic run that must (or must not)
// raise a code. Shared by the kind tests of each corpus opened for rule work and of the dev misses.
import { expect } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import type { Diagnosis } from "../../../lib/diagnostics/types";
import { makeRun, type RunSpec } from "./synth";

export interface Case {
  name: string;
  spec: RunSpec;
  raised: boolean;
}

/** Diagnoses the case's run; a raised code must say what is wrong with its numbers. Returns it. */
export function check(code: string, c: Case): Diagnosis | undefined {
  const found = diagnose(makeRun(c.spec), { strict: true });
  const d = found.find((x) => x.code === code);
  if (c.raised) {
    expect(d, `${code} should be raised; got ${found.map((x) => x.code).join(", ") || "nothing"}`).toBeDefined();
    expect(d!.message.length).toBeGreaterThan(80);
    expect(d!.message).toMatch(/\d/);
  } else {
    expect(d, `${code} should not be raised: ${d?.message}`).toBeUndefined();
  }
  return d;
}
