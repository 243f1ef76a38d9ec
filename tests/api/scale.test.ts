import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestServer, api, freshDbPath, startServer } from "../helpers/server";

// 1,200 runs (997 and more used to answer 500 on the home page and GET /api/v1/runs?limit=1000:
// one SQLite bind parameter per run), written straight into the database before the server starts.

const N = 1200;
let server: TestServer;
const call = (p: string) => api(server.url, "GET", p);

beforeAll(async () => {
  const dbPath = freshDbPath();
  const db = new Database(dbPath);
  const now = Date.now() / 1000;
  db.transaction(() => {
    db.prepare("INSERT INTO projects (name, created_at) VALUES ('scale', 0)").run();
    const ins = db.prepare("INSERT INTO runs (id, project_id, name, status, created_at, updated_at, last_seen_at) VALUES (?, 1, ?, ?, ?, ?, ?)");
    const alert = db.prepare(
      "INSERT INTO alerts (run_id, code, severity, status, step, first_step, title, message, evidence, created_at, updated_at) VALUES (?, 'divergence', 'critical', 'active', 0, 0, 't', 'm', '{}', 0, 0)",
    );
    for (let i = 0; i < N; i++) {
      const id = `scale-${i}`;
      // i % 4: 0 running, 1 stale (running, silent for an hour), 2 finished, 3 crashed
      const status = ["running", "running", "finished", "crashed"][i % 4];
      ins.run(id, `scale run ${i}`, status, 1000 + i, 1000 + i, i % 4 === 1 ? now - 3600 : now);
      alert.run(id);
    }
  })();
  db.close();
  server = await startServer({ dbPath });
});
afterAll(async () => {
  await server?.stop();
});

describe(`${N} runs`, () => {
  test("GET /api/v1/runs?limit=1000 -> 200 with the 1000 newest, each with its alert count", async () => {
    const r = await call("/api/v1/runs?limit=1000");
    expect(r.status).toBe(200);
    expect(r.body.runs).toHaveLength(1000);
    expect(r.body.runs[0]).toMatchObject({ id: `scale-${N - 1}`, alerts: { critical: 1 } });
    expect(r.body.runs[999].id).toBe(`scale-${N - 1000}`);
    expect(r.body.projects).toEqual([{ name: "scale", runs: N }]);
  });

  test.each([
    ["running", 0],
    ["stale", 1],
    ["finished", 2],
    ["crashed", 3],
  ])("?status=%s&limit=1000 -> every run of that status and no other", async (status, rem) => {
    const r = await call(`/api/v1/runs?status=${status}&limit=1000`);
    expect(r.status).toBe(200);
    expect(r.body.runs).toHaveLength(N / 4);
    for (const run of r.body.runs) {
      expect(run.status).toBe(status);
      expect(Number(run.id.slice(6)) % 4).toBe(rem);
    }
  });

  test("the home page answers 200 and lists the runs", async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`scale run ${N - 1}`);
    expect(html).toContain(`scale run ${N - 1000}`);
  });
});
