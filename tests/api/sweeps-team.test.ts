import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { waitFor } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// Sweeps in team mode beyond the route table (tests/api/team-access.test.ts has every route x
// caller): keys' project scopes hold for sweeps, run links through config.sweep and claims alike;
// a dashboard socket follows a sweep's room, a shared link's socket never does; a shared run's view
// does not name its sweep.

let server: TeamServer;
let member: ReturnType<typeof as>;
let p1Key: ReturnType<typeof as>;
let readKey: ReturnType<typeof as>;
let cookie = "";
const sockets: Socket[] = [];
let seq = 0;

const SPACE = { lr: { distribution: "log_uniform", low: 1e-4, high: 1 } };

beforeAll(async () => {
  server = await startTeamServer();
  const admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
  const invite = await admin("POST", "/api/v1/users", { name: "mia" });
  cookie = await login(server.url, "mia", invite.body.password);
  member = as(server.url, { cookie });
  const key = async (body: object) => (await member("POST", "/api/v1/keys", body)).body.token as string;
  p1Key = as(server.url, { key: await key({ name: "p1", projects: ["p1"] }) });
  readKey = as(server.url, { key: await key({ name: "read", access: "read" }) });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  server?.db.close();
  await server?.stop();
});

describe("API keys and sweeps", () => {
  test("a key scoped to p1 makes and works p1's sweeps, not p2's; a read-only key reads them only", async () => {
    const mine = await p1Key("POST", "/api/v1/sweeps", { project: "p1", name: "k", space: SPACE });
    expect(mine.status).toBe(201);
    expect((await p1Key("POST", `/api/v1/sweeps/${mine.body.sweep.id}/trials`, {})).status).toBe(201);
    const theirs = await member("POST", "/api/v1/sweeps", { project: "p2", name: "k", space: SPACE });
    for (const [method, path, body] of [
      ["POST", "/api/v1/sweeps", { project: "p2", name: "other" }],
      ["POST", `/api/v1/sweeps/${theirs.body.sweep.id}/trials`, {}],
      ["POST", `/api/v1/sweeps/${theirs.body.sweep.id}/refine`, {}],
      // joining p2's sweep through a run needs writing to p2 like any run
      ["POST", "/api/v1/runs", { project: "p2", config: { sweep: { id: "k" } } }],
    ] as const) {
      const r = await p1Key(method, path, body);
      expect({ status: r.status, code: r.body.error?.code }, path).toEqual({ status: 403, code: "forbidden" });
    }
    expect((await p1Key("GET", `/api/v1/sweeps/${theirs.body.sweep.id}`)).status).toBe(200);
    const read = await readKey("GET", "/api/v1/sweeps?project=p2");
    expect(read.body.sweeps.map((s: { id: string }) => s.id)).toEqual([theirs.body.sweep.id]);
    const refused = await readKey("POST", `/api/v1/sweeps/${theirs.body.sweep.id}/trials`, {});
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 403, code: "forbidden" });
    // nothing the refused calls asked for was made
    expect((await member("GET", `/api/v1/sweeps/${theirs.body.sweep.id}`)).body.sweep.trialsClaimed).toBe(0);
    expect((await member("GET", "/api/v1/sweeps?project=p2")).body.sweeps).toHaveLength(1);
  });
});

describe("sockets", () => {
  test("a member's socket hears the sweep's room; a shared link's socket subscribing to it hears nothing of it", async () => {
    const sweep = (await member("POST", "/api/v1/sweeps", { project: "p1", name: "live", space: SPACE })).body.sweep;
    const run = await member("POST", "/api/v1/runs", { project: "p1", config: { lr: 0.01, sweep: { id: "live", trial: 0 } } });
    const token = (await member("POST", `/api/v1/runs/${run.body.id}/shares`, { expiresIn: "1d" })).body.token as string;

    const open = async (opts: { auth?: object; extraHeaders?: Record<string, string> }) => {
      const s = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true, reconnection: false, ...opts });
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("connect_error", (e) => reject(e));
      });
      return s;
    };
    const dashboard = await open({ extraHeaders: { cookie, origin: server.url } });
    const shared = await open({ auth: { share: token } });
    const heard = { dashboard: [] as string[], shared: [] as string[] };
    dashboard.onAny((e: string) => heard.dashboard.push(e));
    shared.onAny((e: string) => heard.shared.push(e));
    const subscribe = (s: Socket, room: object) => new Promise<void>((resolve) => s.emit("subscribe", room, () => resolve()));
    await subscribe(dashboard, { sweep: sweep.id });
    await subscribe(shared, { sweep: sweep.id });
    await subscribe(shared, { share: token });

    expect((await member("POST", `/api/v1/runs/${run.body.id}/log`, { seq: seq++, rows: [{ step: 0, metrics: { loss: 1 } }] })).status).toBe(200);
    await waitFor(() => heard.dashboard.includes("sweep"), 10_000, "the sweep event on the dashboard socket");
    await waitFor(() => heard.shared.includes("points"), 10_000, "the shared run's points on the link's socket");
    // a round trip on the shared socket: whatever the server sent it before is in by now
    await subscribe(shared, { share: token });
    expect(heard.shared).not.toContain("sweep");
  });

  test("a shared run's view does not name its sweep; the dashboard's does", async () => {
    const run = await member("POST", "/api/v1/runs", { project: "p1", config: { sweep: { id: "viewed" } } });
    const token = (await member("POST", `/api/v1/runs/${run.body.id}/shares`, { expiresIn: "1d" })).body.token as string;
    const shared = await as(server.url, {})("GET", `/api/v1/shares/${token}`);
    expect(shared.status).toBe(200);
    // its config names the sweep (it is the run's own data); the sweep's id, which opens nothing to a link, is left out
    expect(shared.body.run).not.toHaveProperty("sweep");
    expect(shared.body.run.config.sweep).toEqual({ id: "viewed" });
    const own = await member("GET", `/api/v1/runs/${run.body.id}`);
    expect(own.body.run.sweep.name).toBe("viewed");
  });
});

describe("should-stop and pruning", () => {
  test("a read-only key hears stop but marks nothing; the trial's writer asking marks it pruned", async () => {
    const made = await member("POST", "/api/v1/sweeps", {
      project: "p1",
      name: "prune",
      space: SPACE,
      objective: { metric: "val/acc", goal: "max" },
    });
    expect(made.status).toBe(201);
    const trial = async (acc: number) => {
      const run = await member("POST", "/api/v1/runs", { project: "p1", config: { lr: 0.01, sweep: { id: "prune" } } });
      const rows = [0, 1, 2].map((step) => ({ step, metrics: { "val/acc": acc + 0.01 * step } }));
      expect((await member("POST", `/api/v1/runs/${run.body.id}/log`, { seq: seq++, rows })).status).toBe(200);
      return run.body.id as string;
    };
    for (const acc of [0.8, 0.82, 0.84, 0.86, 0.88]) await trial(acc);
    const slow = await trial(0.1);
    const trialOf = async () =>
      (await member("GET", `/api/v1/sweeps/${made.body.sweep.id}`)).body.sweep.trials.find((t: { runId: string }) => t.runId === slow);
    const heard = await readKey("GET", `/api/v1/runs/${slow}/should-stop`);
    expect({ status: heard.status, stop: heard.body.stop }).toEqual({ status: 200, stop: true });
    expect(await trialOf()).toMatchObject({ pruned: false, prune: null });
    expect((await member("GET", `/api/v1/runs/${slow}/should-stop`)).body.stop).toBe(true);
    expect(await trialOf()).toMatchObject({ pruned: true, prune: { rule: "median" } });
  });
});
