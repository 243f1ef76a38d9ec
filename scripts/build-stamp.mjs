// The dashboard build, redone only when what it reads changed. `npm start` builds into .next and
// `npm test` into .next-test (BABYSIT_DIST_DIR, read by next.config.js), so neither replaces the
// other's build. The fingerprint hashes file contents, not times: `prisma generate` (npm test,
// npm install) rewrites generated/ with new times but the same bytes, and must not force a rebuild.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const INPUTS = ["app", "lib", "generated", "next.config.js", "package-lock.json", "tsconfig.json"];

export function fingerprint(root) {
  const h = crypto.createHash("sha1");
  const walk = (rel) => {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) return;
    if (fs.statSync(abs).isDirectory()) for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
    else h.update(`${rel}\0`).update(fs.readFileSync(abs)).update("\0");
  };
  for (const p of INPUTS) walk(p);
  return h.digest("hex");
}

/** Runs `next build` into distDir unless its stamp says the same sources were built there. */
export function buildIfChanged(root, distDir, { env = process.env, announce } = {}) {
  const stamp = path.join(root, distDir, "babysit-source");
  const want = fingerprint(root);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === want) return false;
  if (announce) console.log(announce);
  execFileSync(path.join(root, "node_modules", ".bin", "next"), ["build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...env, BABYSIT_DIST_DIR: distDir },
  });
  fs.writeFileSync(stamp, want);
  return true;
}
