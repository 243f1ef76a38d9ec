import fs from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";

// docs/api.md's table of limits is the human copy of lib/contract/limits.ts: a changed or added
// limit fails here until its row in "Limits and the contract" says the same.

const doc = fs.readFileSync(path.resolve(import.meta.dirname, "../../../docs/api.md"), "utf8");

test.each(Object.entries(LIMITS))("docs/api.md lists %s with its value and unit", (name, l) => {
  expect(doc).toContain(`| \`${name}\` | ${l.value} | ${l.unit} | ${l.what} |`);
});
