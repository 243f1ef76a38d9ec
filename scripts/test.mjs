// npm test: the whole suite. Builds the server once, runs vitest (lib, api, sdk/ts, e2e) and
// pytest (sdk/python), then prints one closing line "tests: N passed, N failed".
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const run = (cmd, args, extraEnv = {}) => spawnSync(cmd, args, { stdio: "inherit", env: { ...env, ...extraEnv } }).status ?? 1;

fs.rmSync(".tmp", { recursive: true, force: true });
fs.mkdirSync(".tmp", { recursive: true });

if (run(bin("prisma"), ["generate"]) !== 0) process.exit(1);
if (run(bin("next"), ["build"]) !== 0) process.exit(1);
// The SDK package is built the way a user's `npm install sdk/ts` builds it.
if (fs.existsSync("sdk/ts/package.json") && run("npm", ["--prefix", "sdk/ts", "install", "--no-audit", "--no-fund"]) !== 0) process.exit(1);

let passed = 0;
let failed = 0;
let skipped = 0;

const vitestArgs = ["run", "--reporter=default", "--reporter=json", "--outputFile.json=.tmp/vitest.json", ...process.argv.slice(2)];
const vitestStatus = run(bin("vitest"), vitestArgs);
try {
  const r = JSON.parse(fs.readFileSync(".tmp/vitest.json", "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (vitestStatus !== 0 && r.numFailedTests === 0 ? 1 : 0);
  skipped += r.numPendingTests + r.numTodoTests;
} catch {
  failed += 1;
}

const python = "/usr/bin/python3";
if (fs.existsSync("tests/sdk/python") && process.argv.length <= 2) {
  const junit = ".tmp/pytest.xml";
  const status = run(python, ["-m", "pytest", "tests/sdk/python", "-q", `--junitxml=${junit}`], { PYTHONPATH: path.join(root, "sdk/python") });
  try {
    const xml = fs.readFileSync(junit, "utf8");
    const attr = (n) => Number(new RegExp(`<testsuite[^>]*\\s${n}="(\\d+)"`).exec(xml)?.[1] ?? 0);
    const total = attr("tests");
    const bad = attr("failures") + attr("errors");
    passed += total - bad - attr("skipped");
    failed += bad + (status !== 0 && bad === 0 ? 1 : 0);
    skipped += attr("skipped");
  } catch {
    failed += 1;
  }
}

console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
