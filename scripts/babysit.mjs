#!/usr/bin/env node
// The `babysit` command (package.json "bin"): runs lib/cli/babysit.ts through tsx, as the server runs.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../lib/cli/babysit.ts");
await main();
