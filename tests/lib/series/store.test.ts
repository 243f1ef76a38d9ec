import { beforeAll, describe, expect, test } from "vitest";
import { useFreshDatabase } from "../../helpers/lib-db";

useFreshDatabase();
const { sqlite } = await import("@/lib/db");
const { appendRunPoints, compactRun } = await import("@/lib/series/append-points");
const { getSeries } = await import("@/lib/series/get-series");
const { appendBatch } = await import("@/lib/ingest/append-batch");
const { runSeries, forgetRunSeries } = await import("@/lib/series/series-meta");

function makeRun(id: string) {
  const db = sqlite();
  db.prepare("INSERT OR IGNORE INTO projects (name, created_at) VALUES ('p', 0)").run();
  db.prepare(
    "INSERT INTO runs (id, project_id, name, created_at, updated_at, last_seen_at) VALUES (?, (SELECT id FROM projects WHERE name='p'), ?, 0, 0, 0)",
  ).run(id, id);
}

/** Appends `n` points in batches of `batch` like an SDK would. */
function fill(runId: string, key: string, n: number, value: (i: number) => number, batch = 100, start = 0) {
  const db = sqlite();
  for (let b = start; b < start + n; b += batch) {
    const p = { steps: [] as number[], values: [] as number[], times: [] as number[] };
    for (let i = b; i < Math.min(b + batch, start + n); i++) {
      p.steps.push(i);
      p.values.push(value(i));
      p.times.push(1000 + i);
    }
    db.transaction(() => appendRunPoints(db, runId, new Map([[key, p]])))();
  }
}

const num = (v: unknown) => (typeof v === "string" ? Number(v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : NaN) : (v as number));

describe("a long series with a spike and a NaN", () => {
  const N = 200_000;
  const SPIKE = 123_457;
  const NAN_AT = 77_777;
  const INF_AT = 150_001;
  beforeAll(() => {
    makeRun("long");
    fill("long", "train/loss", N, (i) => (i === SPIKE ? 1e6 : i === NAN_AT ? NaN : i === INF_AT ? Infinity : 1 + Math.sin(i / 1000) * 0.1), 1000);
  });

  // points per bucket: 20,000 (chunk summaries), 200 (sub summaries), ~raw zooms
  test.each([
    ["whole range, 10 buckets", 10, undefined, undefined],
    ["whole range, 1000 buckets", 1000, undefined, undefined],
    ["1% zoom", 1000, 122_000, 124_000],
    ["tight zoom on the spike", 50, SPIKE - 100, SPIKE + 100],
    ["whole range, 5 buckets", 5, undefined, undefined],
  ])("%s keeps the spike, the NaN and the Infinity", (_n, points, from, to) => {
    const r = getSeries("long", "train/loss", { points, from, to });
    expect(r.buckets.length).toBeLessThanOrEqual(points);
    const holding = r.buckets.find((b) => b.step <= SPIKE && SPIKE <= b.lastStep)!;
    expect(num(holding.max)).toBe(1e6);
    const lo = from ?? 0;
    const hi = to ?? N - 1;
    if (lo <= NAN_AT && NAN_AT <= hi) expect(r.buckets.reduce((s, b) => s + b.nan, 0)).toBe(1);
    if (lo <= INF_AT && INF_AT <= hi) expect(r.buckets.reduce((s, b) => s + b.posInf, 0)).toBe(1);
    // every point is counted exactly once
    expect(r.buckets.reduce((s, b) => s + b.count, 0)).toBe(hi - lo + 1);
    // buckets are in step order and do not overlap
    for (let i = 1; i < r.buckets.length; i++) expect(r.buckets[i].step).toBeGreaterThan(r.buckets[i - 1].lastStep);
  });

  test("a range of no more points than asked for is exact", () => {
    const r = getSeries("long", "train/loss", { points: 201, from: NAN_AT - 100, to: NAN_AT + 100 });
    expect(r.exact).toBe(true);
    expect(r.buckets).toHaveLength(201);
    expect(r.buckets[100]).toMatchObject({ step: NAN_AT, last: "NaN", nan: 1 });
  });

  test("series totals are kept at ingest", () => {
    const m = runSeries("long").get("train/loss")!;
    expect(m).toMatchObject({ count: N, firstStep: 0, lastStep: N - 1, nan: 1, posInf: 1, max: 1e6 });
  });
});

describe("a step logged again replaces the old value", () => {
  test.each([
    ["in the pending segments", 500, 250],
    ["in a sealed chunk", 5000, 1234],
    ["before the first step", 5000, -1],
  ])("%s", (_name, n, at) => {
    const id = `restep-${n}-${at}`;
    makeRun(id);
    fill(id, "loss", n, () => 1, 100, 1);
    const step = at === -1 ? 0 : at;
    const db = sqlite();
    db.transaction(() => appendRunPoints(db, id, new Map([["loss", { steps: [step], values: [42], times: [5] }]])))();
    const r = getSeries(id, "loss", { points: 10_000 });
    expect(r.exact).toBe(true);
    expect(r.buckets.find((b) => b.step === step)!.last).toBe(42);
    const expected = at === -1 ? n + 1 : n;
    expect(r.buckets).toHaveLength(expected);
    forgetRunSeries(id); // totals must match what is stored, not just the cache
    expect(runSeries(id).get("loss")).toMatchObject({ count: expected, max: 42 });
  });
});

