import { describe, expect, test } from "vitest";
import { useFreshDatabase } from "../../helpers/lib-db";

// Storage with extreme numbers, and stored data that cannot be processed: set aside (kept as a
// "babysit/quarantined" event of the run), never replayed into the same failure or a hang.

useFreshDatabase();
const { sqlite } = await import("@/lib/db");
const { appendRunPoints, compactRun } = await import("@/lib/series/append-points");
const { getSeries } = await import("@/lib/series/get-series");
const { scanRunPoints } = await import("@/lib/series/read-points");
const { runSeries, forgetRunSeries } = await import("@/lib/series/series-meta");
const { encodePending, decodePending } = await import("@/lib/series/codec");
const { QUARANTINE_EVENT } = await import("@/lib/series/quarantine");

const db = sqlite();
function makeRun(id: string) {
  db.prepare("INSERT OR IGNORE INTO projects (name, created_at) VALUES ('p', 0)").run();
  db.prepare(
    "INSERT INTO runs (id, project_id, name, created_at, updated_at, last_seen_at) VALUES (?, (SELECT id FROM projects WHERE name='p'), ?, 0, 0, 0)",
  ).run(id, id);
}
type Gen = (i: number) => number;
/** `n` points in batches of 100, like an SDK; a key's step, value and time from its index. */
function fill(runId: string, key: string, n: number, step: Gen, value: Gen, time: Gen) {
  for (let b = 0; b < n; b += 100) {
    const p = { steps: [] as number[], values: [] as number[], times: [] as number[] };
    for (let i = b; i < Math.min(b + 100, n); i++) {
      p.steps.push(step(i));
      p.values.push(value(i));
      p.times.push(time(i));
    }
    db.transaction(() => appendRunPoints(db, runId, new Map([[key, p]])))();
  }
}
const quarantined = (runId: string) =>
  (db.prepare("SELECT data FROM events WHERE run_id = ? AND type = ?").all(runId, QUARANTINE_EVENT) as { data: string }[]).map((r) =>
    JSON.parse(r.data),
  );
const TOP = Number.MAX_SAFE_INTEGER;

/** A key's points read back as the diagnostics read them (steps, values), with their times as the series API reads them. */
function readBack(runId: string, key: string) {
  const steps: number[] = [];
  const values: number[] = [];
  scanRunPoints(runId, (k, s, v) => {
    if (k !== key) return;
    steps.push(...s);
    values.push(...v);
  });
  const times = getSeries(runId, key, { points: 100_000 }).buckets.map((b) => b.time);
  return { steps, values, times };
}

describe("extreme numbers through storage (compaction, restart, reads)", () => {
  test.each([
    ["times of 1e306 (compaction used to loop forever)", 1100, (i: number) => i, () => 1, (i: number) => 1e306 + i * 1e291],
    ["steps up to 2^53-1", 1100, (i: number) => TOP - 1099 + i, (i: number) => i, (i: number) => 1795698225 + i],
    [
      "values near +-1.8e308 with NaN and infinities",
      1100,
      (i: number) => i,
      (i: number) => [Number.MAX_VALUE, -Number.MAX_VALUE, NaN, Infinity, -Infinity, 5e-324, -0][i % 7],
      (i: number) => i,
    ],
    ["huge epochs", 1100, (i: number) => i, (i: number) => (i % 2 ? 1e12 : -1e300), () => 0],
  ])("%s", (name, n, step, value, time) => {
    const id = `x-${name.length}-${n}`;
    makeRun(id);
    fill(id, "k", n, step, value, time);
    expect(runSeries(id).get("k")!.sealedMaxStep).toBe(step(n - 1)); // compacted
    forgetRunSeries(id); // as after a restart
    const back = readBack(id, "k");
    expect(back.steps).toEqual(Array.from({ length: n }, (_, i) => step(i)));
    for (let i = 0; i < n; i++) {
      expect(Object.is(back.values[i], value(i))).toBe(true);
      expect(back.times[i]).toBeCloseTo(time(i), 2);
    }
    const r = getSeries(id, "k", { points: 10 });
    expect(r.buckets.reduce((s, b) => s + b.count, 0)).toBe(n);
    expect(quarantined(id)).toEqual([]);
  });

  test("a bucket of 1e308 values read from chunk summaries has mean 1e308 (was null)", () => {
    makeRun("big-mean");
    fill(
      "big-mean",
      "k",
      30_000,
      (i) => i,
      () => 1e308,
      (i) => i,
    );
    const r = getSeries("big-mean", "k", { points: 3 });
    expect(r.exact).toBe(false);
    for (const b of r.buckets) expect(b).toMatchObject({ mean: 1e308, min: 1e308, max: 1e308 });
  });
});

