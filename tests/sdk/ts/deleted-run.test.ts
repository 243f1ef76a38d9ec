// The TypeScript SDK logging to a run that is deleted from the dashboard while the script runs: the
// server answers the late batch 404 and the SDK's re-create 410 run_deleted; the SDK counts what it
// could not deliver as rejected, says so once, does not retry forever, and the run stays deleted.
import * as fs from "node:fs";
import { afterEach, beforeEach, expect, test } from "vitest";
import { init } from "../../../sdk/ts/src/index";
import { api, startServer, type TestServer } from "../../helpers/server";
import { captureStderr, tmpDir } from "./util";

let server: TestServer;
let spoolDir: string;
let stderr: ReturnType<typeof captureStderr>;

beforeEach(async () => {
  server = await startServer();
  spoolDir = tmpDir();
  stderr = captureStderr();
});
afterEach(async () => {
  stderr?.restore();
  await server?.stop();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

test("a run deleted mid-training: later points are rejected, finish returns, the run does not come back", async () => {
  const run = await init({
    project: "sdk-ts",
    name: "doomed",
    url: server.url,
    spoolDir,
    flushIntervalMs: 50,
    backoffInitialMs: 20,
    backoffMaxMs: 300,
  });
  run.log({ loss: 1 }, 0);
  expect((await run.flush({ timeoutMs: 10_000 })).delivered).toBe(true);
  const del = await api(server.url, "DELETE", `/api/v1/runs/${run.id}`, undefined, { "content-type": "application/json" });
  expect(del.status).toBe(200);

  run.log({ loss: 0.5 }, 1);
  run.log({ loss: 0.25 }, 2);
  const t0 = Date.now();
  const result = await run.finish("finished", { timeoutMs: 10_000 });
  expect(Date.now() - t0).toBeLessThan(10_000); // settled by the answers, not by the timeout
  expect(result.delivered).toBe(false);
  expect(result.rejectedPoints).toBe(2);
  expect(stderr.text()).toMatch(/410 run_deleted/);
  expect((await api(server.url, "GET", `/api/v1/runs/${run.id}`)).status).toBe(404);
});
