import { execFile, spawn } from "node:child_process";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, type TestServer, api, freePort, freshDbPath, startServer } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// What a fresh user trying the product from the docs ran into (issue #9 §4 review): the runs list's
// key catalogue and projects, the server-wide list of shared links, where a new link works, API
// keys' default expiry, the session cookie's lifetime, `npm run demo` against a team server, and a
// port already in use.

const DAY = 86_400;

describe("local server", () => {
  let server: TestServer;
  const call = (method: string, p: string, body?: unknown) => api(server.url, method, p, body);
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("keys=true names the config and metric keys of the project's runs (sorted; keys are data)", async () => {
    const a = await call("POST", "/api/v1/runs", { project: "kp", config: { lr: 0.1, "batch size": 32, __proto__x: 1, nested: { a: 1 } } });
    const b = await call("POST", "/api/v1/runs", { project: "kp", config: { lr: 0.01, optimizer: "adam" } });
    await call("POST", "/api/v1/runs", { project: "other", config: { momentum: 0.9 } });
    for (const [id, metrics] of [
      [a.body.id, { "train/loss": 1, "val/acc": 0.5 }],
      [b.body.id, { "train/loss": 2, constructor: 3 }],
    ] as const) {
      expect((await call("POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: [{ step: 0, metrics }] })).status).toBe(200);
    }
    const r = await call("GET", "/api/v1/runs?project=kp&keys=true&limit=1");
    expect(r.status).toBe(200);
    expect(r.body.keys).toEqual({
      config: ["__proto__x", "batch size", "lr", "nested", "optimizer"],
      metrics: ["constructor", "train/loss", "val/acc"],
    });
    expect(r.body.runs).toHaveLength(1); // the page size is the caller's; the keys are the project's
    const all = await call("GET", "/api/v1/runs?keys=true");
    expect(all.body.keys.config).toContain("momentum");
    // not asked: not answered (it reads every key row of the project)
    expect((await call("GET", "/api/v1/runs?project=kp")).body.keys).toBeUndefined();
  });

  test.each([
    ["keys=yes", "keys must be true or false"],
    ["keys=", "keys must be true or false"],
  ])("?%s -> 400 invalid_query", async (q, message) => {
    const r = await call("GET", `/api/v1/runs?${q}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_query");
    expect(r.body.error.message).toContain(message.split(" ")[0]);
  });

  test("a project whose runs were all deleted is no longer offered; one with a run left is", async () => {
    const gone = await call("POST", "/api/v1/runs", { project: "emptied" });
    const kept = [await call("POST", "/api/v1/runs", { project: "half" }), await call("POST", "/api/v1/runs", { project: "half" })];
    expect((await call("DELETE", `/api/v1/runs/${gone.body.id}`)).status).toBe(200);
    expect((await call("DELETE", `/api/v1/runs/${kept[0].body.id}`)).status).toBe(200);
    const { projects } = (await call("GET", "/api/v1/runs")).body;
    expect(projects.map((p: { name: string }) => p.name)).not.toContain("emptied");
    expect(projects.find((p: { name: string }) => p.name === "half")).toEqual({ name: "half", runs: 1 });
    // a new run in the emptied project brings it back
    await call("POST", "/api/v1/runs", { project: "emptied" });
    expect((await call("GET", "/api/v1/runs")).body.projects).toContainEqual({ name: "emptied", runs: 1 });
  });

  test("the runs list page takes config filters from its URL (a link reproduces the view)", async () => {
    await call("POST", "/api/v1/runs", { project: "cf", name: "cf-small", config: { lr: 0.001 } });
    await call("POST", "/api/v1/runs", { project: "cf", name: "cf-mid", config: { lr: 0.05 } });
    await call("POST", "/api/v1/runs", { project: "cf", name: "cf-big", config: { lr: 1 } });
    const html = async (q: string) => (await fetch(`${server.url}/?project=cf&${q}`)).text();
    const range = await html("config.lr=0.01..0.1");
    expect(range).toContain("cf-mid");
    expect(range).not.toContain("cf-small");
    expect(range).not.toContain("cf-big");
    const exact = await html("config.lr=1");
    expect(exact).toContain("cf-big");
    expect(exact).not.toContain("cf-mid");
  });

  test("the local user lists every link with its run; never a token", async () => {
    const run = await call("POST", "/api/v1/runs", { project: "links", name: "linked" });
    const made = await call("POST", `/api/v1/runs/${run.body.id}/shares`, { expiresIn: "1d" });
    const r = await call("GET", "/api/v1/shares");
    expect(r.status).toBe(200);
    const mine = r.body.shares.find((s: { id: number }) => s.id === made.body.id);
    expect(mine).toEqual({
      id: made.body.id,
      runId: run.body.id,
      runName: "linked",
      project: "links",
      prefix: made.body.prefix,
      createdAt: made.body.createdAt,
      expiresAt: made.body.createdAt + DAY,
      expired: false,
      lastOpenedAt: null,
      createdBy: null,
    });
    expect(JSON.stringify(r.body)).not.toContain(made.body.token);
    expect(r.body.total).toBe(r.body.shares.length);
  });

  test.each([
    ["127.0.0.1 (an SSH tunnel)", "127.0.0.1", "works only on this machine"],
    ["localhost", "localhost", "works only on this machine"],
  ])("a link made through %s says where it works", async (_, host, want) => {
    const run = await call("POST", "/api/v1/runs", { project: "links" });
    const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/runs/${run.body.id}/shares`, {
      method: "POST",
      headers: { "content-type": "application/json", host: `${host}:${server.port}` },
      body: "{}",
    });
    const body = await res.json();
    expect(res.status).toBe(201);
    expect(body.note).toContain(want);
    expect(body.note).toContain("Set BABYSIT_SHARE_URL");
  });
});

describe("a server with BABYSIT_SHARE_URL", () => {
  test("a new link has no note: it points where links are published", async () => {
    const server = await startServer({ env: { BABYSIT_SHARE_URL: "https://runs.lab.example" } });
    try {
      const run = await api(server.url, "POST", "/api/v1/runs", { project: "pub" });
      const made = await api(server.url, "POST", `/api/v1/runs/${run.body.id}/shares`, {});
      expect(made.body.url).toBe(`https://runs.lab.example/share/${made.body.token}`);
      expect(made.body.note).toBeNull();
    } finally {
      await server.stop();
    }
  });
});

describe("team server", () => {
  let server: TeamServer;
  let admin: ReturnType<typeof as>;
  let mia: ReturnType<typeof as>;
  let bo: ReturnType<typeof as>;
  const invite = async (name: string) => {
    const r = await admin("POST", "/api/v1/users", { name });
    return as(server.url, { cookie: await login(server.url, name, r.body.password) });
  };
  beforeAll(async () => {
    server = await startTeamServer();
    admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
    mia = await invite("mia");
    bo = await invite("bo");
  });
  afterAll(async () => {
    server?.db.close();
    await server?.stop();
  });

  test("GET /api/v1/shares: an admin sees every link, a member their own; a key is refused", async () => {
    const run = (await mia("POST", "/api/v1/runs", { project: "t", name: "shared-run" })).body.id;
    const miaLink = (await mia("POST", `/api/v1/runs/${run}/shares`, {})).body;
    // a member shares only runs they own (docs/team-mode.md): bo shares his own
    const boRun = (await bo("POST", "/api/v1/runs", { project: "t", name: "bo-run" })).body.id;
    const boLink = (await bo("POST", `/api/v1/runs/${boRun}/shares`, {})).body;
    const ids = (r: { body: { shares: { id: number }[] } }) => r.body.shares.map((s) => s.id);
    expect(ids(await admin("GET", "/api/v1/shares"))).toEqual([boLink.id, miaLink.id]); // newest first
    const own = await mia("GET", "/api/v1/shares");
    expect(ids(own)).toEqual([miaLink.id]);
    expect(own.body.shares[0]).toMatchObject({ runId: run, runName: "shared-run", project: "t", createdBy: "mia", prefix: miaLink.prefix });
    expect(own.body.total).toBe(1);
    const key = (await mia("POST", "/api/v1/keys", { name: "k" })).body.token;
    const byKey = await as(server.url, { key })("GET", "/api/v1/shares");
    expect({ status: byKey.status, code: byKey.body.error.code }).toEqual({ status: 403, code: "forbidden" });
    const nobody = await api(server.url, "GET", "/api/v1/shares");
    expect({ status: nobody.status, code: nobody.body.error.code }).toEqual({ status: 401, code: "unauthenticated" });
    // an admin revokes another's link from that list (the run's own route)
    expect((await admin("DELETE", `/api/v1/runs/${run}/shares/${miaLink.id}`)).status).toBe(204);
    expect(ids(await admin("GET", "/api/v1/shares"))).toEqual([boLink.id]);
  });

  test.each([
    ["no expiresInDays: 90 days, as the dashboard's form", {}, 90 * DAY],
    ["expiresInDays: 30", { expiresInDays: 30 }, 30 * DAY],
    ["expiresInDays: null: never", { expiresInDays: null }, null],
  ])("an API key made with %s", async (_, extra, ttl) => {
    const made = await mia("POST", "/api/v1/keys", { name: "ttl", ...extra });
    expect(made.status).toBe(201);
    const { createdAt, expiresAt } = made.body.key;
    if (ttl === null) expect(expiresAt).toBeNull();
    else expect(expiresAt - createdAt).toBeCloseTo(ttl, 0);
  });

  test("the session cookie lasts as the session does (14 days), and is sent again when the session slides", async () => {
    const res = await fetch(`${server.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "admin", password: server.adminPassword }),
    });
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toContain(`Max-Age=${14 * DAY}`);
    const sent = cookie.split(";", 1)[0];
    const me = () => fetch(`${server.url}/api/v1/auth/me`, { headers: { cookie: sent } });
    // used within the hour: the expiry stays, and so does the cookie
    expect((await me()).headers.get("set-cookie")).toBeNull();
    // last moved two hours ago: this use moves it, and the cookie with it
    server.db
      .prepare("UPDATE sessions SET expires_at = ? WHERE expires_at > ?")
      .run(Date.now() / 1000 + 14 * DAY - 7200, Date.now() / 1000 + 14 * DAY - 60);
    const slid = await me();
    expect(slid.status).toBe(200);
    expect(slid.headers.get("set-cookie")).toMatch(
      new RegExp(`^${sent.replace(/[^A-Za-z0-9_=]/g, "\\$&")}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${14 * DAY}$`),
    );
  });

  test("npm run demo sends BABYSIT_API_KEY, and says clearly when the server answered 401/403", async () => {
    const demo = (env: Record<string, string>) =>
      new Promise<{ code: number; output: string }>((resolve) => {
        const clean = { ...process.env };
        delete clean.BABYSIT_API_KEY;
        execFile(
          process.execPath,
          ["--import", "tsx", "scripts/demo.ts"],
          { cwd: ROOT, env: { ...clean, DEMO_DELAY_MS: "0", BABYSIT_URL: server.url, ...env } },
          (err, stdout, stderr) => resolve({ code: typeof err?.code === "number" ? err.code : 0, output: stdout + stderr }),
        );
      });
    const none = await demo({});
    expect(none.code).toBe(1);
    expect(none.output).toContain(`the server at ${server.url} answered 401: it is a team server and needs an API key`);
    expect(none.output).not.toContain("no server answers");
    const bad = await demo({ BABYSIT_API_KEY: `bsk_${"A".repeat(43)}` });
    expect(bad.code).toBe(1);
    expect(bad.output).toContain("answered 401: it refused BABYSIT_API_KEY");
    const key = (await mia("POST", "/api/v1/keys", { name: "demo" })).body.token;
    const ok = await demo({ BABYSIT_API_KEY: key });
    expect(ok.code, ok.output).toBe(0);
    expect(ok.output).toContain(`streaming into ${server.url}`);
    const runs = (await mia("GET", "/api/v1/runs?project=demo")).body.runs;
    expect(runs.map((r: { status: string }) => r.status)).toEqual(["finished", "finished"]);
  }, 120_000);
});

describe("a port already in use", () => {
  test.each([
    ["PORT", (busy: number, free: number) => ({ PORT: String(busy), BABYSIT_SHARE_PORT: String(free) })],
    ["BABYSIT_SHARE_PORT", (busy: number, free: number) => ({ PORT: String(free), BABYSIT_SHARE_PORT: String(busy) })],
  ])(
    "%s: one line naming the port and the variable, exit 1",
    async (variable, env) => {
      const blocker = net.createServer();
      await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
      const busy = (blocker.address() as net.AddressInfo).port;
      try {
        const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
          cwd: ROOT,
          env: {
            ...process.env,
            NODE_ENV: "production",
            NEXT_TELEMETRY_DISABLED: "1",
            HOST: "127.0.0.1",
            DATABASE_URL: `file:${freshDbPath()}`,
            ...env(busy, await freePort()),
          },
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        const code = await new Promise<number | null>((r) => child.on("exit", r));
        expect(code).toBe(1);
        // stderr holds the one line (stdout: Next's and babysit's progress lines)
        expect(err.split("\n").filter((l) => l.trim())).toEqual([
          `babysit: cannot listen: port ${busy} on 127.0.0.1 is already in use (another babysit or program listens there); stop it or set ${variable}=<another port>`,
        ]);
        expect(out + err).not.toContain("EADDRINUSE");
      } finally {
        blocker.close();
      }
    },
    60_000,
  );
});
