import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

// Starts a real babysit server (the production build in BABYSIT_DIST_DIR: .next-test under npm test,
// .next by default) on a fresh SQLite file.
// Restart = startServer({ port, dbPath }) with the values of the stopped one.

export const ROOT = path.resolve(import.meta.dirname, "../..");
/** Where the server under test finds its build (next.config.js reads the same variable). */
export const DIST_DIR = process.env.BABYSIT_DIST_DIR || ".next";
const TMP = path.join(ROOT, ".tmp");
const TEMPLATE = path.join(TMP, "template.db");

/** A migrated, empty database made once (vitest's globalSetup calls this too). */
export function ensureTemplateDb(): string {
  if (fs.existsSync(TEMPLATE)) return TEMPLATE;
  fs.mkdirSync(TMP, { recursive: true });
  const building = `${TEMPLATE}.${process.pid}.tmp`;
  execFileSync(path.join(ROOT, "node_modules/.bin/prisma"), ["migrate", "deploy"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: `file:${building}` },
    stdio: "pipe",
  });
  fs.renameSync(building, TEMPLATE);
  return TEMPLATE;
}

/** A fresh database file copied from the template. */
export function freshDbPath(): string {
  const file = path.join(TMP, `db-${crypto.randomBytes(6).toString("hex")}.db`);
  fs.copyFileSync(ensureTemplateDb(), file);
  return file;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  url: string;
  port: number;
  dbPath: string;
  /** The server process (for memory figures). */
  pid: number;
  /** Everything the server printed so far. */
  output(): string;
  /** SIGTERM, waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, waits for the exit. */
  kill(): Promise<void>;
}

export async function startServer(opts: { dbPath?: string; port?: number; env?: Record<string, string> } = {}): Promise<TestServer> {
  if (!fs.existsSync(path.join(ROOT, DIST_DIR, "BUILD_ID"))) {
    throw new Error(`no production build in ${DIST_DIR}: run \`npm test -- <test files>\`, or \`BABYSIT_DIST_DIR=${DIST_DIR} npx next build\` first`);
  }
  const dbPath = opts.dbPath ?? freshDbPath();
  const port = opts.port ?? (await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    [...(process.env.BABYSIT_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BABYSIT_PROF}`] : []), "--import", "tsx", "server.ts"],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        HOST: "127.0.0.1",
        PORT: String(port),
        DATABASE_URL: `file:${dbPath}`,
        BABYSIT_DIST_DIR: DIST_DIR,
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (out.includes("babysit listening on")) break;
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server did not start in 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dbPath,
    pid: child.pid!,
    output: () => out,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

/** Small JSON client for tests: returns status and parsed body. */
export async function api(base: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const send = () =>
    fetch(base + p, {
      method,
      // a write always says it is JSON, with or without a body (the server refuses it otherwise: 415)
      headers: body === undefined && (method === "GET" || method === "HEAD") ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  let res: Response;
  try {
    res = await send();
  } catch (e) {
    // a keep-alive connection the server closed while this process was blocked (a spawnSync of the
    // CLI): the request never reached the server, so it is sent once more on a new connection
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code !== "UND_ERR_SOCKET" || cause.message !== "other side closed") throw e;
    res = await send();
  }
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** Waits until `check` returns a truthy value, or fails after `ms`. */
export async function waitFor<T>(check: () => T | Promise<T>, ms = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
