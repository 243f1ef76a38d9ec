import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectedDiagnoses, replayOf } from "../helpers/fixtures";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// The real runs in ../shared/fixtures, replayed through the HTTP API, must raise exactly their
// expected diagnoses; alerts reach the log response (for the SDK's terminal), the alerts API and
// the webhook.

let server: TestServer;
let hook: http.Server;
const hooked: { alert: { code: string; severity: string } }[] = [];

beforeAll(async () => {
  hook = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      hooked.push(JSON.parse(body));
      res.end("ok");
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  const port = (hook.address() as { port: number }).port;
  server = await startServer({ env: { BABYSIT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, BABYSIT_EVAL_INTERVAL_MS: "200" } });
});
afterAll(async () => {
  await server?.stop();
  hook?.close();
});

const expected = expectedDiagnoses();

describe.each(Object.keys(expected))("fixture run %s replayed through the API", (name) => {
  test("raises every 'must' diagnosis and none of 'must_not'", async () => {
    const { config, batches } = replayOf(name);
    const created = await api(server.url, "POST", "/api/v1/runs", { project: "fixtures", name, config });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const delivered: { code: string }[] = [];
    for (const [seq, b] of batches.entries()) {
      const r = await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq, ...b });
      expect(r.status).toBe(200);
      delivered.push(...r.body.alerts);
    }
    const fin = await api(server.url, "POST", `/api/v1/runs/${id}/finish`, { status: "finished" });
    delivered.push(...fin.body.alerts);
    const { body } = await api(server.url, "GET", `/api/v1/runs/${id}/alerts`);
    const active = body.alerts.filter((a: { status: string }) => a.status === "active").map((a: { code: string }) => a.code);
    for (const code of expected[name].must) expect(active).toContain(code);
    for (const code of expected[name].must_not) expect(active).not.toContain(code);
    // and none of the forbidden ones was ever raised along the way, even briefly
    const ever = body.alerts.map((a: { code: string }) => a.code);
    for (const code of expected[name].must_not) expect(ever).not.toContain(code);
    // every active alert explains itself and was handed to the SDK once
    for (const a of body.alerts.filter((x: { status: string }) => x.status === "active")) {
      expect(a.title.length).toBeGreaterThan(10);
      expect(a.message.length).toBeGreaterThan(40);
      expect(["info", "warning", "critical"]).toContain(a.severity);
      expect(delivered.filter((d) => d.code === a.code)).toHaveLength(1);
    }
  });
});

describe("a diverging run", () => {
  test("raises a critical divergence live, hands it to the SDK and posts it to the webhook", async () => {
    const created = await api(server.url, "POST", "/api/v1/runs", { project: "fixtures", name: "nan", config: { num_classes: 10 } });
    const id = created.body.id;
    const rows = Array.from({ length: 60 }, (_, i) => ({ step: i, metrics: { "train/loss": i < 40 ? 2.3 - i * 0.01 : "NaN" } }));
    await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows });
    // without finishing: the babysitter watches live
    const got: { code: string; severity: string }[] = [];
    await waitFor(async () => {
      const r = await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: got.length + 1, rows: [] });
      got.push(...r.body.alerts);
      return got.some((a) => a.code === "divergence");
    }, 10_000, "divergence alert in a log response");
    expect(got.find((a) => a.code === "divergence")!.severity).toBe("critical");
    await waitFor(() => hooked.some((h) => h.alert.code === "divergence"), 10_000, "webhook call");
    const { body } = await api(server.url, "GET", `/api/v1/runs/${id}/alerts`);
    expect(body.alerts[0]).toMatchObject({ code: "divergence", severity: "critical", status: "active", firstStep: 40 });
  });
});
