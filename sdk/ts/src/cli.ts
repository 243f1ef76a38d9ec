#!/usr/bin/env node
// `npx babysit-sdk sync`: sends what earlier runs left in the spool directory, as
// `python -m babysit sync` does (same lines, same exit codes: 0 when everything was sent, 3 when the
// server refused the API key or needs one, 1 when anything else is left, was skipped or was
// rejected, 2 for a wrong command line). The bin is named
// babysit-sdk so that it never clashes with the server's own `babysit` command.

import { parseArgs } from "node:util";
import { DEFAULT_URL, defaultSpoolDir } from "./run.js";
import { SKIP_OTHER_SERVER, type SyncResult, sync } from "./sync.js";

const PROG = "npx babysit-sdk";
// Exit codes (the Python command's): a script, or a person, can tell "try again later" from "fix the key first".
const EXIT_KEY_REFUSED = 3;
const USAGE = `usage: ${PROG} sync [--url URL] [--spool-dir DIR] [--timeout SECONDS] [--any-url]

Sends each spool to the server it was made for; lists the spools it did not send. Exits 0 when
everything was sent; 3 when the server refused the API key or needs one (set BABYSIT_API_KEY, then
sync again); 1 when anything else is left (server unreachable or too slow: sync again later), was
skipped or was rejected.

  --url URL          server address (default $BABYSIT_URL or ${DEFAULT_URL})
  --spool-dir DIR    default $BABYSIT_SPOOL_DIR or ~/.babysit/spool
  --timeout SECONDS  give up after this long (default 60); what is left stays for next time
  --any-url          also send spools made for another server URL to this one (with a warning each)
BABYSIT_API_KEY is sent as the bearer token (a team-mode server).`;

/** A word as a POSIX shell reads it back (Python's shlex.quote). */
function quote(s: string): string {
  if (s && /^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

/** What sync did and what it left, in lines a user can act on (the Python command's). */
function report(res: SyncResult, base: string, spoolDir: string): string[] {
  const lines = [`sent ${res.batches} batch(es) of ${res.runs} run(s); ${res.batchesLeft} batch(es) left`];
  if (res.rejectedPoints) lines[0] += `; the server rejected ${res.rejectedPoints} point(s)`;
  if (res.refused) {
    // the server answered: "did not answer in time; run sync again" would send the user in circles
    lines.push(`${res.runsLeft} run(s) not sent: ${res.refused.message}`);
  } else if (res.runsLeft)
    // a refused connection reads the same here: "did not answer in time" alone sent users to wait
    lines.push(
      `${res.runsLeft} run(s) not finished: the server at ${base} could not be reached or did not answer in time; is it running there (else --url)? Then run sync again`,
    );
  if (res.skipped.length === 0) return lines;
  lines.push(`not sent: ${res.skipped.length} spool file(s) in ${spoolDir}:`);
  const otherUrls: string[] = [];
  for (const s of res.skipped) {
    const what = s.run ? `run ${s.run}, ${s.batches} batch(es)` : `${s.batches} batch(es)`;
    let reason = s.reason;
    if (s.reason === SKIP_OTHER_SERVER && s.url) {
      reason = `made for ${s.url}, not ${base}`;
      if (!otherUrls.includes(s.url)) otherUrls.push(s.url);
    }
    lines.push(`  ${s.path} (${what}): ${reason}`);
  }
  for (const u of otherUrls) lines.push(`to send those to ${u}: ${PROG} sync --url ${quote(u)}`);
  if (otherUrls.length) lines.push(`to send them all to ${base} instead: ${PROG} sync --url ${quote(base)} --any-url`);
  return lines;
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`${USAGE}\n${PROG}: error: ${(err as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== "sync") {
    const what = positionals.length ? `unknown command ${quote(positionals.join(" "))}` : "a command is required";
    process.stderr.write(`${USAGE}\n${PROG}: error: ${what}\n`);
    return 2;
  }
  const timeout = values.timeout === undefined ? 60 : Number(values.timeout);
  if (!(Number.isFinite(timeout) && timeout > 0)) {
    process.stderr.write(`${USAGE}\n${PROG}: error: --timeout must be a positive number of seconds, got ${quote(values.timeout ?? "")}\n`);
    return 2;
  }
  const base = (values.url || process.env.BABYSIT_URL || DEFAULT_URL).replace(/\/+$/, "");
  const spoolDir = defaultSpoolDir(values["spool-dir"]);
  const res = await sync({ url: base, spoolDir, timeoutMs: timeout * 1000, anyUrl: values["any-url"] === true });
  process.stdout.write(`${report(res, base, spoolDir).join("\n")}\n`);
  if (res.refused) return EXIT_KEY_REFUSED;
  return res.batchesLeft || res.runsLeft || res.rejectedPoints || res.skipped.length ? 1 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      "spool-dir": { type: "string" },
      timeout: { type: "string" },
      "any-url": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`babysit: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
