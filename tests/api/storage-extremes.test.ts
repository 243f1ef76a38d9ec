import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { encodePending } from "@/lib/series/codec";
import { type TestServer, api, startServer } from "../helpers/server";

// Stored data the server must survive, written straight into its database between restarts (the
// schema may refuse such values on the wire today; data stored before that, or by another
// version, is still there): pending points with a time of 1e306 s sent compaction into an endless
// loop on the next batch, and again after every restart. A pending batch that does not decode is
// set aside, not replayed into a failure.

let server: TestServer | undefined;
afterAll(async () => {
  await server?.stop();
});

describe("a run whose stored pending points have extreme numbers", () => {
  test("the server compacts them, keeps answering, and restarts", async () => {
    server = await startServer();
    const { dbPath, port } = server;
    const call = (method: string, p: string, body?: unknown) => api(server!.url, method, p, body);
    const created = await call("POST", "/api/v1/runs", { project: "extremes", name: "x" });
    const id = created.body.id as string;
    expect((await call("POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: [{ step: 0, metrics: { loss: 1, other: 2 } }] })).status).toBe(200);
    await server.stop();

    const db = new Database(dbPath);
    const series = new Map(
      (db.prepare("SELECT id, key FROM series WHERE run_id = ?").all(id) as { id: number; key: string }[]).map((r) => [r.key, r.id]),
    );
    const p = { steps: [] as number[], values: [] as number[], times: [] as number[] };
    const q = { steps: [] as number[], values: [] as number[], times: [] as number[] };
    for (let i = 1; i <= 1100; i++) {
      p.steps.push(i);
      p.values.push(i % 2 ? 1e308 : -Number.MAX_VALUE);
      p.times.push(1e306);
      q.steps.push(i);
      q.values.push(i % 3 ? 5e-324 : NaN);
      q.times.push(i % 5 ? Number.MAX_VALUE : NaN);
    }
    const ins = db.prepare("INSERT INTO pending_batches (run_id, data) VALUES (?, ?)");
    ins.run(
      id,
      encodePending([
        [series.get("loss")!, p],
        [series.get("other")!, q],
      ]),
    );
    const corrupt = Buffer.from(new Float64Array([series.get("loss")!, 1e12, 1, 2]).buffer); // claims 10^12 points
    ins.run(id, corrupt);
    db.close();

    for (let restart = 0; restart < 2; restart++) {
      server = await startServer({ dbPath, port });
      const run = await call("GET", `/api/v1/runs/${id}`);
      expect(run.status).toBe(200);
      expect(run.body.keys.find((k: { key: string }) => k.key === "loss")).toMatchObject({ count: 1101 + restart });
      // the undecodable batch is set aside once, kept, and shown among the run's events
      const quarantined = run.body.events.filter((e: { type: string }) => e.type === "babysit/quarantined");
      expect(quarantined).toMatchObject([{ data: { kind: "pending_batch", data_base64: corrupt.toString("base64") } }]);
      // the next batch compacts the 1e306-time points (this hung the server before)
      const logged = await call("POST", `/api/v1/runs/${id}/log`, { seq: 1 + restart, rows: [{ step: 2000 + restart, metrics: { loss: 0.5 } }] });
      expect(logged.status).toBe(200);
      const s = await call("GET", `/api/v1/runs/${id}/series?key=loss&points=2&from=1&to=1100`);
      expect(s.status).toBe(200);
      expect(s.body.buckets.map((b: { count: number }) => b.count).reduce((a: number, b: number) => a + b)).toBe(1100);
      expect(s.body.buckets[0]).toMatchObject({ min: -Number.MAX_VALUE, max: 1e308, time: 1e306 });
      const exact = await call("GET", `/api/v1/runs/${id}/series?key=other&points=10&from=1&to=5`);
      expect(exact.body.buckets.map((b: { last: unknown }) => b.last)).toEqual([5e-324, 5e-324, "NaN", 5e-324, 5e-324]);
      if (restart === 0) await server.stop();
    }
    expect((await call("POST", `/api/v1/runs/${id}/finish`, {})).status).toBe(200);
    const after = await call("GET", `/api/v1/runs/${id}/series?key=other&points=10000`);
    expect(after.status).toBe(200);
    expect(after.body.buckets).toHaveLength(1101);
    expect(after.body.buckets[4]).toMatchObject({ step: 4, time: 1.7976931348623157e308 });
  });
});
