import Database from "better-sqlite3";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { pngBase64 } from "../helpers/png";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// Run management against a real server: PATCH (rename, archive, tags, notes), DELETE (the run and
// every row of its data go, live pages hear it, a late batch or an SDK's re-create cannot bring it
// back), POST /runs/bulk answered per id, and the runs list's search, filters, sorts, columns and
// paging. Bad input is a 4xx with the envelope and writes nothing.

let server: TestServer;
const call = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => api(server.url, method, p, body, headers);
const sockets: Socket[] = [];
// every write is typed as JSON, a DELETE without a body too (what the pages send)
const JSON_TYPE = { "content-type": "application/json" };

beforeAll(async () => {
  server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "20" } });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
});

const withDb = <T>(fn: (db: Database.Database) => T): T => {
  const db = new Database(server.dbPath);
  try {
    db.pragma("busy_timeout = 5000");
    return fn(db);
  } finally {
    db.close();
  }
};

let seq = 0;
async function newRun(project: string, name: string, config: Record<string, unknown> = {}) {
  const r = await call("POST", "/api/v1/runs", { project, name, config });
  expect(r.status).toBe(201);
  return r.body.id as string;
}
async function log(id: string, metrics: Record<string, number | string>, step = seq) {
  const r = await call("POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows: [{ step, metrics }] });
  expect(r.status).toBe(200);
}
const runOf = async (id: string) => (await call("GET", `/api/v1/runs/${id}`)).body.run;

const cp = (n: number, c = "a") => c.repeat(n);
const ASTRAL = "\u{1F600}";

describe("PATCH /api/v1/runs/{id}", () => {
  test("renames (trimmed), archives, sets tags (a set, sorted) and notes (plain text); GET and the list show them", async () => {
    const id = await newRun("admin", "first name");
    const r = await call("PATCH", `/api/v1/runs/${id}`, {
      name: "  second name  ",
      tags: ["b", " a ", "b", "<i>x</i>"],
      notes: "line 1\r\nline 2\t<b>",
    });
    expect(r.status).toBe(200);
    expect(r.body.run).toMatchObject({ id, name: "second name", tags: ["<i>x</i>", "a", "b"], notes: "line 1\nline 2\t<b>", archived: false });
    expect(await runOf(id)).toMatchObject({ name: "second name", tags: ["<i>x</i>", "a", "b"], notes: "line 1\nline 2\t<b>", archived: false });
    const listed = (await call("GET", "/api/v1/runs?q=second")).body.runs.find((x: { id: string }) => x.id === id);
    expect(listed).toMatchObject({ name: "second name", tags: ["<i>x</i>", "a", "b"], archived: false });
    expect(listed.notes).toBeUndefined(); // lists stay small

    expect((await call("PATCH", `/api/v1/runs/${id}`, { archived: true })).body.run.archived).toBe(true);
    expect((await call("GET", "/api/v1/runs?q=second")).body.runs).toEqual([]);
    expect((await call("GET", "/api/v1/runs?q=second&archived=true")).body.runs.map((x: { id: string }) => x.id)).toEqual([id]);
    expect((await call("PATCH", `/api/v1/runs/${id}`, { archived: false, tags: [] })).body.run).toMatchObject({ archived: false, tags: [] });
  });

  test("local mode: runs have no owner (null in GET, PATCH answers and the list); ?owner= lists none", async () => {
    const id = await newRun("admin", "nobody's");
    expect((await runOf(id)).owner).toBeNull();
    expect((await call("PATCH", `/api/v1/runs/${id}`, { notes: "n" })).body.run.owner).toBeNull();
    const list = await call("GET", "/api/v1/runs?limit=1000");
    expect(list.body.runs.find((r: { id: string }) => r.id === id).owner).toBeNull();
    expect((await call("GET", "/api/v1/runs?owner=admin")).body.total).toBe(0);
  });

  test("the limits hold at their edge", async () => {
    const id = await newRun("admin", "edges");
    const atEdge = Array.from({ length: LIMITS.tagsPerRun.value }, (_, i) => `t${i}`);
    const r = await call("PATCH", `/api/v1/runs/${id}`, {
      name: ASTRAL.repeat(LIMITS.runNameMaxLength.value),
      tags: atEdge,
      notes: ASTRAL.repeat(LIMITS.notesMaxLength.value),
    });
    expect(r.status).toBe(200);
    expect(r.body.run.tags).toHaveLength(LIMITS.tagsPerRun.value);
    expect([...r.body.run.notes].length).toBe(LIMITS.notesMaxLength.value);
    const oneTag = await call("PATCH", `/api/v1/runs/${id}`, { tags: [ASTRAL.repeat(LIMITS.tagMaxLength.value)] });
    expect(oneTag.status).toBe(200);
  });

  const tooMany = Array.from({ length: LIMITS.tagsPerRun.value + 1 }, (_, i) => `t${i}`);
  test.each<[string, unknown, RegExp]>([
    ["an empty patch", {}, /give at least one of name, archived, tags, notes/],
    ["an unknown field", { status: "finished" }, /unknown field "status"/],
    ["a body that is an array", [], /must be a JSON object/],
    ["an empty name", { name: "" }, /^name /],
    ["a blank name", { name: "   " }, /^name /],
    ["a name with a control character", { name: "a\u0000b" }, /^name must not contain control characters/],
    ["a name with a lone surrogate", { name: "a\ud800" }, /^name must be well-formed/],
    ["a name over the limit", { name: cp(LIMITS.runNameMaxLength.value + 1) }, /^name must be at most 200 code points/],
    ["a name that is a number", { name: 5 }, /^name /],
    ["archived as a string", { archived: "yes" }, /^archived must be true or false/],
    ["tags as a string", { tags: "a" }, /^tags must be an array of strings/],
    ["an empty tag", { tags: ["ok", ""] }, /^tags\[1\] /],
    ["a tag over the limit", { tags: [ASTRAL.repeat(LIMITS.tagMaxLength.value + 1)] }, /^tags\[0\] must be at most 64 code points/],
    ["a tag with a newline", { tags: ["a\nb"] }, /^tags\[0\] must not contain control characters/],
    ["a tag that is a number", { tags: [1] }, /^tags\[0\] /],
    ["too many tags", { tags: tooMany }, /^tags must hold at most 32 tags/],
    ["notes over the limit", { notes: cp(LIMITS.notesMaxLength.value + 1) }, /^notes must be at most 10000 code points/],
    ["notes with a bell", { notes: "ding\u0007" }, /^notes must not contain control characters other than tab and newline/],
    ["notes with a lone surrogate", { notes: "x\udc00" }, /^notes must be well-formed/],
    ["notes as an object", { notes: { html: "<b>" } }, /^notes must be a string/],
    // local mode has no accounts: no name is an owner to give a run to
    ["an owner no account has", { owner: "mia", name: "renamed too" }, /^owner: no enabled account is named "mia"/],
    ["an empty owner", { owner: "" }, /^owner must be a user's name/],
    ["an owner that is not a string", { owner: 7 }, /^owner must be a user's name/],
    ["an owner over the limit", { owner: cp(65) }, /^owner must be at most 64 characters/],
  ])("%s -> 400 invalid_body, nothing written", async (_what, body, message) => {
    const id = await newRun("admin", "unchanged");
    const before = await runOf(id);
    const r = await call("PATCH", `/api/v1/runs/${id}`, body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_body");
    expect(r.body.error.message).toMatch(message);
    expect(await runOf(id)).toEqual(before);
  });

  test.each<[string, string, unknown, Record<string, string> | undefined, number, string]>([
    ["PATCH of an unknown run", "PATCH", { name: "x" }, undefined, 404, "not_found"],
    ["DELETE of an unknown run", "DELETE", undefined, JSON_TYPE, 404, "not_found"],
    ["PATCH without a JSON content type", "PATCH", '{"name":"x"}', { "content-type": "text/plain" }, 415, "unsupported_media_type"],
    ["PATCH with broken JSON", "PATCH", '{"name":', undefined, 400, "invalid_json"],
  ])("%s -> %i %s", async (_what, method, body, headers, status, code) => {
    const id = method === "PATCH" && status !== 404 ? await newRun("admin", "target") : "no-such-run";
    const r = await call(method, `/api/v1/runs/${id}`, body, headers);
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
  });
});

// every table that holds a run's data, and how to count the run's rows in it
const RUN_TABLES: [string, string][] = [
  ["runs", "SELECT COUNT(*) AS n FROM runs WHERE id = ?"],
  ["series", "SELECT COUNT(*) AS n FROM series WHERE run_id = ?"],
  ["chunks", "SELECT COUNT(*) AS n FROM chunks WHERE series_id IN (SELECT id FROM series WHERE run_id = ?)"],
  ["pending_batches", "SELECT COUNT(*) AS n FROM pending_batches WHERE run_id = ?"],
  ["batches", "SELECT COUNT(*) AS n FROM batches WHERE run_id = ?"],
  ["histograms", "SELECT COUNT(*) AS n FROM histograms WHERE run_id = ?"],
  ["events", "SELECT COUNT(*) AS n FROM events WHERE run_id = ?"],
  ["alerts", "SELECT COUNT(*) AS n FROM alerts WHERE run_id = ?"],
  ["shares", "SELECT COUNT(*) AS n FROM shares WHERE run_id = ?"],
  ["run_tags", "SELECT COUNT(*) AS n FROM run_tags WHERE run_id = ?"],
];
const rowsOf = (id: string) => withDb((db) => RUN_TABLES.map(([t, sql]) => [t, (db.prepare(sql).get(id) as { n: number }).n] as const));
const chunksTotal = () => withDb((db) => (db.prepare("SELECT COUNT(*) AS n FROM chunks").get() as { n: number }).n);

async function open(): Promise<Socket> {
  const s = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true });
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once("connect", () => resolve());
    s.once("connect_error", reject);
  });
  return s;
}

