import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pngBase64 } from "../helpers/png";
import { type TestServer, api, startServer } from "../helpers/server";

// Shared run links: made and listed per run, read through /api/v1/shares/<token>/... only (the
// same answers as the run's own API), revoked for good.

let server: TestServer;
const call = (method: string, p: string, body?: unknown) => api(server.url, method, p, body);

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function runWithData() {
  const r = await call("POST", "/api/v1/runs", { project: "sharing", name: "shared-mlp", config: { num_classes: 10 } });
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

describe("shared links", () => {
  test("a link reads exactly what the run's API gives, and nothing once revoked", async () => {
    const id = await runWithData();
    const made = await call("POST", `/api/v1/runs/${id}/shares`);
    expect(made.status).toBe(201);
    const { token, url, runId, createdAt } = made.body;
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(url).toBe(`/share/${token}`);
    expect(runId).toBe(id);
    expect(createdAt).toBeGreaterThan(0);

    const paths = ["", "/series?key=train/loss", "/series?keys=train/loss", "/histograms?key=act/fc1", "/images?key=filters", "/alerts"];
    for (const p of paths) {
      const direct = await call("GET", `/api/v1/runs/${id}${p}`);
      expect(direct.status, p).toBe(200);
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

    const revoked = await api(server.url, "DELETE", `/api/v1/shares/${token}`);
    expect(revoked.status).toBe(204);
    for (const p of paths) {
      const r = await call("GET", `/api/v1/shares/${token}${p}`);
      expect(r, p).toEqual({ status: 404, body: { error: { code: "not_found", message: "this share link does not exist or was revoked" } } });
    }
    expect((await call("GET", `/share/${token}`)).status).toBe(404);
    expect((await api(server.url, "DELETE", `/api/v1/shares/${token}`)).status).toBe(404); // not twice
    expect((await call("GET", `/api/v1/runs/${id}`)).status).toBe(200); // the run itself is untouched
  });

  test("a run has as many links as it wants, each listed and revoked on its own", async () => {
    const id = await runWithData();
    const a = (await call("POST", `/api/v1/runs/${id}/shares`)).body.token;
    const b = (await call("POST", `/api/v1/runs/${id}/shares`)).body.token;
    expect(a).not.toBe(b);
    const list = await call("GET", `/api/v1/runs/${id}/shares`);
    expect(list.status).toBe(200);
    expect(list.body.shares.map((s: { token: string }) => s.token)).toEqual([a, b]);
    expect(list.body.shares[0]).toMatchObject({ runId: id, url: `/share/${a}` });
    expect((await api(server.url, "DELETE", `/api/v1/shares/${a}`)).status).toBe(204);
    expect((await call("GET", `/api/v1/runs/${id}/shares`)).body.shares.map((s: { token: string }) => s.token)).toEqual([b]);
    expect((await call("GET", `/api/v1/shares/${b}`)).body.run.id).toBe(id);
  });

  test.each([
    ["POST", "/api/v1/runs/no-such-run/shares", "run no-such-run does not exist"],
    ["GET", "/api/v1/runs/no-such-run/shares", "run no-such-run does not exist"],
    ["GET", "/api/v1/shares/AAAAAAAAAAAAAAAAAAAAAA", "this share link does not exist or was revoked"],
    ["GET", "/api/v1/shares/not-a-token/series?key=x", "this share link does not exist or was revoked"],
    ["DELETE", "/api/v1/shares/AAAAAAAAAAAAAAAAAAAAAA", "this share link does not exist or was revoked"],
  ])("%s %s -> 404", async (method, p, message) => {
    expect(await api(server.url, method, p)).toEqual({ status: 404, body: { error: { code: "not_found", message } } });
  });

  test("a link cannot write: the run's log and finish stay behind its id", async () => {
    const id = await runWithData();
    const token = (await call("POST", `/api/v1/runs/${id}/shares`)).body.token;
    for (const p of ["/log", "/finish", ""]) {
      const r = await call("POST", `/api/v1/shares/${token}${p}`, { seq: 9, rows: [{ step: 9, metrics: { x: 1 } }] });
      expect(r.status, p).toBeGreaterThanOrEqual(400);
    }
    expect((await call("GET", `/api/v1/runs/${id}`)).body.run.status).toBe("running");
    expect((await call("GET", `/api/v1/runs/${id}/series?key=x`)).status).toBe(404); // nothing was logged
  });
});
