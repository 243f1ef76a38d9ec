// npm run lint: Biome's linter and formatter (check only) over the TypeScript/JavaScript
// (biome.jsonc), flake8 over the Python SDK (.flake8), and a type check of the whole TypeScript tree: app/, lib/, tests/, bench/, scripts/
// and server.ts through tsconfig.test.json (tsconfig.json with the route types of .next-test, the
// test build's folder, instead of .next's), the SDK package (src and examples) under its own
// stricter tsconfig. npm test runs the same checks and counts each one that fails.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);

function flake8() {
  if (fs.existsSync("/usr/bin/flake8")) return ["/usr/bin/flake8", []];
  return ["/usr/bin/python3", ["-m", "flake8"]]; // fails with "No module named flake8": apt-get install python3-flake8
}

/** [name, command, args] of each check, in the order they run. */
export const CHECKS = [
  ["biome", bin("biome"), ["lint", "--error-on-warnings"]],
  // formatting: `npx biome format --write .` fixes what this finds
  ["biome format", bin("biome"), ["format", "."]],
  ["flake8", flake8()[0], [...flake8()[1], "sdk/python", "tests/sdk/python", "bench/python_sdk.py", "tools/corpus"]],
  // route types first (into the test build's folder, never .next, which `npm start` serves)
  ["next typegen", bin("next"), ["typegen"]],
  ["tsc (app, lib, tests, bench, scripts)", bin("tsc"), ["--noEmit", "-p", "tsconfig.test.json"]],
  ["tsc (sdk/ts)", bin("tsc"), ["--noEmit", "-p", "sdk/ts/examples/tsconfig.json"]],
];

/** Runs every check; returns the names of those that failed. */
export function lint(env = process.env) {
  const failed = [];
  for (const [name, cmd, args] of CHECKS) {
    console.log(`lint: ${name}`);
    const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { NEXT_TELEMETRY_DISABLED: "1", BABYSIT_DIST_DIR: ".next-test", ...env } });
    if (r.status !== 0) failed.push(name);
  }
  return failed;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const failed = lint();
  console.log(failed.length ? `lint: ${failed.length} failed (${failed.join(", ")})` : "lint: all checks passed");
  process.exit(failed.length ? 1 : 0);
}
