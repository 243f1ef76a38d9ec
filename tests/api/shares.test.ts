import crypto from "node:crypto";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pngBase64 } from "../helpers/png";
import { rawRequest } from "../helpers/raw-http";
import { type TestServer, api, startServer } from "../helpers/server";

// Shared run links: made with an expiry and listed per run (without their tokens), read through
// /api/v1/shares/<token>/... only (the same answers as the run's own API), revoked by the run's
// owner only, stored as hashes.

let server: TestServer;
const call = (method: string, p: string, body?: unknown) => api(server.url, method, p, body);
const DAY = 86_400;
const GONE = { status: 404, body: { error: { code: "not_found", message: "this share link does not exist or was revoked" } } };

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function runWithData(name = "shared-mlp") {
  const r = await call("POST", "/api/v1/runs", { project: "sharing", name, config: { num_classes: 10 } });
  const id = r.body.id as string;
  const log = await call("POST", `/api/v1/runs/${id}/log`, {
    seq: 1,
    rows: [0, 1, 2].map((step) => ({ step, metrics: { "train/loss": step === 2 ? "NaN" : 2.3 - step / 10 } })),
    histograms: [{ step: 0, key: "act/fc1", edges: [-1, 0, 1], counts: [2, 3] }],
    events: [{ type: "image", step: 0, data: { key: "filters", width: 1, height: 1, png_base64: pngBase64(1, 1) } }],
  });
  expect(log.status).toBe(200);
  return id;
}

async function share(runId: string, body: unknown = {}) {
  const made = await call("POST", `/api/v1/runs/${runId}/shares`, body);
  expect(made.status).toBe(201);
  return made.body as { id: number; token: string; url: string; prefix: string; createdAt: number; expiresAt: number | null };
}

const withDb = <T>(fn: (db: Database.Database) => T): T => {
  const db = new Database(server.dbPath);
  try {
    db.pragma("busy_timeout = 5000");
    return fn(db);
  } finally {
    db.close();
  }
};

const PATHS = ["", "/series?key=train/loss", "/series?keys=train/loss", "/histograms?key=act/fc1", "/images?key=filters", "/alerts"];

