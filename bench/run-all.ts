// npm run bench: every benchmark in turn (each prints its own figures and baselines).
import { spawnSync } from "node:child_process";
import path from "node:path";

for (const b of ["ingest.ts", "query.ts", "live.ts", "memory.ts", "run-page.ts", "run-detail.ts", "delete-run.ts", "diagnostics.ts", "import.ts"]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, b)], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// The Python SDK's log() cost and watch() overhead, with Debian's python3-torch.
const py = spawnSync("/usr/bin/python3", [path.join(import.meta.dirname, "python_sdk.py")], { stdio: "inherit" });
if (py.status !== 0) process.exit(py.status ?? 1);
