import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { expect, test } from "vitest";

// Migration 0008_run_owner rebuilds the runs table (owner_id goes before the config, which must stay
// last in the row): on a database with data, no run, rowid or child row may be lost, every run
// from before has no owner (admins only), and a deleted account's runs lose their owner.

const MIGRATIONS = path.resolve(import.meta.dirname, "../../../prisma/migrations");

test("0008 keeps every run, rowid and child row; old runs have no owner; a deleted owner leaves null", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-0008-"));
  const db = new Database(path.join(dir, "old.db"));
  try {
    const apply = (name: string) => db.exec(fs.readFileSync(path.join(MIGRATIONS, name, "migration.sql"), "utf8"));
    const names = fs
      .readdirSync(MIGRATIONS)
      .filter((n) => /^\d{4}_/.test(n))
      .sort();
    for (const n of names.filter((n) => n < "0008")) apply(n);
    db.exec(`INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0);
      INSERT INTO runs (id, project_id, name, config, created_at, updated_at, last_seen_at) VALUES
        ('gone', 1, 'g', '{}', 0, 0, 0), ('a', 1, 'a', '{"lr":0.1}', 1, 1, 1), ('b', 1, 'b', '{}', 2, 2, 2);
      DELETE FROM runs WHERE id = 'gone';
      INSERT INTO run_tags (run_id, tag) VALUES ('a', 'kept');
      INSERT INTO run_config_values (run_id, key, pos, type, num, summary) VALUES ('a', 'lr', 0, 'real', 0.1, 1);
      INSERT INTO shares (run_id, token_hash, prefix, created_at) VALUES ('a', 'hash', 'abcdef', 0);
      INSERT INTO users (id, name, role, password_hash, created_at) VALUES (7, 'mia', 'member', 'x', 0);`);
    db.pragma("foreign_keys = ON"); // as the server has it: the rebuild must delete no child row
    const before = {
      runs: db.prepare("SELECT rowid, id, name, config FROM runs ORDER BY rowid").all(),
      tags: db.prepare("SELECT * FROM run_tags").all(),
      values: db.prepare("SELECT run_id, key FROM run_config_values").all(),
      shares: db.prepare("SELECT run_id, prefix FROM shares").all(),
    };
    apply("0008_run_owner");
    expect({
      runs: db.prepare("SELECT rowid, id, name, config FROM runs ORDER BY rowid").all(),
      tags: db.prepare("SELECT * FROM run_tags").all(),
      values: db.prepare("SELECT run_id, key FROM run_config_values").all(),
      shares: db.prepare("SELECT run_id, prefix FROM shares").all(),
    }).toEqual(before);
    expect(db.prepare("SELECT id, owner_id AS owner FROM runs ORDER BY id").all()).toEqual([
      { id: "a", owner: null },
      { id: "b", owner: null },
    ]);
    const columns = (db.prepare("PRAGMA table_info(runs)").all() as { name: string }[]).map((c) => c.name);
    expect(columns.slice(-2)).toEqual(["owner_id", "config"]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'runs_owner_id_idx'").get()).toBeTruthy();
    expect(db.pragma("foreign_key_check")).toEqual([]);
    db.prepare("UPDATE runs SET owner_id = 7 WHERE id = 'a'").run();
    db.prepare("DELETE FROM users WHERE id = 7").run();
    expect(db.prepare("SELECT owner_id AS owner FROM runs WHERE id = 'a'").get()).toEqual({ owner: null });
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