describe("shared links", () => {
  test("a link reads exactly what the run's API gives, and nothing once its owner revoked it", async () => {
    const id = await runWithData();
    const made = await call("POST", `/api/v1/runs/${id}/shares`, {});
    expect(made.status).toBe(201);
    const { token, url } = made.body;
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/); // 128 random bits
    expect(made.body).toEqual({
      id: expect.any(Number),
      runId: id,
      token,
      url: `/share/${token}`,
      // made through 127.0.0.1 with no published address: the link opens on this machine only
      note: expect.stringContaining("This link works only on this machine: 127.0.0.1 is a loopback address"),
      prefix: token.slice(0, 6),
      createdAt: expect.any(Number),
      expiresAt: made.body.createdAt + 7 * DAY, // the default
      expired: false,
      lastOpenedAt: null,
      createdBy: null,
    });
    expect(url).toBe(`/share/${token}`);

    for (const p of PATHS) {
      const direct = await call("GET", `/api/v1/runs/${id}${p}`);
      expect(direct.status, p).toBe(200);
      // the run itself without its owner, which a link never shows (docs/security.md)
      if (direct.body.run) {
        expect(Object.hasOwn(direct.body.run, "owner"), p).toBe(true);
        delete direct.body.run.owner;
        expect(Object.hasOwn(direct.body.run, "sweep"), p).toBe(true);
        delete direct.body.run.sweep; // nor its sweep (docs/api.md: a shared run's view does not name its sweep)
      }
      expect(await call("GET", `/api/v1/shares/${token}${p}`), p).toEqual(direct);
    }
    // the run API's own validation and errors, word for word
    for (const p of ["/series", "/series?key=nope", "/histograms"]) {
      const direct = await call("GET", `/api/v1/runs/${id}${p}`);
      expect(direct.status, p).toBeGreaterThanOrEqual(400);
      expect(await call("GET", `/api/v1/shares/${token}${p}`), p).toEqual(direct);
    }
    expect((await call("GET", `/api/v1/shares/${token}/series?key=train/loss`)).body.buckets.at(-1).last).toBe("NaN");
    expect((await call("GET", `/share/${token}`)).status).toBe(200);

    expect((await call("DELETE", `/api/v1/runs/${id}/shares/${made.body.id}`)).status).toBe(204);
    for (const p of PATHS) expect(await call("GET", `/api/v1/shares/${token}${p}`), p).toEqual(GONE);
    expect((await call("GET", `/share/${token}`)).status).toBe(404);
    expect(await call("DELETE", `/api/v1/runs/${id}/shares/${made.body.id}`)).toEqual({
      status: 404,
      body: { error: { code: "not_found", message: `run ${id} has no share link ${made.body.id}` } },
    }); // not twice
    expect((await call("GET", `/api/v1/runs/${id}`)).status).toBe(200); // the run itself is untouched
  });

  test("a run has as many links as it wants, listed without their tokens and revoked one by one", async () => {
    const id = await runWithData();
    const a = await share(id);
    const b = await share(id, { expiresIn: "never" });
    expect(a.token).not.toBe(b.token);
    const list = await call("GET", `/api/v1/runs/${id}/shares`);
    expect(list.status).toBe(200);
    expect(list.body.shares.map((s: { id: number }) => s.id)).toEqual([a.id, b.id]);
    expect(list.body.shares[1]).toEqual({
      id: b.id,
      runId: id,
      prefix: b.token.slice(0, 6),
      createdAt: b.createdAt,
      expiresAt: null,
      expired: false,
      lastOpenedAt: null,
      createdBy: null,
    });
    // the full link is shown once, at creation: never in a list
    expect(JSON.stringify(list.body)).not.toContain(a.token);
    expect(JSON.stringify(list.body)).not.toContain(b.token);

    expect((await call("DELETE", `/api/v1/runs/${id}/shares/${a.id}`)).status).toBe(204);
    expect((await call("GET", `/api/v1/runs/${id}/shares`)).body.shares.map((s: { id: number }) => s.id)).toEqual([b.id]);
    expect((await call("GET", `/api/v1/shares/${b.token}`)).body.run.id).toBe(id);
  });

  test("the database keeps a SHA-256 of each token, never the token", async () => {
    const id = await runWithData();
    const s = await share(id);
    const rows = withDb((db) => db.prepare("SELECT * FROM shares WHERE id = ?").all(s.id)) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toBe(crypto.createHash("sha256").update(s.token).digest("hex"));
    for (const v of Object.values(rows[0])) expect(String(v)).not.toContain(s.token);
  });

  test("opening a link is recorded (last opened), not on every read", async () => {
    const id = await runWithData();
    const s = await share(id);
    const lastOpened = async () =>
      (await call("GET", `/api/v1/runs/${id}/shares`)).body.shares.find((x: { id: number }) => x.id === s.id).lastOpenedAt;
    expect(await lastOpened()).toBeNull();
    const before = Date.now() / 1000;
    expect((await call("GET", `/share/${s.token}`)).status).toBe(200);
    const first = await lastOpened();
    expect(first).toBeGreaterThanOrEqual(before - 1);
    expect((await call("GET", `/api/v1/shares/${s.token}/series?key=train/loss`)).status).toBe(200);
    expect(await lastOpened()).toBe(first); // within a minute: no second write
  });

  test.each([
    ["1d", 1 * DAY],
    ["7d", 7 * DAY],
    ["30d", 30 * DAY],
    ["never", null],
  ])("expiresIn %s", async (expiresIn, ttl) => {
    const id = await runWithData();
    const s = await share(id, { expiresIn });
    expect(s.expiresAt).toBe(ttl === null ? null : s.createdAt + ttl);
    expect((await call("GET", `/api/v1/shares/${s.token}`)).status).toBe(200);
  });

  const CHOICES = "must be one of 1d, 7d, 30d, never";
  test.each([
    ["2d", `expiresIn ${CHOICES}`],
    ["NEVER", `expiresIn ${CHOICES}`],
    ["", `expiresIn ${CHOICES}`],
    [7, `expiresIn ${CHOICES}`],
    [null, `expiresIn ${CHOICES}`],
    [["7d"], `expiresIn ${CHOICES}`],
  ])("expiresIn %j -> 400 invalid_body, no link made", async (expiresIn, message) => {
    const id = await runWithData();
    expect(await call("POST", `/api/v1/runs/${id}/shares`, { expiresIn })).toEqual({
      status: 400,
      body: { error: { code: "invalid_body", message } },
    });
    expect((await call("GET", `/api/v1/runs/${id}/shares`)).body.shares).toEqual([]);
  });

  test("an expired link answers 410 share_expired everywhere, its page says so, its owner's list marks it", async () => {
    const id = await runWithData();
    const s = await share(id, { expiresIn: "1d" });
    const past = Date.now() / 1000 - 60;
    withDb((db) => db.prepare("UPDATE shares SET expires_at = ? WHERE id = ?").run(past, s.id));
    const message = `this share link expired on ${new Date(past * 1000).toISOString()}`;
    for (const p of PATHS) {
      expect(await call("GET", `/api/v1/shares/${s.token}${p}`), p).toEqual({ status: 410, body: { error: { code: "share_expired", message } } });
    }
    const page = await call("GET", `/share/${s.token}`);
    expect(page.status).toBe(410);
    expect(page.body).toContain("This link has expired");
    expect(page.body).not.toContain("shared-mlp");
    const listed = (await call("GET", `/api/v1/runs/${id}/shares`)).body.shares[0];
    expect(listed).toMatchObject({ id: s.id, expired: true, expiresAt: past });
    // the owner can still remove it
    expect((await call("DELETE", `/api/v1/runs/${id}/shares/${s.id}`)).status).toBe(204);
    expect(await call("GET", `/api/v1/shares/${s.token}`)).toEqual(GONE);
  });

  test.each([
    ["POST", "/api/v1/runs/no-such-run/shares", "run no-such-run does not exist"],
    ["GET", "/api/v1/runs/no-such-run/shares", "run no-such-run does not exist"],
    ["DELETE", "/api/v1/runs/no-such-run/shares/1", "run no-such-run does not exist"],
    ["GET", "/api/v1/shares/AAAAAAAAAAAAAAAAAAAAAA", "this share link does not exist or was revoked"],
    ["GET", "/api/v1/shares/not-a-token/series?key=x", "this share link does not exist or was revoked"],
  ])("%s %s -> 404", async (method, p, message) => {
    expect(await api(server.url, method, p, method === "POST" ? {} : undefined)).toEqual({
      status: 404,
      body: { error: { code: "not_found", message } },
    });
  });

  test.each(["0", "-1", "abc", "1e3", "01", "99999999", "1.0", "9".repeat(40)])(
    "DELETE of share id %s -> 404, the run's link stays",
    async (shareId) => {
      const id = await runWithData();
      const s = await share(id);
      expect(await call("DELETE", `/api/v1/runs/${id}/shares/${shareId}`)).toEqual({
        status: 404,
        body: { error: { code: "not_found", message: `run ${id} has no share link ${shareId.slice(0, 40)}` } },
      });
      expect((await call("GET", `/api/v1/shares/${s.token}`)).status).toBe(200);
    },
  );

  test("a link is revoked only under its own run: another run's id does not reach it", async () => {
    const mine = await runWithData("mine");
    const other = await runWithData("other");
    const s = await share(mine);
    expect((await call("DELETE", `/api/v1/runs/${other}/shares/${s.id}`)).status).toBe(404);
    expect((await call("GET", `/api/v1/shares/${s.token}`)).status).toBe(200);
  });

  test("the link holder cannot revoke it: DELETE /api/v1/shares/{token} -> 405 with Allow", async () => {
    const id = await runWithData();
    const s = await share(id);
    const res = await fetch(`${server.url}/api/v1/shares/${s.token}`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
    expect((await call("GET", `/api/v1/shares/${s.token}`)).status).toBe(200);
  });

  test("a link cannot write: the run's log and finish stay behind its id", async () => {
    const id = await runWithData();
    const token = (await share(id)).token;
    for (const p of ["/log", "/finish", ""]) {
      const r = await call("POST", `/api/v1/shares/${token}${p}`, { seq: 9, rows: [{ step: 9, metrics: { x: 1 } }] });
      expect(r.status, p).toBeGreaterThanOrEqual(400);
    }
    expect((await call("GET", `/api/v1/runs/${id}`)).body.run.status).toBe("running");
    expect((await call("GET", `/api/v1/runs/${id}/series?key=x`)).status).toBe(404); // nothing was logged
  });

  test("share pages and their API say Referrer-Policy: no-referrer, so the token never leaves in a Referer", async () => {
    const id = await runWithData();
    const s = await share(id);
    for (const p of [`/share/${s.token}`, `/api/v1/shares/${s.token}`, `/api/v1/shares/${s.token}/series?key=train/loss`]) {
      const res = await fetch(server.url + p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get("referrer-policy"), p).toBe("no-referrer");
      if (p.startsWith("/share/")) expect(await res.text()).toContain('<meta name="referrer" content="no-referrer"/>');
    }
  });
});

