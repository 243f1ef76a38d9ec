import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { API_ROUTES } from "@/lib/http/routes";
import { pngBase64 } from "../helpers/png";
import { rawRequest } from "../helpers/raw-http";
import { ROOT, type TestServer, api, freePort, startServer } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// What a shared link's token opens, route by route: every API route of the registry
// (lib/http/routes.ts) x every way a client could present the token (bearer, session cookie,
// `?token=`, `?share=`), on the main listener and on the share-only listener (BABYSIT_SHARE_PORT),
// in team mode and in local mode. A token opens /api/v1/shares/<its token>/... and nothing else:
// not another run, not the runs list, not another project; revoked -> 404, expired -> 410.
// A route added to the registry without a row here fails the first test: give it one.

const U = ["unauthenticated", 401] as const;
type Want = number | readonly [code: string, status: number];
const NOT_HERE = { error: { code: "not_found", message: "this address serves shared links only" } };
const ACCOUNTS_OFF = ["not_found", 404] as const; // "accounts exist only in team mode"

/**
 * One row per non-share route: what a request carrying only a share token gets on the main listener.
 * Placeholders: RUN (run A, the shared one), FRESH (a run made for this request: the call may delete
 * or finish it). `team`: as nobody (the token is no credential); `local`: as the local user (the
 * token neither adds nor takes away anything).
 */
