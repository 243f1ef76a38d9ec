import { afterAll, beforeAll, expect, test } from "vitest";
import { type TestServer, api, startServer } from "../helpers/server";

// Local mode (a loopback HOST, the default) has no accounts: nothing asks who you are, and the
// account routes say they are off. The rest of the suite runs in local mode and covers that
// everything else is as before.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

test("nothing asks who you are: runs, shares and pages answer without a login", async () => {
  const run = await api(server.url, "POST", "/api/v1/runs", { project: "local" });
  expect(run.status).toBe(201);
  expect((await api(server.url, "POST", `/api/v1/runs/${run.body.id}/shares`, {})).status).toBe(201);
  expect((await fetch(server.url, { redirect: "manual" })).status).toBe(200);
  expect(server.output()).not.toContain("team mode");
});

test("who am I says local mode", async () => {
  expect((await api(server.url, "GET", "/api/v1/auth/me")).body).toEqual({ mode: "local", user: null, key: null });
});

test.each([
  ["POST", "/api/v1/auth/login", { name: "a", password: "b" }],
  ["GET", "/api/v1/users", undefined],
  ["POST", "/api/v1/users", { name: "x" }],
  ["GET", "/api/v1/keys", undefined],
  ["POST", "/api/v1/keys", { name: "k" }],
])("%s %s: 404 not_found (accounts exist only in team mode)", async (method, path, body) => {
  const r = await api(server.url, method, path, body);
  expect([r.status, r.body.error.code]).toEqual([404, "not_found"]);
  expect(r.body.error.message).toContain("team mode");
});

test("an API key sent to a local server is ignored, not refused (scripts with BABYSIT_API_KEY set still log)", async () => {
  const r = await api(server.url, "POST", "/api/v1/runs", { project: "local" }, { authorization: "Bearer bsk_not-a-real-key" });
  expect(r.status).toBe(201);
});

test("/login answers (a page saying there is no login here; it asks /api/v1/auth/me)", async () => {
  const r = await fetch(`${server.url}/login`, { redirect: "manual" });
  expect(r.status).toBe(200);
});
