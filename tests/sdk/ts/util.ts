// Shared helpers of the SDK tests: wait on conditions (never fixed sleeps), capture stderr,
// scratch directories.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { vi } from "vitest";

/** Polls `cond` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Captures what the SDK writes to stderr (it writes nowhere else). */
export function captureStderr() {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation(((chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stderr.write);
  return {
    text: () => chunks.join(""),
    lines: (re: RegExp) =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => re.test(l)),
    restore: () => spy.mockRestore(),
  };
}

export function tmpDir(prefix = "babysit-sdk-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The records of a spool file, or [] when it does not exist. */
export function readSpool(file: string): Array<Record<string, any>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Batches in a spool file that no ack follows. */
export function pendingInSpool(file: string): Array<Record<string, any>> {
  const batches = new Map<number, Record<string, any>>();
  for (const rec of readSpool(file)) {
    if (rec.kind === "batch") batches.set(rec.seq, rec);
    if (rec.kind === "ack") batches.delete(rec.seq);
  }
  return [...batches.values()];
}

/** A port nothing listens on (bound once, then released). */
export async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