let sweepsMade = 0;
const ROWS = new Map<string, { target: string; body?: () => unknown; team: Want; local: Want; localInQuery?: Want }>([
  // the runs list refuses query parameters it does not know, and a token in the query is one
  ["GET /api/v1/runs", { target: "/api/v1/runs", team: U, local: 200, localInQuery: ["invalid_query", 400] }],
  ["POST /api/v1/runs", { target: "/api/v1/runs", body: () => ({ project: "via-token" }), team: U, local: 201 }],
  // a file's bytes only (application/octet-stream): these JSON bodies are refused at the gate
  [
    "POST /api/v1/import",
    {
      target: "/api/v1/import?project=via-token&source=s&path=a.log",
      body: () => ({}),
      team: ["unsupported_media_type", 415],
      local: ["unsupported_media_type", 415],
    },
  ],
  ["POST /api/v1/runs/bulk", { target: "/api/v1/runs/bulk", body: () => ({ ids: ["FRESH"], action: "archive" }), team: U, local: 200 }],
  ["GET /api/v1/runs/[id]", { target: "/api/v1/runs/RUN", team: U, local: 200 }],
  ["PATCH /api/v1/runs/[id]", { target: "/api/v1/runs/FRESH", body: () => ({ name: "renamed" }), team: U, local: 200 }],
  ["DELETE /api/v1/runs/[id]", { target: "/api/v1/runs/FRESH", team: U, local: 200 }],
  [
    "POST /api/v1/runs/[id]/log",
    { target: "/api/v1/runs/FRESH/log", body: () => ({ seq: 1, rows: [{ step: 0, metrics: { x: 1 } }] }), team: U, local: 200 },
  ],
  ["POST /api/v1/runs/[id]/finish", { target: "/api/v1/runs/FRESH/finish", body: () => ({}), team: U, local: 200 }],
  ["GET /api/v1/runs/[id]/series", { target: "/api/v1/runs/RUN/series?key=loss", team: U, local: 200 }],
  ["GET /api/v1/runs/[id]/histograms", { target: "/api/v1/runs/RUN/histograms?key=h", team: U, local: 200 }],
  ["GET /api/v1/runs/[id]/images", { target: "/api/v1/runs/RUN/images?key=i", team: U, local: 200 }],
  ["GET /api/v1/runs/[id]/alerts", { target: "/api/v1/runs/RUN/alerts", team: U, local: 200 }],
  ["GET /api/v1/runs/[id]/checklist", { target: "/api/v1/runs/RUN/checklist", team: U, local: 200 }],
  // a run's console output is not part of what a link shows
  // it refuses query parameters it does not know, and a token in the query is one
  ["GET /api/v1/runs/[id]/logs", { target: "/api/v1/runs/RUN/logs", team: U, local: 200, localInQuery: ["invalid_query", 400] }],
  [
    "POST /api/v1/runs/[id]/logs",
    { target: "/api/v1/runs/FRESH/logs", body: () => ({ lines: [{ n: 0, stream: "stdout", text: "x" }] }), team: U, local: 200 },
  ],
  ["GET /api/v1/runs/[id]/shares", { target: "/api/v1/runs/RUN/shares", team: U, local: 200 }],
  ["POST /api/v1/runs/[id]/shares", { target: "/api/v1/runs/FRESH/shares", body: () => ({}), team: U, local: 201 }],
  // a link's holder cannot revoke it, whichever way the token is given (its id is not the token's)
  ["DELETE /api/v1/runs/[id]/shares/[shareId]", { target: "/api/v1/runs/RUN/shares/999999", team: U, local: ["not_found", 404] }],
  // sweeps: never a shared link's (an unknown sweep answers 404 to whoever may read sweeps)
  ["GET /api/v1/sweeps", { target: "/api/v1/sweeps", team: U, local: 200, localInQuery: ["invalid_query", 400] }],
  [
    "POST /api/v1/sweeps",
    { target: "/api/v1/sweeps", body: () => ({ project: "via-token", name: `via-token-${++sweepsMade}` }), team: U, local: 201 },
  ],
  ["GET /api/v1/sweeps/[id]", { target: "/api/v1/sweeps/nosuchsweep", team: U, local: ["not_found", 404] }],
  ["GET /api/v1/sweeps/[id]/alerts", { target: "/api/v1/sweeps/nosuchsweep/alerts", team: U, local: ["not_found", 404] }],
  ["POST /api/v1/sweeps/[id]/trials", { target: "/api/v1/sweeps/nosuchsweep/trials", body: () => ({}), team: U, local: ["not_found", 404] }],
  ["POST /api/v1/sweeps/[id]/refine", { target: "/api/v1/sweeps/nosuchsweep/refine", body: () => ({}), team: U, local: ["not_found", 404] }],
  ["GET /api/v1/runs/[id]/should-stop", { target: "/api/v1/runs/RUN/should-stop", team: U, local: 200 }],
  ["POST /api/v1/auth/login", { target: "/api/v1/auth/login", body: () => ({}), team: ["invalid_body", 400], local: ACCOUNTS_OFF }],
  ["POST /api/v1/auth/logout", { target: "/api/v1/auth/logout", body: () => ({}), team: 204, local: 204 }],
  ["GET /api/v1/auth/me", { target: "/api/v1/auth/me", team: 200, local: 200 }],
  [
    "POST /api/v1/auth/password",
    { target: "/api/v1/auth/password", body: () => ({ current: "x", password: "a-new-password" }), team: U, local: ACCOUNTS_OFF },
  ],
  ["GET /api/v1/keys", { target: "/api/v1/keys", team: U, local: ACCOUNTS_OFF }],
  ["POST /api/v1/keys", { target: "/api/v1/keys", body: () => ({ name: "k" }), team: U, local: ACCOUNTS_OFF }],
  ["DELETE /api/v1/keys/[id]", { target: "/api/v1/keys/1", team: U, local: ACCOUNTS_OFF }],
  ["GET /api/v1/users", { target: "/api/v1/users", team: U, local: ACCOUNTS_OFF }],
  ["GET /api/v1/users/names", { target: "/api/v1/users/names", team: U, local: ACCOUNTS_OFF }],
  // the server-wide list of links: a person's (the token is none); the local user's, as the runs list
  ["GET /api/v1/shares", { target: "/api/v1/shares", team: U, local: 200 }],
  ["POST /api/v1/users", { target: "/api/v1/users", body: () => ({ name: "someone" }), team: U, local: ACCOUNTS_OFF }],
  ["PATCH /api/v1/users/[id]", { target: "/api/v1/users/1", body: () => ({ role: "member" }), team: U, local: ACCOUNTS_OFF }],
  ["DELETE /api/v1/users/[id]", { target: "/api/v1/users/1", team: U, local: ACCOUNTS_OFF }],
]);

/** The shared link's own routes (the token in the path): a suffix each, read in the tables below. */
const SHARE_SUFFIX = new Map<string, string>([
  ["GET /api/v1/shares/[token]", ""],
  ["GET /api/v1/shares/[token]/series", "/series?key=loss"],
  ["GET /api/v1/shares/[token]/histograms", "/histograms?key=h"],
  ["GET /api/v1/shares/[token]/images", "/images?key=i"],
  ["GET /api/v1/shares/[token]/alerts", "/alerts"],
  ["GET /api/v1/shares/[token]/checklist", "/checklist"],
]);

/**
 * Every page (every page.tsx under app/, route groups left out) but the shared page: what a request carrying
 * only a share token gets on the main listener. Team mode: 303 to /login as for nobody (the login
 * page itself answers); local mode: the page.
 */
