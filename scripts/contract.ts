// npm run contract: writes docs/contract.json from lib/contract/limits.ts (the SDKs' tests read it).
import fs from "node:fs";
import path from "node:path";
import { contractJson } from "../lib/contract/limits";

const file = path.resolve(import.meta.dirname, "../docs/contract.json");
fs.writeFileSync(file, `${JSON.stringify(contractJson(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)}`);
