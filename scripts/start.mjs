// npm start: migrate the database, build the dashboard when its sources changed, then serve.
import { spawn } from "node:child_process";
import path from "node:path";
import { buildIfChanged } from "./build-stamp.mjs";
import { migrate } from "./migrate.mjs";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
process.env.NEXT_TELEMETRY_DISABLED = "1";
migrate();

buildIfChanged(root, process.env.BABYSIT_DIST_DIR || ".next", { announce: "babysit: building the dashboard (once after each change)..." });

const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], { stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
