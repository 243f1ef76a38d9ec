// `prepare` (run by `npm install /path/to/babysit/sdk/ts`): compiles src/ to dist/ with tsc.
// npm does not install the devDependencies of a package installed from a folder, so tsc is taken
// from wherever Node finds it (normally the babysit checkout's node_modules); only when there is
// none are the devDependencies installed here first.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function findTsc() {
  try {
    require.resolve("@types/node/package.json");
    return require.resolve("typescript/bin/tsc");
  } catch {
    return null;
  }
}

let tsc = findTsc();
if (!tsc) {
  console.error("babysit: installing typescript to build the SDK (npm skips a folder dependency's devDependencies)");
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm ? [process.execPath, [npm]] : ["npm", []];
  // --ignore-scripts: without it this install would run `prepare` (this script) again.
  execFileSync(cmd, [...args, "install", "--no-save", "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: here,
    stdio: "inherit",
  });
  tsc = findTsc();
}
if (!tsc) throw new Error("babysit: typescript not found; run `npm install` in sdk/ts, then `npm run build`");
execFileSync(process.execPath, [tsc, "-p", here], { stdio: "inherit" });
