// BABYSIT_MODE (and init's `mode`): offline keeps everything in the spool and makes no request, and a
// later `npx babysit-sdk sync` uploads all of it to a real server; disabled does nothing, quietly;
// an invalid value warns once and the run goes online. The same modes as the Python SDK
// (tests/sdk/python/test_compat.py).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { ROOT, api, startServer, type TestServer } from "../../helpers/server";
import { init, resolveMode } from "../../../sdk/ts/src/index";
import { type FakeServer, startFakeServer } from "./fake-server";
import { captureStderr, readSpool, tmpDir } from "./util";

let fake: FakeServer;
let server: TestServer | null = null;
let spoolDir: string;
let stderr: ReturnType<typeof captureStderr>;
const savedEnv = { mode: process.env.BABYSIT_MODE, url: process.env.BABYSIT_URL };

beforeEach(async () => {
  fake = await startFakeServer();
  spoolDir = tmpDir();
  stderr = captureStderr();
  delete process.env.BABYSIT_MODE;
  delete process.env.BABYSIT_URL;
});
afterEach(async () => {
  stderr.restore();
  await fake.stop();
  await server?.stop();
  server = null;
  fs.rmSync(spoolDir, { recursive: true, force: true });
  for (const [k, v] of [
    ["BABYSIT_MODE", savedEnv.mode],
    ["BABYSIT_URL", savedEnv.url],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

function syncCommand(url: string, ...args: string[]) {
  const out = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "sdk", "ts", "src", "cli.ts"), "sync", "--url", url, ...args], {
    cwd: ROOT,
    env: { ...process.env, BABYSIT_SPOOL_DIR: spoolDir, BABYSIT_API_KEY: "" },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

async function train(options: Parameters<typeof init>[0]) {
  const run = await init({ spoolDir, flushIntervalMs: 10, ...options });
  for (let step = 0; step < 50; step++) run.log({ "train/loss": 1 / (step + 1), "train/acc": step / 50 }, { epoch: step / 10 });
  run.logHistogram("act/fc1", [0.1, 0.2, 0.2, 0.5], 49);
  run.event("checkpoint", { path: "ckpt.pt" }, 49);
  const result = await run.finish();
  return { run, result };
}

test.each([
  ["the mode option", { mode: "offline" as const }, undefined],
  ["BABYSIT_MODE", {}, "offline"],
  ["BABYSIT_MODE, any case", {}, " Offline "],
])(
  "offline (%s): no request at all, everything in the spool, then sync uploads it all",
  async (_what, options, env) => {
    if (env !== undefined) process.env.BABYSIT_MODE = env;
    const { run, result } = await train({ project: "mode-ts", name: "offline", config: { lr: 0.1 }, url: fake.url, ...options });
    expect(fake.requests).toEqual([]); // not even the create
    expect(result.delivered).toBe(false);
    expect(result.spoolPath).toBe(path.join(spoolDir, `${run.id}.jsonl`));
    const records = readSpool(result.spoolPath!);
    expect(records[0]).toMatchObject({ kind: "run", id: run.id, project: "mode-ts", name: "offline", config: { lr: 0.1 }, url: fake.url });
    expect(records.at(-1)).toMatchObject({ kind: "finish", status: "finished" });
    expect(stderr.lines(/offline run/)).toHaveLength(2); // where it is kept, at init and at finish
    expect(stderr.text()).toContain("npx babysit-sdk sync");

    delete process.env.BABYSIT_MODE; // the server reads BABYSIT_MODE too (team|local)
    server = await startServer();
    const out = syncCommand(server.url, "--any-url"); // made for the fake server's URL
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(fs.readdirSync(spoolDir)).toEqual([]);
    const detail = await api(server.url, "GET", `/api/v1/runs/${run.id}`);
    expect(detail.body.run).toMatchObject({ status: "finished", project: "mode-ts", name: "offline", config: { lr: 0.1 } });
    const keys = Object.fromEntries(detail.body.keys.map((k: { key: string; count: number; firstStep: number }) => [k.key, [k.count, k.firstStep]]));
    expect(keys).toEqual({ "train/loss": [50, 0], "train/acc": [50, 0], epoch: [50, 0] });
    expect(detail.body.histogramKeys).toMatchObject([{ key: "act/fc1", count: 1, lastStep: 49 }]);
    expect(detail.body.events.map((e: { type: string }) => e.type)).toContain("checkpoint");
  },
  120_000,
);

test("an offline run made without a URL names no server: sync sends it wherever it is pointed", async () => {
  const { result } = await train({ project: "mode-ts", mode: "offline" });
  expect(readSpool(result.spoolPath!)[0]).not.toHaveProperty("url");
  server = await startServer();
  const out = syncCommand(server.url); // no --any-url needed
  expect(out.code, out.stdout + out.stderr).toBe(0);
  expect(out.stdout).toContain("sent 1 batch(es) of 1 run(s)");
}, 120_000);

test("sync reads the config and patch records a Python offline run appends after its header (update_config, wandb tags)", async () => {
  const id = "py-offline-config";
  const file = path.join(spoolDir, `${id}.jsonl`);
  const lines = [
    { kind: "run", id, project: "mode-ts", config: { a: 1 }, startedAt: Date.now() / 1000 - 60 },
    { kind: "batch", seq: 1, body: { seq: 1, rows: [{ step: 0, metrics: { x: 1 } }] } },
    { kind: "config", config: { a: 1, b: 2 } },
    { kind: "config", config: { a: 3, b: 2 } }, // the last one wins
    { kind: "patch", body: { tags: ["baseline", "sweep-1"], notes: "from babysit.wandb" } },
    { kind: "finish", status: "finished" },
  ];
  fs.writeFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
  server = await startServer();
  const out = syncCommand(server.url);
  expect(out.code, out.stdout + out.stderr).toBe(0);
  const detail = await api(server.url, "GET", `/api/v1/runs/${id}`);
  expect(detail.body.run).toMatchObject({ status: "finished", config: { a: 3, b: 2 }, tags: ["baseline", "sweep-1"], notes: "from babysit.wandb" });
}, 120_000);

test.each([
  ["the mode option", { mode: "disabled" as const }, undefined],
  ["BABYSIT_MODE", {}, "disabled"],
])("disabled (%s): nothing is sent, spooled or printed; every call returns", async (_what, options, env) => {
  if (env !== undefined) process.env.BABYSIT_MODE = env;
  const { run, result } = await train({ project: "mode-ts", url: fake.url, ...options });
  expect(await run.flush()).toMatchObject({ delivered: true });
  expect(result).toEqual({ delivered: true, pendingBatches: 0, spoolPath: null, rejectedPoints: 0, rejections: [] });
  expect(fake.requests).toEqual([]);
  expect(fs.readdirSync(spoolDir)).toEqual([]);
  expect(stderr.text()).toBe("");
});

test.each([
  ["BABYSIT_MODE=offlne", "offlne", undefined],
  ["BABYSIT_MODE=1", "1", undefined],
  ["mode: 'sometimes'", undefined, "sometimes"],
  ["mode: 3", undefined, 3],
])("%s: one warning, however many runs, and the runs go online", async (_what, env, option) => {
  if (env !== undefined) process.env.BABYSIT_MODE = env;
  for (let i = 0; i < 2; i++) {
    const run = await init({ project: "mode-ts", url: fake.url, spoolDir, mode: option as never, quiet: true });
    run.log({ x: i });
    expect((await run.finish()).delivered).toBe(true);
    expect(fake.runs.has(run.id)).toBe(true);
  }
  const warned = stderr.lines(/must be one of online, offline, disabled/);
  expect(warned).toHaveLength(1);
  expect(warned[0]).toContain(JSON.stringify(env ?? option));
});

test.each([
  [undefined, undefined, "online"],
  ["offline", undefined, "offline"],
  ["DISABLED", undefined, "disabled"],
  ["dryrun", undefined, "offline"],
  ["", undefined, "online"],
  ["team", undefined, "online"], // the server's own BABYSIT_MODE values: online, without a warning
  ["local", undefined, "online"],
  ["offline", "online", "online"], // the option wins over the environment
  ["disabled", "offline", "offline"],
] as const)("resolveMode(BABYSIT_MODE=%s, option %s) is %s", (env, option, expected) => {
  expect(resolveMode(option, env === undefined ? {} : { BABYSIT_MODE: env })).toBe(expected);
  expect(stderr.text()).toBe("");
});