const PAGES = new Map<string, { target: string; team: number; local: number }>([
  ["/", { target: "/", team: 303, local: 200 }],
  ["/account", { target: "/account", team: 303, local: 200 }],
  ["/compare", { target: "/compare?runs=RUN", team: 303, local: 200 }],
  ["/runs/[id]", { target: "/runs/RUN", team: 303, local: 200 }],
  // (an unknown sweep: its page answers 404 to whoever may read sweeps)
  ["/sweeps/[id]", { target: "/sweeps/nosuchsweep", team: 303, local: 404 }],
  ["/login", { target: "/login", team: 200, local: 200 }],
]);

function pageRoutes(dir = path.join(ROOT, "app"), prefix = ""): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isFile()) return e.name === "page.tsx" ? [prefix || "/"] : [];
    if (!e.isDirectory() || e.name === "api") return [];
    const part = e.name.startsWith("(") ? "" : `/${e.name}`; // a route group adds nothing to the path
    return pageRoutes(path.join(dir, e.name), prefix + part);
  });
}

const REGISTRY = API_ROUTES.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`));

/** The ways a client could try to present a token to a route that is not a share's. */
const PRESENT: [string, (token: string, target: string) => { target: string; headers: Record<string, string> }][] = [
  ["Authorization: Bearer", (t, target) => ({ target, headers: { authorization: `Bearer ${t}` } })],
  ["session cookie", (t, target) => ({ target, headers: { cookie: `babysit_session=${t}` } })],
  ["share cookie", (t, target) => ({ target, headers: { cookie: `share=${t}; token=${t}` } })],
  ["?token=", (t, target) => ({ target: `${target}${target.includes("?") ? "&" : "?"}token=${t}`, headers: {} })],
  ["?share=", (t, target) => ({ target: `${target}${target.includes("?") ? "&" : "?"}share=${t}`, headers: {} })],
];

test("every route of the registry has a row here (a new route must say what a share token gets)", () => {
  const missing = REGISTRY.filter((r) => !ROWS.has(r) && !SHARE_SUFFIX.has(r));
  expect(missing).toEqual([]);
  const stale = [...ROWS.keys(), ...SHARE_SUFFIX.keys()].filter((r) => !REGISTRY.includes(r));
  expect(stale).toEqual([]);
});

test("every page has a row here (the shared page is the token's own)", () => {
  expect(
    pageRoutes()
      .filter((p) => p !== "/share/[token]")
      .sort(),
  ).toEqual([...PAGES.keys()].sort());
});

interface World {
  main: string;
  share: string;
  /** Makes a run (in project p1, or the given one) with a `loss` point and returns its id. */
  newRun(project?: string): Promise<string>;
  /** A client with the rights to set things up (the admin in team mode). */
  owner: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
  runA: string;
  runB: string;
  runOther: string;
  tokenA: string;
  tokenB: string;
  revoked: string;
  expired: string;
  stop(): Promise<void>;
}

async function world(mode: "team" | "local"): Promise<World> {
  const sharePort = await freePort();
  const env = { BABYSIT_SHARE_PORT: String(sharePort) };
  let server: TestServer | TeamServer;
  let owner: World["owner"];
  if (mode === "team") {
    const team = await startTeamServer(env);
    owner = as(team.url, { cookie: await login(team.url, "admin", team.adminPassword) });
    server = team;
  } else {
    server = await startServer({ env });
    owner = (method, path, body) => api(server.url, method, path, body);
  }
  const newRun = async (project = "p1") => {
    const made = await owner("POST", "/api/v1/runs", { project, name: `run-${project}` });
    expect(made.status).toBe(201);
    const id = made.body.id as string;
    const batch = {
      seq: 1,
      rows: [{ step: 0, metrics: { loss: 1, [`secret-of-${id}`]: 7 } }],
      histograms: [{ step: 0, key: "h", edges: [0, 1], counts: [3] }],
      events: [{ type: "image", step: 0, data: { key: "i", width: 1, height: 1, png_base64: pngBase64(1, 1) } }],
    };
    expect((await owner("POST", `/api/v1/runs/${id}/log`, batch)).status).toBe(200);
    return id;
  };
  const link = async (run: string) => {
    const r = await owner("POST", `/api/v1/runs/${run}/shares`, { expiresIn: "1d" });
    expect(r.status).toBe(201);
    return r.body as { id: number; token: string };
  };
  const runA = await newRun();
  const runB = await newRun();
  const runOther = await newRun("p2");
  const revoked = await link(runA);
  expect((await owner("DELETE", `/api/v1/runs/${runA}/shares/${revoked.id}`)).status).toBe(204);
  const expired = await link(runA);
  const db = "db" in server ? server.db : null;
  if (db) db.prepare("UPDATE shares SET expires_at = 1 WHERE id = ?").run(expired.id);
  else {
    const { default: Database } = await import("better-sqlite3");
    const d = new Database(server.dbPath);
    d.pragma("busy_timeout = 5000");
    d.prepare("UPDATE shares SET expires_at = 1 WHERE id = ?").run(expired.id);
    d.close();
  }
  return {
    main: server.url,
    share: `http://127.0.0.1:${sharePort}`,
    newRun,
    owner,
    runA,
    runB,
    runOther,
    tokenA: (await link(runA)).token,
    tokenB: (await link(runB)).token,
    revoked: revoked.token,
    expired: expired.token,
    async stop() {
      if (db) db.close();
      await server.stop();
    },
  };
}