describe("paths that step out of a link are refused before routing", () => {
  // raw requests: fetch() would resolve the dot segments itself
  const FORMS = [
    "/api/v1/shares/TOKEN/../../runs/OTHER",
    "/api/v1/shares/TOKEN/%2E%2E/%2E%2E/runs/OTHER",
    "/api/v1/shares/TOKEN/%2e%2E/%2E%2e/runs/OTHER",
    "/api/v1/shares/TOKEN/.%2e/..%2E/runs/OTHER",
    "/api/v1/shares/TOKEN/../../runs/OTHER/series?key=secret/loss",
    "/api/v1/shares/TOKEN/series/../../../runs/OTHER",
    "/api/v1/shares/TOKEN/./../../runs/OTHER",
    "/api/v1/shares/TOKEN/..;/..;/runs/OTHER",
    "/api/v1/shares/TOKEN/%2e%2e;x/%2e%2e;x/runs/OTHER",
    "/api/v1/shares/TOKEN/%252e%252e/%252e%252e/runs/OTHER",
    "/api/v1/shares/TOKEN/..%2f..%2fruns%2fOTHER",
    "/api/v1/shares/TOKEN/..%5C..%5Cruns%5COTHER",
    "/share/TOKEN/../../runs/OTHER",
    "/share/..%2Fruns%2FOTHER",
    "/../api/v1/runs/OTHER",
  ];
  let token: string;
  let other: string;
  beforeAll(async () => {
    token = (await share(await runWithData("shared-one"))).token;
    other = await runWithData("private-run");
    await call("POST", `/api/v1/runs/${other}/log`, { seq: 2, rows: [{ step: 5, metrics: { "secret/loss": 0.125 } }] });
  });

  test.each(FORMS)("GET %s -> 400 invalid_url, nothing of the other run", async (form) => {
    const target = form.replace("TOKEN", token).replaceAll("OTHER", other);
    const a = await rawRequest(server.port, { method: "GET", target });
    expect(a.status).toBe(400);
    expect(a.json.error.code).toBe("invalid_url");
    const text = a.body.toString();
    for (const secret of ["private-run", "secret/loss", "0.125", "num_classes"]) expect(text).not.toContain(secret);
  });
});
