import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { useFreshDatabase } from "../../helpers/lib-db";

// The runs list reads run_config_values, never runs.config (one can be 1 MiB: reading 200 of them
// took seconds and blocked the server). A run whose config column is garbage still lists with its
// summary, filters, sorts and columns; migration 0007 fills the table for runs from before exactly
// as writeConfigValues does for new ones.

useFreshDatabase();
const { sqlite } = await import("@/lib/db");
const { createRun } = await import("@/lib/runs/create-run");
const { listRuns } = await import("@/lib/runs/list-runs");
const { writeConfigValues } = await import("@/lib/runs/config-values");
const { summarizeConfig } = await import("@/lib/runs/run-view");
const { LIMITS } = await import("@/lib/contract/limits");

const MIGRATIONS = path.resolve(import.meta.dirname, "../../../prisma/migrations");
const long = (n: number, c = "é") => c.repeat(n);

// configs exercising each rule: key order (integer-like keys first), long keys, long strings,
// astral characters, nested values, every JSON type, more keys than the list sees
const CONFIGS: [string, Record<string, unknown>][] = [
  ["empty", {}],
  ["scalars", { lr: 0.001, batch_size: 32, optimizer: "adam", amsgrad: false, warm: true, note: null }],
  ["integer-like keys", { b: 1, 10: "ten", 2: "two", a: 0.30000000000000004 }],
  ["nested and arrays", { model: { layers: [1, 2] }, sizes: [1, 2, 3], name: "x" }],
  ["long strings", { short: "s", text64: long(64), text65: long(65), astral: "😀".repeat(300), t201: long(201, "a"), t202: long(202, "a") }],
  ["long keys", { [long(64, "k")]: 1, [long(65, "k")]: 2, [long(200, "k")]: 3, [long(201, "k")]: 4, after: 5 }],
  ["more than ten scalars", Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i % 3 ? i : { n: i }]))],
  ["more keys than listed", Object.fromEntries(Array.from({ length: LIMITS.runListConfigKeys.value + 50 }, (_, i) => [`p${i}`, i / 7]))],
  ["odd keys", { "a.b": 1, '"q"': 2, $: 3, "[0]": 4, __proto__x: 5, "": 6, " ": "space" }],
  ["numbers", { big: 12345678901234567000, tiny: 5e-324, neg: -1e300, int: -7 }],
];

const rowsOf = (db: Database.Database, id: string) =>
  db.prepare("SELECT key, pos, type, num, text, summary FROM run_config_values WHERE run_id = ? ORDER BY pos").all(id);

