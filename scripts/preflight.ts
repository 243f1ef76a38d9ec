// npm start's check before it builds anything (scripts/start.mjs): a team server that cannot start
// (no admin account yet, a bad BABYSIT_MODE) says so now, not after minutes of building the dashboard.
// Exits as server.ts would: 2 for a bad setting, 1 with the refusal to start.
import { modeFrom } from "../lib/auth/mode";
import { startupProblem } from "../lib/auth/server-hooks";

let mode: ReturnType<typeof modeFrom>;
try {
  mode = modeFrom();
} catch (e) {
  console.error(`babysit: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
const refusal = startupProblem(mode);
if (refusal) {
  console.error(refusal);
  process.exit(1);
}