/** A run with data in every table: chunks and pending points, histograms, events, an image, an alert, a share, tags. */
async function fullRun(name: string) {
  const id = await newRun("deleting", name, { lr: 0.1 });
  const rows = Array.from({ length: 1200 }, (_, step) => ({ step, metrics: { "train/loss": step === 1199 ? "NaN" : 2 - step / 1000 } }));
  const r = await call("POST", `/api/v1/runs/${id}/log`, {
    seq: seq++,
    rows,
    histograms: [{ step: 0, key: "act/fc1", edges: [-1, 0, 1], counts: [2, 3] }],
    events: [
      { type: "image", step: 0, data: { key: "filters", width: 1, height: 1, png_base64: pngBase64(1, 1) } },
      { type: "note", step: 1, data: { text: "hello" } },
    ],
  });
  expect(r.status).toBe(200);
  expect((await call("POST", `/api/v1/runs/${id}/finish`, {})).status).toBe(200);
  await log(id, { "train/loss": 0.5 }, 5000); // a pending point after the compaction
  expect((await call("PATCH", `/api/v1/runs/${id}`, { tags: ["doomed"] })).status).toBe(200);
  const share = await call("POST", `/api/v1/runs/${id}/shares`, {});
  expect(share.status).toBe(201);
  await waitFor(async () => (await call("GET", `/api/v1/runs/${id}/alerts`)).body.alerts?.length > 0, 10_000, "an alert");
  return { id, token: share.body.token as string };
}

