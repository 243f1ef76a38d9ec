import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { codePointLength, contractJson, isWellFormed, LIMITS, nameProblem } from "@/lib/contract/limits";

describe("the wire contract", () => {
  test("docs/contract.json is what lib/contract/limits.ts generates (run `npm run contract`)", () => {
    const file = path.resolve(import.meta.dirname, "../../../docs/contract.json");
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual(JSON.parse(JSON.stringify(contractJson())));
  });

  test.each([
    ["train/loss", 10],
    ["🚀".repeat(150), 150],
    ["损失/训练", 5],
    ["𝔩𝔬𝔰𝔰", 4],
    ["\ud800", 1],
    ["a\udc00b", 3],
  ])("codePointLength(%j) = %i", (s, n) => {
    expect(codePointLength(s)).toBe(n);
  });

  test.each([
    ["train/loss", null],
    ["🚀".repeat(150), null],
    ["🚀".repeat(201), "keys must be at most 200 code points"],
    ["", "keys must not be empty"],
    ["\ud800", "keys must be well-formed Unicode (no lone surrogates)"],
    ["ok\udfffok", "keys must be well-formed Unicode (no lone surrogates)"],
    ["a\u0000b", "keys must not contain control characters"],
    ["tab\there", "keys must not contain control characters"],
    ["del\u007f", "keys must not contain control characters"],
  ])("nameProblem(%j)", (s, problem) => {
    expect(nameProblem(s, LIMITS.keyMaxLength, "keys")).toBe(problem);
    expect(isWellFormed(s)).toBe(!problem?.includes("well-formed"));
  });
});
