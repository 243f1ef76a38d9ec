// npm start: migrate the database, build the dashboard when its sources changed, then serve.
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
process.env.NEXT_TELEMETRY_DISABLED = "1";
process.env.DATABASE_URL ??= "file:./data/babysit.db";
const bin = (name) => path.join(root, "node_modules", ".bin", name);

const dbFile = path.resolve(process.env.DATABASE_URL.replace(/^file:/, ""));
fs.mkdirSync(path.dirname(dbFile), { recursive: true });
execFileSync(bin("prisma"), ["migrate", "deploy"], { stdio: ["ignore", "ignore", "inherit"] });

// A fingerprint of everything the build reads; rebuild only when it changed.
function fingerprint() {
  const h = crypto.createHash("sha1");
  const walk = (p) => {
    if (!fs.existsSync(p)) return;
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
    else h.update(`${p}:${st.size}:${st.mtimeMs}\n`);
  };
  for (const p of ["app", "lib", "generated", "next.config.js", "package-lock.json", "tsconfig.json"]) walk(p);
  return h.digest("hex");
}
const stamp = path.join(root, ".next", "babysit-source");
const want = fingerprint();
if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8") !== want) {
  console.log("babysit: building the dashboard (once after each change)...");
  execFileSync(bin("next"), ["build"], { stdio: "inherit" });
  fs.writeFileSync(stamp, want);
}

const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], { stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