describe("DELETE /api/v1/runs/{id}", () => {
  test("the run and every row of its data go; pages open on it and on the list hear it at once", async () => {
    const keep = await fullRun("kept");
    const { id, token } = await fullRun("deleted");
    const before = Object.fromEntries(rowsOf(id));
    for (const t of ["runs", "series", "chunks", "pending_batches", "batches", "histograms", "events", "alerts", "shares", "run_tags"]) {
      expect(before[t], t).toBeGreaterThan(0);
    }
    const keptBefore = rowsOf(keep.id);
    const chunksBefore = chunksTotal();

    const list = await open();
    const page = await open();
    const shared = await open();
    list.emit("subscribe", { runs: true });
    page.emit("subscribe", { run: id });
    shared.emit("subscribe", { share: token });
    const listHeard = new Promise((resolve) => list.on("run-deleted", resolve));
    const pageHeard = new Promise((resolve) => page.on("run-deleted", resolve));
    const shareHeard = new Promise((resolve) => shared.on("share-revoked", resolve));
    // rooms are joined in order: a points event on the run means the subscriptions are in
    const joined = new Promise((resolve) => page.once("points", resolve));
    await log(id, { "train/loss": 0.4 }, 5001);
    await joined;

    const r = await call("DELETE", `/api/v1/runs/${id}`, undefined, JSON_TYPE);
    expect(r).toEqual({ status: 200, body: { id, deleted: true } });
    expect(await listHeard).toEqual({ runId: id });
    expect(await pageHeard).toEqual({ runId: id });
    expect(await shareHeard).toMatchObject({ reason: "revoked" });

    expect(rowsOf(id).filter(([, n]) => n > 0)).toEqual([]);
    expect(rowsOf(keep.id)).toEqual(keptBefore); // the other run is untouched
    expect(chunksTotal()).toBe(chunksBefore - before.chunks);
    expect((await call("GET", `/api/v1/runs/${id}`)).status).toBe(404);
    expect((await call("GET", "/api/v1/runs?archived=all")).body.runs.some((x: { id: string }) => x.id === id)).toBe(false);
    expect((await call("GET", `/api/v1/shares/${token}`)).status).toBe(404);
    expect((await call("DELETE", `/api/v1/runs/${id}`, undefined, JSON_TYPE)).body.error.code).toBe("not_found");
  });

  test("a late batch answers 404 and an SDK's re-create 410 run_deleted: the run does not come back", async () => {
    const id = await newRun("deleting", "late", { lr: 1 });
    await log(id, { loss: 1 });
    expect((await call("DELETE", `/api/v1/runs/${id}`, undefined, JSON_TYPE)).status).toBe(200);
    const late = await call("POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows: [{ step: 1, metrics: { loss: "NaN" } }] });
    expect(late.status).toBe(404);
    expect(late.body.error).toEqual({ code: "not_found", message: `run ${id} was deleted; nothing more is stored for it` });
    const again = await call("POST", "/api/v1/runs", { project: "deleting", name: "late", id });
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe("run_deleted");
    expect(rowsOf(id).filter(([, n]) => n > 0)).toEqual([]);
    // the diagnostics held the run in memory: nothing is written for it once it is gone
    await new Promise((r) => setTimeout(r, 100)); // two evaluation intervals (BABYSIT_EVAL_INTERVAL_MS=20)
    expect(rowsOf(id).filter(([, n]) => n > 0)).toEqual([]);
    expect(server.output()).not.toMatch(/FOREIGN KEY|diagnostics of run .* failed/);
  });
});

describe("POST /api/v1/runs/bulk", () => {
  test("each action on several runs, answered per id; unknown ids say so and the others are done", async () => {
    const a = await newRun("bulk", "bulk-a");
    const b = await newRun("bulk", "bulk-b");
    const c = await newRun("bulk", "bulk-c");
    const bulk = (body: unknown) => call("POST", "/api/v1/runs/bulk", body);

    let r = await bulk({ ids: [a, "no-such-run", b], action: "tag", tag: " sweep-1 " });
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      { id: a, ok: true },
      { id: "no-such-run", ok: false, error: { code: "not_found", message: "run no-such-run does not exist" } },
      { id: b, ok: true },
    ]);
    expect((await runOf(a)).tags).toEqual(["sweep-1"]);
    expect((await call("GET", "/api/v1/runs?tag=sweep-1")).body.runs.map((x: { id: string }) => x.id).sort()).toEqual([a, b].sort());

    r = await bulk({ ids: [a, c], action: "archive" });
    expect(r.body.results.every((x: { ok: boolean }) => x.ok)).toBe(true);
    expect((await call("GET", "/api/v1/runs?project=bulk")).body.runs.map((x: { id: string }) => x.id)).toEqual([b]);
    r = await bulk({ ids: [c], action: "unarchive" });
    expect((await call("GET", "/api/v1/runs?project=bulk")).body.runs.map((x: { id: string }) => x.id)).toEqual([c, b]);
    r = await bulk({ ids: [a, b], action: "untag", tag: "sweep-1" });
    expect((await runOf(b)).tags).toEqual([]);
    r = await bulk({ ids: [a, b], action: "delete" });
    expect(r.body.results).toEqual([
      { id: a, ok: true },
      { id: b, ok: true },
    ]);
    expect((await call("GET", "/api/v1/runs?project=bulk&archived=all")).body.runs.map((x: { id: string }) => x.id)).toEqual([c]);
  });

  test("tagging a run that has the most tags already is refused for that run only", async () => {
    const full = await newRun("bulk", "full");
    const free = await newRun("bulk", "free");
    const tags = Array.from({ length: LIMITS.tagsPerRun.value }, (_, i) => `t${i}`);
    expect((await call("PATCH", `/api/v1/runs/${full}`, { tags })).status).toBe(200);
    const r = await call("POST", "/api/v1/runs/bulk", { ids: [full, free], action: "tag", tag: "one-more" });
    expect(r.body.results[0]).toMatchObject({ id: full, ok: false, error: { code: "conflict" } });
    expect(r.body.results[1]).toEqual({ id: free, ok: true });
    // a tag it has already is fine
    expect((await call("POST", "/api/v1/runs/bulk", { ids: [full], action: "tag", tag: "t0" })).body.results[0].ok).toBe(true);
  });

  const many = Array.from({ length: LIMITS.bulkRunsMax.value + 1 }, (_, i) => `r${i}`);
  test.each<[string, unknown, RegExp]>([
    ["no ids", { ids: [], action: "archive" }, /^ids must name at least one run/],
    ["too many ids", { ids: many, action: "archive" }, /^ids must name at most 1000 runs/],
    ["an id twice", { ids: ["a", "b", "a"], action: "archive" }, /^ids\[2\] is given twice/],
    ["a malformed id", { ids: ["ok", "a/b"], action: "archive" }, /^ids\[1\] must be 1-64 characters/],
    ["ids as a string", { ids: "a", action: "archive" }, /^ids must be an array of run ids/],
    ["an unknown action", { ids: ["a"], action: "rename" }, /^action must be one of delete, archive, unarchive, tag, untag/],
    ["tag without a tag", { ids: ["a"], action: "tag" }, /^tag is required with action tag/],
    ["a tag with archive", { ids: ["a"], action: "archive", tag: "x" }, /^tag goes with action tag or untag only/],
    ["an over-long tag", { ids: ["a"], action: "tag", tag: cp(65) }, /^tag must be at most 64 code points/],
    ["an unknown field", { ids: ["a"], action: "archive", force: true }, /unknown field "force"/],
  ])("%s -> 400 invalid_body, nothing done", async (_what, body, message) => {
    const id = await newRun("bulk-bad", "untouched");
    const withRun =
      body && typeof body === "object" && Array.isArray((body as { ids?: unknown }).ids) && (body as { ids: string[] }).ids.length < 5
        ? { ...(body as object), ids: (body as { ids: string[] }).ids.map((x) => (x === "a" ? id : x)) }
        : body;
    const r = await call("POST", "/api/v1/runs/bulk", withRun);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_body");
    expect(r.body.error.message).toMatch(message);
    expect(await runOf(id)).toMatchObject({ archived: false, tags: [] });
  });

  test('"bulk" cannot be a run id (it is a route), GET on it is 405', async () => {
    const r = await call("POST", "/api/v1/runs", { project: "bulk", id: "bulk" });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/^id must not be "bulk"/);
    const get = await call("GET", "/api/v1/runs/bulk");
    expect(get.status).toBe(405);
    expect(get.body.error.code).toBe("method_not_allowed");
  });
});