describe("pending points", () => {
  test("survive a restart: a fresh process replays them from pending_batches", () => {
    makeRun("replay");
    fill("replay", "dense", 3000, (i) => i, 100);
    fill("replay", "sparse", 3, (i) => (i === 1 ? NaN : 5 - i), 1);
    const before = getSeries("replay", "dense", { points: 10_000 });
    forgetRunSeries("replay");
    const after = getSeries("replay", "dense", { points: 10_000 });
    expect(after).toEqual(before);
    expect(after.buckets).toHaveLength(3000);
    expect(getSeries("replay", "sparse", { points: 10 }).buckets.map((b) => b.last)).toEqual([5, "NaN", 3]);
    expect(runSeries("replay").get("sparse")).toMatchObject({ count: 3, nan: 1, min: 3, max: 5, lastStep: 2 });
  });

  test("compaction seals dense series and carries sparse ones over in one row", () => {
    makeRun("carry");
    const db = sqlite();
    for (let s = 0; s < 1100; s += 100) {
      const dense = { steps: [] as number[], values: [] as number[], times: [] as number[] };
      for (let i = s; i < s + 100; i++) {
        dense.steps.push(i);
        dense.values.push(i);
        dense.times.push(i);
      }
      db.transaction(() =>
        appendRunPoints(
          db,
          "carry",
          new Map([
            ["dense", dense],
            ["val", { steps: [s], values: [s / 100], times: [s] }],
          ]),
        ),
      )();
    }
    const rows = () => db.prepare("SELECT COUNT(*) AS n FROM pending_batches WHERE run_id = 'carry'").get() as { n: number };
    expect(rows().n).toBe(1); // compacted at 1,100 dense points: one carry row left
    expect(runSeries("carry").get("dense")!.pending.steps).toHaveLength(0);
    expect(runSeries("carry").get("val")!.pending.steps).toHaveLength(11);
    forgetRunSeries("carry");
    expect(runSeries("carry").get("val")).toMatchObject({ count: 11, lastValue: 10 });
    expect(runSeries("carry").get("dense")).toMatchObject({ count: 1100, lastStep: 1099, sealedMaxStep: 1099 });
    db.transaction(() => compactRun(db, "carry", true))();
    expect(rows().n).toBe(0);
    forgetRunSeries("carry");
    expect(runSeries("carry").get("val")).toMatchObject({ count: 11, lastValue: 10, sealedMaxStep: 1000 });
    expect(getSeries("carry", "val", { points: 100 }).buckets).toHaveLength(11);
  });
});

describe("batches", () => {
  test("a repeated seq is acknowledged and not stored twice", () => {
    makeRun("dup");
    const batch = { seq: 7, rows: [{ step: 1, metrics: { a: 1, b: "NaN" as const } }], histograms: [], events: [] };
    const first = appendBatch("dup", batch);
    const again = appendBatch("dup", { ...batch, rows: [{ step: 2, metrics: { a: 5 } }] });
    expect(first).toMatchObject({ duplicate: false, accepted: { points: 2 } });
    expect(again).toMatchObject({ duplicate: true, accepted: { points: 2 } });
    expect(getSeries("dup", "a", { points: 10 }).buckets.map((b) => b.step)).toEqual([1]);
  });

  test("a batch that fails writes nothing", () => {
    makeRun("atomic");
    const db = sqlite();
    db.exec("CREATE TRIGGER fail_hist BEFORE INSERT ON histograms BEGIN SELECT RAISE(ABORT, 'boom'); END");
    try {
      expect(() =>
        appendBatch("atomic", {
          seq: 1,
          rows: [{ step: 1, metrics: { a: 1 } }],
          histograms: [{ step: 1, key: "h", edges: [0, 1], counts: [1] }],
          events: [],
        }),
      ).toThrow(/boom/);
    } finally {
      db.exec("DROP TRIGGER fail_hist");
    }
    expect(db.prepare("SELECT COUNT(*) AS n FROM series WHERE run_id = 'atomic'").get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT COUNT(*) AS n FROM batches WHERE run_id = 'atomic'").get()).toEqual({ n: 0 });
    expect(appendBatch("atomic", { seq: 1, rows: [{ step: 1, metrics: { a: 1 } }], histograms: [], events: [] }).duplicate).toBe(false);
  });

  test("out-of-order rows inside one batch are stored in step order", () => {
    makeRun("ooo");
    appendBatch("ooo", { seq: 1, rows: [3, 1, 2].map((s) => ({ step: s, metrics: { x: s * 10 } })), histograms: [], events: [] });
    expect(getSeries("ooo", "x", { points: 10 }).buckets.map((b) => [b.step, b.last])).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
  });
});

describe("storage size", () => {
  test("a long sealed series costs well under 20 bytes per point", () => {
    makeRun("size");
    const before = sqlite().prepare("SELECT COALESCE(SUM(length(data)) + SUM(length(subs)) + SUM(length(summary)), 0) AS b FROM chunks").get() as {
      b: number;
    };
    fill("size", "loss", 50_000, (i) => 2 * Math.exp(-i / 10000) + 0.01 * Math.sin(i * 7.1), 500);
    const after = sqlite().prepare("SELECT SUM(length(data)) + SUM(length(subs)) + SUM(length(summary)) AS b FROM chunks").get() as { b: number };
    expect((after.b - before.b) / 50_000).toBeLessThan(20);
  });
});
