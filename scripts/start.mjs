// npm start: migrate the database, check that the server can start (scripts/preflight.ts), build the
// dashboard when its sources changed, then serve.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { buildIfChanged } from "./build-stamp.mjs";
import { migrate } from "./migrate.mjs";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
process.env.NEXT_TELEMETRY_DISABLED = "1";
migrate();
// refusals that need no dashboard (team mode without an admin) come before the build, not after it
const pre = spawnSync(process.execPath, ["--import", "tsx", "scripts/preflight.ts"], { stdio: "inherit" });
if (pre.status !== 0) process.exit(pre.status ?? 1);

buildIfChanged(root, process.env.BABYSIT_DIST_DIR || ".next", { announce: "babysit: building the dashboard (once after each change)..." });

const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], { stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
