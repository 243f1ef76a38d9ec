import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ROOT, type TestServer, api, startServer } from "../helpers/server";

// Links made before tokens were hashed (plain tokens in the shares table) keep working after
// migration 0003 and a restart: the server hashes them before it answers, and keeps no plain token.

const MIGRATIONS = path.join(ROOT, "prisma/migrations");
const OLD_TOKEN = "OldLink_0123456789abcd";
const OLD_TOKEN_2 = "-second-old-token-xyz_";
let server: TestServer;

beforeAll(async () => {
  const dbPath = path.join(ROOT, ".tmp", `legacy-${crypto.randomBytes(6).toString("hex")}.db`);
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const db = new Database(dbPath);
  const apply = (name: string) => db.exec(fs.readFileSync(path.join(MIGRATIONS, name, "migration.sql"), "utf8"));
  // the database as a server before hashed tokens left it
  apply("0001_init");
  apply("0002_runs_list_indexes");
  db.prepare("INSERT INTO projects (id, name, created_at) VALUES (1, 'old', 1)").run();
  db.prepare("INSERT INTO runs (id, project_id, name, created_at, updated_at, last_seen_at) VALUES ('oldrun', 1, 'from-before', 1, 1, 1)").run();
  db.prepare("INSERT INTO shares (token, run_id, created_at) VALUES (?, 'oldrun', 100), (?, 'oldrun', 200)").run(OLD_TOKEN, OLD_TOKEN_2);
  // then every migration from 0003 on, as `npm start` applies them
  for (const name of fs
    .readdirSync(MIGRATIONS)
    .filter((n) => /^\d{4}_/.test(n) && n >= "0003")
    .sort())
    apply(name);
  db.close();
  server = await startServer({ dbPath });
});
afterAll(async () => {
  await server?.stop();
});

test("an old link opens its run after the migration, and only its hash is stored", async () => {
  for (const token of [OLD_TOKEN, OLD_TOKEN_2]) {
    const r = await api(server.url, "GET", `/api/v1/shares/${token}`);
    expect(r.status).toBe(200);
    expect(r.body.run.name).toBe("from-before");
  }
  const list = await api(server.url, "GET", "/api/v1/runs/oldrun/shares");
  expect(list.body.shares.map((s: { prefix: string; expiresAt: number | null; createdAt: number }) => [s.prefix, s.expiresAt, s.createdAt])).toEqual([
    [OLD_TOKEN.slice(0, 6), null, 100],
    [OLD_TOKEN_2.slice(0, 6), null, 200],
  ]);
  const db = new Database(server.dbPath, { readonly: true });
  const rows = db.prepare("SELECT token_hash FROM shares ORDER BY id").all() as { token_hash: string }[];
  db.close();
  expect(rows.map((r) => r.token_hash)).toEqual([OLD_TOKEN, OLD_TOKEN_2].map((t) => crypto.createHash("sha256").update(t).digest("hex")));
  // and the owner revokes it like any other
  const id = list.body.shares[0].id;
  expect((await api(server.url, "DELETE", `/api/v1/runs/oldrun/shares/${id}`)).status).toBe(204);
  expect((await api(server.url, "GET", `/api/v1/shares/${OLD_TOKEN}`)).status).toBe(404);
});
