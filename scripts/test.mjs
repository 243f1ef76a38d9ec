// npm test: the whole suite. Builds the server into its own folder (.next-test, so a running
// `npm start` keeps its .next), runs the lint checks (scripts/lint.mjs), vitest (lib, api, sdk/ts,
// e2e) and pytest (sdk/python), then prints one closing line "tests: N passed, N failed, N skipped".
// A test file that fails to load, a failing hook and a failing lint check each count as one failure.
// `npm test -- <vitest args>` runs only those vitest files (no lint, no pytest).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildIfChanged } from "./build-stamp.mjs";
import { lint } from "./lint.mjs";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
const DIST_DIR = process.env.BABYSIT_DIST_DIR || ".next-test";
// vitest's servers (tests/helpers/server.ts) and pytest's (tests/sdk/python/real_server.py) inherit it
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", BABYSIT_DIST_DIR: DIST_DIR };
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const run = (cmd, args, extraEnv = {}) => spawnSync(cmd, args, { stdio: "inherit", env: { ...env, ...extraEnv } }).status ?? 1;
const focused = process.argv.length > 2;

fs.rmSync(".tmp", { recursive: true, force: true });
fs.mkdirSync(".tmp", { recursive: true });

if (run(bin("prisma"), ["generate"]) !== 0) process.exit(1);
try {
  buildIfChanged(root, DIST_DIR, { env, announce: `babysit: building the dashboard into ${DIST_DIR} for the tests...` });
} catch {
  process.exit(1);
}
// The SDK package is built the way a user's `npm install sdk/ts` builds it.
if (fs.existsSync("sdk/ts/package.json") && run("npm", ["--prefix", "sdk/ts", "install", "--no-audit", "--no-fund"]) !== 0) process.exit(1);

let passed = 0;
let failed = 0;
let skipped = 0;
const notes = [];

if (!focused) {
  const bad = lint(env);
  failed += bad.length;
  if (bad.length) notes.push(`lint failed: ${bad.join(", ")}`);
}

const vitestArgs = ["run", "--reporter=default", "--reporter=json", "--outputFile.json=.tmp/vitest.json", ...process.argv.slice(2)];
const vitestStatus = run(bin("vitest"), vitestArgs);
try {
  const r = JSON.parse(fs.readFileSync(".tmp/vitest.json", "utf8"));
  // A file that failed without a failing test in it did not load, or a hook threw: its tests
  // never ran (they read as skipped), so the file itself is the failure.
  const brokenFiles = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed"));
  for (const f of brokenFiles) notes.push(`failed to run: ${path.relative(root, f.name)}`);
  passed += r.numPassedTests;
  failed += r.numFailedTests + brokenFiles.length;
  skipped += r.numPendingTests + r.numTodoTests;
  if (vitestStatus !== 0 && r.numFailedTests + brokenFiles.length === 0) failed += 1;
} catch {
  failed += 1;
}

const python = "/usr/bin/python3";
if (fs.existsSync("tests/sdk/python") && !focused) {
  const junit = ".tmp/pytest.xml";
  // a module that fails to import is one error; the other modules still run
  const status = run(python, ["-m", "pytest", "tests/sdk/python", "-q", "--continue-on-collection-errors", `--junitxml=${junit}`], {
    PYTHONPATH: path.join(root, "sdk/python"),
  });
  try {
    const xml = fs.readFileSync(junit, "utf8");
    const attr = (n) => Number(new RegExp(`<testsuite[^>]*\\s${n}="(\\d+)"`).exec(xml)?.[1] ?? 0);
    const bad = attr("failures") + attr("errors");
    passed += Math.max(0, attr("tests") - bad - attr("skipped"));
    failed += bad + (status !== 0 && bad === 0 ? 1 : 0);
    skipped += attr("skipped");
  } catch {
    failed += 1;
  }
}

for (const n of notes) console.log(n);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