function expectAnswer(r: { status: number; body: any }, want: Want) {
  if (typeof want === "number") expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(want);
  else expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status: want[1], code: want[0] });
}

/** Everything run B and the p2 run hold that a token of run A must never show. */
const leaks = (w: World, body: unknown) => {
  const text = JSON.stringify(body);
  return [w.runB, w.runOther, `secret-of-${w.runB}`, `secret-of-${w.runOther}`, "run-p2", w.tokenB].filter((s) => text.includes(s));
};

describe.each(["team", "local"] as const)("%s mode", (mode) => {
  let w: World;
  beforeAll(async () => {
    w = await world(mode);
  });
  afterAll(async () => {
    await w?.stop();
  });

  const substitute = async (s: string) => (s.includes("FRESH") ? s.replaceAll("FRESH", await w.newRun()) : s).replaceAll("RUN", w.runA);
  const nonShare = [...ROWS].flatMap(([route, row]) => PRESENT.map(([how, present]) => [route, how, row, present] as const));

  test.each(nonShare)("main listener: %s with the token as %s", async (_route, _how, row, present) => {
    const target = await substitute(row.target);
    const body = row.body ? JSON.parse(await substitute(JSON.stringify(row.body()))) : undefined;
    const method = _route.split(" ", 1)[0];
    const req = present(w.tokenA, target);
    const r = await api(w.main, method, req.target, body, req.headers);
    expectAnswer(r, mode === "local" && req.target !== target && row.localInQuery ? row.localInQuery : row[mode]);
    if (mode === "team") expect(leaks(w, r.body)).toEqual([]);
  });

  test.each(nonShare)("share-only listener: %s with the token as %s -> 404, nothing of the dashboard", async (_route, _how, row, present) => {
    const target = await substitute(row.target);
    const body = row.body ? JSON.parse(await substitute(JSON.stringify(row.body()))) : undefined;
    const method = _route.split(" ", 1)[0];
    const req = present(w.tokenA, target);
    expect(await api(w.share, method, req.target, body, req.headers)).toEqual({ status: 404, body: NOT_HERE });
  });

  const pages = [...PAGES].flatMap(([page, row]) => PRESENT.map(([how, present]) => [page, how, row, present] as const));

  test.each(pages)(
    "page %s with the token as %s: as without it on the main listener, 404 on the share-only one",
    async (_page, _how, row, present) => {
      const req = present(w.tokenA, row.target.replace("RUN", w.runA));
      const main = await fetch(w.main + req.target, { headers: req.headers, redirect: "manual" });
      expect(main.status).toBe(row[mode]);
      if (main.status === 303) expect(main.headers.get("location")).toMatch(/^\/login\?next=/);
      if (mode === "team") expect(leaks(w, await main.text())).toEqual([]);
      const share = await fetch(w.share + req.target, { headers: req.headers, redirect: "manual" });
      expect({ status: share.status, body: await share.json() }).toEqual({ status: 404, body: NOT_HERE });
    },
  );

  test.each(["main", "share"] as const)("the shared page on the %s listener shows its run and nothing of another", async (where) => {
    const base = where === "main" ? w.main : w.share;
    const page = await fetch(`${base}/share/${w.tokenA}?run=${w.runB}&id=${w.runB}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(w.runA);
    expect(leaks(w, html).filter((l) => l !== w.runB)).toEqual([]); // B's id is in the URL asked for, which the page may echo
    expect(html).not.toContain(`secret-of-${w.runB}`);
  });

  test("nothing the token was sent to changed run A", async () => {
    const run = await w.owner("GET", `/api/v1/runs/${w.runA}`);
    expect(run.body.run.status).toBe("running");
    expect(run.body.run.name).toBe("run-p1");
    expect(run.body.keys.find((k: { key: string }) => k.key === "loss").count).toBe(1);
  });

  const shareRoutes = [...SHARE_SUFFIX].flatMap(([route, suffix]) => (["main", "share"] as const).map((where) => [route, where, suffix] as const));

  test.each(shareRoutes)("%s on the %s listener: the token opens its run, and only it", async (_route, where, suffix) => {
    const base = where === "main" ? w.main : w.share;
    const own = await api(base, "GET", `/api/v1/shares/${w.tokenA}${suffix}`);
    expect(own.status, JSON.stringify(own.body).slice(0, 300)).toBe(200);
    if (suffix === "") expect(own.body.run.id).toBe(w.runA);
    expect(leaks(w, own.body)).toEqual([]);
    // asking for run B or the p2 run through A's token, any way a client could try
    const q = suffix.includes("?") ? "&" : "?";
    for (const other of [w.runB, w.runOther]) {
      for (const extra of [`${q}run=${other}`, `${q}id=${other}`, `${q}runId=${other}`, `${q}key=secret-of-${other}`]) {
        const r = await api(base, "GET", `/api/v1/shares/${w.tokenA}${suffix}${extra}`);
        if (r.status === 200) expect(leaks(w, r.body), extra).toEqual([]);
        else expect(r.status, extra).toBe(400);
      }
    }
    // another link's token in a header beside A's path changes nothing
    const mixed = await api(base, "GET", `/api/v1/shares/${w.tokenA}${suffix}`, undefined, {
      authorization: `Bearer ${w.tokenB}`,
      cookie: `babysit_session=${w.tokenB}`,
    });
    if (mode === "team" && where === "main") expect(mixed.status).toBe(200); // the bearer is not an API key, but the route is public
    if (mixed.status === 200) expect(leaks(w, mixed.body)).toEqual([]);
  });

  test.each(shareRoutes)(
    "%s on the %s listener: a revoked link -> 404 not_found, an expired one -> 410 share_expired",
    async (_route, where, suffix) => {
      const base = where === "main" ? w.main : w.share;
      const revoked = await api(base, "GET", `/api/v1/shares/${w.revoked}${suffix}`);
      expect(revoked).toEqual({ status: 404, body: { error: { code: "not_found", message: "this share link does not exist or was revoked" } } });
      const expired = await api(base, "GET", `/api/v1/shares/${w.expired}${suffix}`);
      expect({ status: expired.status, code: expired.body.error?.code }).toEqual({ status: 410, code: "share_expired" });
      // a run id, or an unknown token, where the token goes
      for (const t of [w.runB, w.runA, "A".repeat(22)]) {
        const r = await api(base, "GET", `/api/v1/shares/${t}${suffix}`);
        expect({ status: r.status, code: r.body.error?.code }, t).toEqual({ status: 404, code: "not_found" });
      }
    },
  );

  test.each(["main", "share"] as const)("on the %s listener a token reaches no runs list, no other run, no other project", async (where) => {
    const base = where === "main" ? w.main : w.share;
    const paths = [
      // the server-wide list is a route of the dashboard (rows above): the share-only listener has none
      ...(where === "share" ? ["/api/v1/shares"] : []),
      "/api/v1/shares/TOKEN/runs",
      `/api/v1/shares/TOKEN/runs/${w.runB}`,
      `/api/v1/shares/TOKEN/${w.runB}`,
      `/api/v1/shares/TOKEN/series/${w.runB}`,
      "/api/v1/shares/TOKEN/shares",
      `/api/v1/shares/TOKEN/projects/p2`,
    ];
    for (const p of paths) {
      const r = await api(base, "GET", p.replace("TOKEN", w.tokenA));
      expect({ status: r.status, code: r.body.error?.code }, p).toEqual({ status: 404, code: "not_found" });
    }
    for (const p of [
      `/api/v1/shares/TOKEN/../../runs/${w.runB}`,
      `/api/v1/shares/TOKEN/%2e%2e/%2E%2E/runs/${w.runB}`,
      "/api/v1/shares/TOKEN/..%2f..%2fruns",
      "/api/v1/shares/TOKEN%2f..%2f..%2fruns",
    ]) {
      const r = await rawRequest(Number(new URL(base).port), { method: "GET", target: p.replace("TOKEN", w.tokenA) });
      expect({ status: r.status, code: (r.json as any)?.error?.code }, p).toEqual({ status: 400, code: "invalid_url" });
    }
  });
});
