// The TypeScript SDK against a real team-mode server: BABYSIT_API_KEY travels as a bearer token;
// a missing or revoked key never throws into the loop: the SDK warns once, keeps the data in its
// spool, and a later run with a valid key (resuming the run) delivers all of it.
import * as fs from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { init, type Run } from "../../../sdk/ts/src/index";
import { type TeamServer, as, login, startTeamServer } from "../../helpers/team";
import { captureStderr, tmpDir, waitFor } from "./util";

let server: TeamServer;
let admin: ReturnType<typeof as>;
let spoolDir: string;
let stderr: ReturnType<typeof captureStderr>;

beforeAll(async () => {
  server = await startTeamServer();
  admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
});
afterAll(async () => {
  server?.db.close();
  await server?.stop();
});
beforeEach(() => {
  spoolDir = tmpDir();
  stderr = captureStderr();
});
afterEach(() => {
  stderr?.restore();
  delete process.env.BABYSIT_API_KEY;
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

async function newKey(): Promise<{ id: number; token: string }> {
  const r = await admin("POST", "/api/v1/keys", { name: "sdk-ts" });
  expect(r.status).toBe(201);
  return { id: r.body.key.id, token: r.body.token };
}
const start = (id?: string): Promise<Run> =>
  init({ project: "team-ts", id, url: server.url, spoolDir, flushIntervalMs: 30, backoffInitialMs: 20, backoffMaxMs: 200 });
async function count(runId: string): Promise<number> {
  const r = await admin("GET", `/api/v1/runs/${runId}`);
  return r.body.keys?.find((k: { key: string }) => k.key === "x")?.count ?? 0;
}

test("with a valid key everything is delivered", async () => {
  process.env.BABYSIT_API_KEY = (await newKey()).token;
  const run = await start();
  for (let i = 0; i < 20; i++) run.log({ x: i }, { step: i });
  expect((await run.finish()).delivered).toBe(true);
  expect(await count(run.id)).toBe(20);
});

test("a key revoked mid-run: the loop goes on, one warning, the data spooled, and a valid key later delivers all of it", async () => {
  const key = await newKey();
  process.env.BABYSIT_API_KEY = key.token;
  const run = await start();
  for (let i = 0; i < 5; i++) run.log({ x: i }, { step: i });
  await waitFor(async () => (await count(run.id)) === 5, "the first five points", 10_000);
  expect((await admin("DELETE", `/api/v1/keys/${key.id}`)).status).toBe(200);
  for (let i = 5; i < 12; i++) run.log({ x: i }, { step: i });
  const result = await run.finish("finished", { timeoutMs: 1500 });
  expect(result.delivered).toBe(false);
  expect(result.rejectedPoints).toBe(0);
  expect(result.spoolPath).not.toBeNull();
  expect(stderr.lines(/refused the API key/)).toHaveLength(1);
  expect(stderr.text()).toContain("was revoked");
  // the server answered: the warning says what to do, never that it was unreachable
  expect(stderr.text()).toContain(`set BABYSIT_API_KEY to a valid key, then init({ id: "${run.id}" }) again sends what is kept`);
  expect(stderr.text()).not.toMatch(/unreachable|cannot reach/);
  expect(await count(run.id)).toBe(5);

  process.env.BABYSIT_API_KEY = (await newKey()).token;
  const again = await start(run.id);
  expect((await again.finish()).delivered).toBe(true);
  expect(await count(run.id)).toBe(12);
});

test("a key that may not write the project: the run's points are counted as rejected, with the reason", async () => {
  const r = await admin("POST", "/api/v1/keys", { name: "elsewhere", projects: ["somewhere-else"] });
  process.env.BABYSIT_API_KEY = r.body.token;
  const run = await start();
  for (let i = 0; i < 4; i++) run.log({ x: i }, { step: i });
  const result = await run.finish("finished", { timeoutMs: 1500 });
  expect(result.delivered).toBe(false);
  expect(result.rejectedPoints).toBe(4);
  expect(result.rejections[0].reason).toContain("403 forbidden: this API key may not write to the project");
});