describe("quarantine", () => {
  test("a pending batch that does not decode is set aside when the run loads; the rest reads", () => {
    makeRun("bad-pending");
    fill(
      "bad-pending",
      "k",
      50,
      (i) => i,
      (i) => i,
      (i) => i,
    );
    const { id: seriesId } = db.prepare("SELECT id FROM series WHERE run_id = 'bad-pending'").get() as { id: number };
    const bad = Buffer.from(new Float64Array([seriesId, -3, 0, 0]).buffer); // a negative count
    db.prepare("INSERT INTO pending_batches (run_id, data) VALUES ('bad-pending', ?)").run(bad);
    forgetRunSeries("bad-pending");
    expect(runSeries("bad-pending").get("k")!.count).toBe(50);
    expect(quarantined("bad-pending")).toMatchObject([{ kind: "pending_batch", data_base64: bad.toString("base64") }]);
    // not replayed again: the next load finds nothing to set aside
    forgetRunSeries("bad-pending");
    expect(runSeries("bad-pending").get("k")!.count).toBe(50);
    expect(quarantined("bad-pending")).toHaveLength(1);
  });

  test("a chunk that does not decode is set aside when read; totals are recounted", () => {
    makeRun("bad-chunk");
    fill(
      "bad-chunk",
      "k",
      3000,
      (i) => i,
      (i) => i,
      (i) => i,
    );
    db.transaction(() => compactRun(db, "bad-chunk", true))();
    const first = db
      .prepare("SELECT c.id FROM chunks c JOIN series s ON s.id = c.series_id WHERE s.run_id = 'bad-chunk' ORDER BY c.start_step LIMIT 1")
      .get() as { id: number };
    db.prepare("UPDATE chunks SET data = ? WHERE id = ?").run(Buffer.from([1, 2, 3]), first.id);
    const r = getSeries("bad-chunk", "k", { points: 5000 });
    expect(r.buckets.length).toBeGreaterThan(0);
    expect(r.buckets[0].step).toBeGreaterThan(0);
    const q = quarantined("bad-chunk");
    expect(q).toMatchObject([{ kind: "chunk", key: "k", firstStep: 0, data_base64: Buffer.from([1, 2, 3]).toString("base64") }]);
    forgetRunSeries("bad-chunk");
    expect(runSeries("bad-chunk").get("k")!.count).toBe(3000 - q[0].points);
  });

  test("a series whose compaction throws is set aside; the other series and the batch go on", () => {
    makeRun("bad-compact");
    fill(
      "bad-compact",
      "ok",
      500,
      (i) => i,
      (i) => i,
      (i) => i,
    );
    const { id: failing } = db
      .prepare(
        "INSERT INTO series (run_id, key, count, first_step, last_step, last_value) VALUES ('bad-compact', 'fails', 0, 0, -1, '\"NaN\"') RETURNING id",
      )
      .get() as { id: number };
    forgetRunSeries("bad-compact");
    db.exec(`CREATE TRIGGER fail_chunk BEFORE INSERT ON chunks WHEN NEW.series_id = ${failing} BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    try {
      fill(
        "bad-compact",
        "fails",
        1100,
        (i) => i,
        (i) => i,
        (i) => i,
      ); // compaction at 1,024 points
      fill(
        "bad-compact",
        "fails",
        5,
        (i) => 2000 + i,
        (i) => i,
        (i) => i,
      ); // later batches still go in
    } finally {
      db.exec("DROP TRIGGER fail_chunk");
    }
    const q = quarantined("bad-compact");
    expect(q).toMatchObject([{ kind: "pending_points", key: "fails", points: 1100, firstStep: 0, lastStep: 1099 }]);
    const [[sid, kept]] = decodePending(Buffer.from(q[0].data_base64, "base64"));
    expect([sid, kept.steps.length, kept.steps[1099]]).toEqual([failing, 1100, 1099]);
    expect(runSeries("bad-compact").get("ok")!.sealedMaxStep).toBe(499); // the other series compacted
    forgetRunSeries("bad-compact"); // a restart replays nothing that was set aside
    expect(runSeries("bad-compact").get("fails")).toMatchObject({ count: 5, firstStep: 2000 });
    expect(runSeries("bad-compact").get("ok")).toMatchObject({ count: 500 });
  });

  test("stored pending points with a 1e306 time (before the schema refused it) compact and read after a restart", () => {
    makeRun("legacy-1e306");
    fill(
      "legacy-1e306",
      "k",
      10,
      (i) => i,
      (i) => i,
      (i) => i,
    );
    const { id } = db.prepare("SELECT id FROM series WHERE run_id = 'legacy-1e306'").get() as { id: number };
    const p = { steps: [] as number[], values: [] as number[], times: [] as number[] };
    for (let i = 10; i < 1200; i++) {
      p.steps.push(i);
      p.values.push(i);
      p.times.push(1e306);
    }
    db.prepare("INSERT INTO pending_batches (run_id, data) VALUES ('legacy-1e306', ?)").run(encodePending([[id, p]]));
    forgetRunSeries("legacy-1e306");
    fill(
      "legacy-1e306",
      "k",
      1,
      () => 5000,
      () => 1,
      () => 1,
    ); // triggers compaction
    db.transaction(() => compactRun(db, "legacy-1e306", true))();
    forgetRunSeries("legacy-1e306");
    const back = readBack("legacy-1e306", "k");
    expect(back.steps.length).toBe(1201);
    expect(back.times[500]).toBe(1e306);
    expect(quarantined("legacy-1e306")).toEqual([]);
  });
});
