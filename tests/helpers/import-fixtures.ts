import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { FIXTURES } from "./fixtures";

/**
 * A fixture run's TensorBoard directory as torch wrote it, unpacked into a fresh temporary
 * directory (the event files are stored gzipped in tests/fixtures/runs/<run>/tb). Returns the
 * run directory (`<tmp>/<run>/tb`).
 */
export function unpackTb(run: string, into = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-tb-"))): string {
  const from = path.join(FIXTURES, run, "tb");
  const to = path.join(into, run, "tb");
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (e.name.endsWith(".gz")) {
        fs.mkdirSync(path.join(to, rel), { recursive: true });
        fs.writeFileSync(path.join(to, r.slice(0, -3)), zlib.gunzipSync(fs.readFileSync(path.join(from, r))));
      }
    }
  };
  walk("");
  return to;
}