describe("migration 0007_run_config_values", () => {
  test("fills the table for runs from before exactly as new runs get it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-0007-"));
    const old = new Database(path.join(dir, "old.db"));
    const fresh = new Database(path.join(dir, "fresh.db"));
    for (const db of [old, fresh]) db.pragma("synchronous = OFF");
    const apply = (db: Database.Database, name: string) => db.exec(fs.readFileSync(path.join(MIGRATIONS, name, "migration.sql"), "utf8"));
    const names = fs
      .readdirSync(MIGRATIONS)
      .filter((n) => /^\d{4}_/.test(n))
      .sort();
    for (const n of names.filter((n) => n < "0007")) apply(old, n);
    for (const n of names) apply(fresh, n);
    for (const db of [old, fresh]) db.prepare("INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0)").run();
    const ins = "INSERT INTO runs (id, project_id, name, config, created_at, updated_at, last_seen_at) VALUES (?, 1, ?, ?, 0, 0, 0)";
    for (const [name, config] of CONFIGS) {
      old.prepare(ins).run(name, name, JSON.stringify(config));
      fresh.prepare(ins).run(name, name, JSON.stringify(config));
      writeConfigValues(fresh, name, config);
    }
    // a config that is not an object (never written so, but the backfill must not fail on one)
    old.prepare(ins).run("bad", "bad", "not json");
    old.prepare(ins).run("array", "array", "[1,2]");
    old.pragma("foreign_keys = ON"); // as the server has it: the table rebuild must delete no child row
    old.prepare("INSERT INTO run_tags (run_id, tag) VALUES ('scalars', 'kept')").run();
    const rowids = old.prepare("SELECT rowid, id FROM runs ORDER BY rowid").all();
    apply(old, "0007_run_config_values");
    expect(old.prepare("SELECT run_id AS runId, tag FROM run_tags").all()).toEqual([{ runId: "scalars", tag: "kept" }]);
    expect(old.prepare("SELECT rowid, id FROM runs ORDER BY rowid").all()).toEqual(rowids);
    // the list's columns come before config in the row (a column after it is read through its overflow pages)
    const columns = (old.prepare("PRAGMA table_info(runs)").all() as { name: string }[]).map((c) => c.name);
    expect(columns.at(-1)).toBe("config");
    expect(old.pragma("foreign_key_check")).toEqual([]);
    for (const [name] of CONFIGS) expect(rowsOf(old, name), name).toEqual(rowsOf(fresh, name));
    expect(rowsOf(old, "bad")).toEqual([]);
    expect(rowsOf(old, "array")).toEqual([]);
    old.close();
    fresh.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("the runs list never reads runs.config", () => {
  test.each(CONFIGS)("%s: summary, filters, sorts and columns survive a garbage config column", async (name, config) => {
    const run = await createRun({ project: `cv-${name}`, name, config });
    sqlite().prepare("UPDATE runs SET config = ? WHERE id = ?").run("garbage, not JSON", run.id);
    const list = await listRuns({ project: `cv-${name}`, sort: "-created", limit: 10, configColumns: Object.keys(config).slice(0, 20) });
    expect(list.runs).toHaveLength(1);
    expect(list.runs[0].configSummary).toEqual(summarizeConfig(config));
    const cols = (list.runs[0].columns?.config ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(config).slice(0, 20)) {
      const v = config[k];
      if (k.length > LIMITS.runFilterMaxLength.value) expect(Object.hasOwn(cols, k)).toBe(false);
      else if (typeof v === "object" && v !== null) expect(cols[k]).toBeNull();
      else expect(cols[k]).toEqual(typeof v === "string" ? summarizeConfig({ x: v }).x : v);
    }
    const first = Object.keys(config).find((k) => typeof config[k] === "number" || typeof config[k] === "string");
    if (first !== undefined) {
      const v = config[first] as number | string;
      const filter = typeof v === "number" ? { kind: "number" as const, value: v } : { kind: "text" as const, value: v };
      const hit = await listRuns({ project: `cv-${name}`, sort: "config", sortKey: first, limit: 10, config: new Map([[first, filter]]) });
      // a text longer than runFilterMaxLength can never be a filter's value (the query refuses it)
      expect(hit.total).toBe(typeof v === "string" && v.length > LIMITS.runFilterMaxLength.value ? 0 : 1);
    }
  });

  test("a run beyond the listed keys: a filter on key runListConfigKeys + 1 matches nothing, one before it matches", async () => {
    const n = LIMITS.runListConfigKeys.value;
    const config = Object.fromEntries(Array.from({ length: n + 1 }, (_, i) => [`q${i}`, i]));
    await createRun({ project: "cv-many", name: "many", config });
    const count = (key: string, value: number) =>
      listRuns({ project: "cv-many", sort: "-created", limit: 10, config: new Map([[key, { kind: "number" as const, value }]]) }).then(
        (l) => l.total,
      );
    expect(await count(`q${n - 1}`, n - 1)).toBe(1);
    expect(await count(`q${n}`, n)).toBe(0);
  });

  test("a resume that merges config rewrites the listed values; deleting the run removes them", async () => {
    const run = await createRun({ project: "cv-resume", name: "r", config: { lr: 0.1, keep: "a" } });
    await createRun({ project: "cv-resume", id: run.id, config: { lr: 0.2, added: true } });
    sqlite().prepare("UPDATE runs SET config = 'garbage' WHERE id = ?").run(run.id);
    const list = await listRuns({ project: "cv-resume", sort: "-created", limit: 10 });
    expect(list.runs[0].configSummary).toEqual({ lr: 0.2, keep: "a", added: true });
    sqlite().prepare("DELETE FROM runs WHERE id = ?").run(run.id);
    expect(sqlite().prepare("SELECT COUNT(*) AS n FROM run_config_values WHERE run_id = ?").get(run.id)).toEqual({ n: 0 });
  });
});