describe("GET /api/v1/runs: search, filters, sorts, columns, paging", () => {
  let ids: Record<string, string>;
  beforeAll(async () => {
    ids = {};
    const make = async (name: string, project: string, config: Record<string, unknown>, acc?: number[]) => {
      const id = await newRun(project, name, config);
      ids[name] = id;
      if (acc) for (const [i, v] of acc.entries()) await log(id, { "val/acc": v }, i);
    };
    await make("Sweep lr=0.1 100%", "search", { lr: 0.1, opt: "adam", "a.b": 1, 'q"k': "x", deep: { lr: 5 }, flag: true }, [0.5, 0.9, 0.7]);
    await make("sweep lr=0.01", "search", { lr: 0.01, opt: "sgd", flag: false }, [0.2, 0.3]);
    await make("SWEEP_x", "search", { lr: 0.001, opt: "0.1" }, [0.95, 0.1]);
    await make("other", "search", { opt: "adam" });
    await make("elsewhere", "search-2", { lr: 0.1 });
  });
  const names = async (query: string) => {
    const r = await call("GET", `/api/v1/runs?${query}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.runs.map((x: { name: string }) => x.name) as string[];
  };

  test.each<[string, string, string[]]>([
    ["q: a substring, any case", "project=search&q=SWEEP&sort=name", ["SWEEP_x", "Sweep lr=0.1 100%", "sweep lr=0.01"]],
    ["q: % is a character", "project=search&q=%25", ["Sweep lr=0.1 100%"]],
    ["q: _ is a character", "project=search&q=_", ["SWEEP_x"]],
    ["q: a backslash is a character", "project=search&q=%5C", []],
    ["config number", "project=search&config.lr=0.1&sort=name", ["Sweep lr=0.1 100%"]],
    ["config number across projects", "config.lr=0.1&sort=name&q=w", ["Sweep lr=0.1 100%", "elsewhere"]],
    ["config range", "project=search&config.lr=0.005..0.5&sort=name", ["Sweep lr=0.1 100%", "sweep lr=0.01"]],
    ["config open range", "project=search&config.lr=..0.01&sort=name", ["SWEEP_x", "sweep lr=0.01"]],
    ["config text", "project=search&config.opt=adam&sort=name", ["Sweep lr=0.1 100%", "other"]],
    ["config quoted text that looks like a number", 'project=search&config.opt="0.1"', ["SWEEP_x"]],
    ["a number does not match text", "project=search&config.opt=0.1", []],
    ["config true", "project=search&config.flag=true", ["Sweep lr=0.1 100%"]],
    ["config false", "project=search&config.flag=false", ["sweep lr=0.01"]],
    ["a key with a dot is one key", "project=search&config.a.b=1", ["Sweep lr=0.1 100%"]],
    ["a key with a quote", `project=search&config.${encodeURIComponent('q"k')}=x`, ["Sweep lr=0.1 100%"]],
    ["a nested value is not a top-level key", "project=search&config.deep=5", []],
    ["sort by config, missing last", "project=search&sort=config&sortKey=lr", ["SWEEP_x", "sweep lr=0.01", "Sweep lr=0.1 100%", "other"]],
    [
      "sort by config descending, missing still last",
      "project=search&sort=-config&sortKey=lr",
      ["Sweep lr=0.1 100%", "sweep lr=0.01", "SWEEP_x", "other"],
    ],
    [
      "sort by best (max) metric",
      "project=search&sort=-metric&sortKey=val/acc&sortAgg=max",
      ["SWEEP_x", "Sweep lr=0.1 100%", "sweep lr=0.01", "other"],
    ],
    ["sort by last metric", "project=search&sort=-metric&sortKey=val/acc", ["Sweep lr=0.1 100%", "sweep lr=0.01", "SWEEP_x", "other"]],
    [
      "sort by min metric ascending",
      "project=search&sort=metric&sortKey=val/acc&sortAgg=min",
      ["SWEEP_x", "sweep lr=0.01", "Sweep lr=0.1 100%", "other"],
    ],
    ["paging", "project=search&sort=name&limit=2&offset=1", ["Sweep lr=0.1 100%", "other"]],
  ])("%s", async (_what, query, want) => {
    expect(await names(query)).toEqual(want);
  });

  test("columns carry the chosen config values and metric summaries; total counts every match", async () => {
    const r = await call(
      "GET",
      `/api/v1/runs?project=search&sort=name&limit=1&configColumns=${encodeURIComponent(JSON.stringify(["lr", "deep", "__proto__", "nope"]))}&metricColumns=${encodeURIComponent(JSON.stringify(["val/acc"]))}`,
    );
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(4);
    expect(r.body.runs[0].name).toBe("SWEEP_x");
    expect(r.body.runs[0].columns).toEqual({ config: { lr: 0.001 }, metrics: { "val/acc": { last: 0.1, min: 0.1, max: 0.95 } } });
    const first = (await call("GET", `/api/v1/runs?q=${encodeURIComponent("Sweep lr=0.1")}&configColumns=${encodeURIComponent('["deep","lr"]')}`))
      .body.runs[0];
    expect(first.columns.config).toEqual({ deep: null, lr: 0.1 }); // an object is not shown in a column
  });

  test.each<[string, string, RegExp]>([
    ["an unknown sort", "sort=lr", /^sort must be one of/],
    ["sort=config without a key", "sort=config", /^sortKey is required with sort=config/],
    ["a sort key without a keyed sort", "sortKey=lr", /^sortKey goes with sort=config or sort=metric only/],
    ["an unknown aggregate", "sort=metric&sortKey=a&sortAgg=best", /^sortAgg must be last, min or max/],
    ["archived=yes", "archived=yes", /^archived must be false \(the default\), true or all/],
    ["an empty search", "q=", /^q must not be empty/],
    ["a search with a control character", "q=a%01", /^q must not contain control characters/],
    ["an over-long search", `q=${cp(201)}`, /^q must be at most 200 code points/],
    ["an empty config key", "config.=1", /names no usable config key/],
    ["an empty config value", "config.lr=", /must have a value that must not be empty/],
    ["a backwards range", "config.lr=1..0", /must be a range from low to high/],
    ["a range of words", "config.lr=a..b", /must be a range of numbers/],
    ["a broken quoted text", 'config.opt="abc', /must be a whole JSON string/],
    ["a number too large", "config.lr=1e999", /must be a number a double can hold/],
    ["columns that are not a JSON array", "configColumns=lr", /^configColumns must be a JSON array of config keys/],
    [
      "too many columns",
      `metricColumns=${encodeURIComponent(JSON.stringify(Array.from({ length: 21 }, (_, i) => `k${i}`)))}`,
      /^metricColumns must name at most 20 keys/,
    ],
    ["a negative offset", "offset=-1", /^offset must be >= 0/],
    ["a parameter twice", "q=a&q=b", /"q" is given more than once/],
  ])("%s -> 400 invalid_query", async (_what, query, message) => {
    const r = await call("GET", `/api/v1/runs?${query}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_query");
    expect(r.body.error.message).toMatch(message);
  });

  test("too many config filters -> 400", async () => {
    const q = Array.from({ length: LIMITS.runConfigFiltersMax.value + 1 }, (_, i) => `config.k${i}=1`).join("&");
    const r = await call("GET", `/api/v1/runs?${q}`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/at most 20 filters per query/);
  });
});
