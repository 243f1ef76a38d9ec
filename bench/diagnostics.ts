// Diagnostics quality: every labeled corpus in the repo replayed through the real server, request
// by request as the SDK sent it, judged against its labels; then the live cost of one diagnosis.
// Definitions (docs/diagnostics.md, "How it is measured"):
// - detected: a faulty run got at least one alert, whatever its code (what DEFault and DeepFD
//   count as detection: the tool says something is wrong);
// - fully diagnosed: a faulty run ends with every `must` code active and never raised a `must_not`;
// - false alarm: a control (healthy) run raised any code outside its `allowed` list;
// - must_not violations: `must_not` codes raised at any point / all `must_not` expectations.
// Per case: passes when at least 2 of its 3 seeds pass (tests/fixtures/README.md); with 2 seeds, both.
//
//   node --import tsx bench/diagnostics.ts [--write-gaps] [--show-held-out]
// --write-gaps rewrites tests/api/<corpus>-known-gaps.json for corpus2 to corpus10 (what
// tests/api/diagnostics.test.ts asserts for them) from this replay: run it after a rule change, then
// review the diff (corpus2's to corpus9's; corpus10's is held out: read its rates, not its runs).
// Held-out corpora (HELD_OUT: corpus10) print their rates only; --show-held-out adds their cases.
// BENCH_EVAL_INTERVAL_MS sets the server's live evaluation interval (default 200, as the test).
import fs from "node:fs";
import path from "node:path";
import { diagnose } from "../lib/diagnostics";
import type { RunData, SeriesPoints } from "../lib/diagnostics/types";
import {
  CORPORA,
  HELD_OUT,
  type Ho2Label,
  type RecordedRequest,
  corpusLabels,
  corpusRequests,
  judge,
  replayRecorded,
  runLabels,
  runRequests,
} from "../tests/helpers/fixtures";
import { ROOT, startServer } from "../tests/helpers/server";
import { MACHINE, median } from "./common";

const GAPS_CORPORA = ["corpus2", "corpus3", "corpus4", "corpus5", "corpus6", "corpus7", "corpus8", "corpus9", "corpus10"] as const;
const gapsFile = (corpus: string) => path.join(ROOT, `tests/api/${corpus}-known-gaps.json`);
// the live evaluation interval tests/api/diagnostics.test.ts replays with: same intermediate verdicts
const EVAL_INTERVAL_MS = process.env.BENCH_EVAL_INTERVAL_MS ?? "200";

interface Outcome {
  run: string;
  label: Ho2Label;
  codes: string[];
  wrong: string[];
  /** what is wrong with the alerts still active at the end (the finish verdict: no timing in it) */
  final: string[];
}

interface Source {
  name: string;
  labels: Record<string, Ho2Label>;
  requests: (run: string) => RecordedRequest[];
}

const sources: Source[] = [
  { name: "runs", labels: runLabels(), requests: runRequests },
  ...CORPORA.map((c) => ({ name: c, labels: corpusLabels(c), requests: (run: string) => corpusRequests(c, run) })),
];

const pct = (n: number, d: number) => (d === 0 ? "   -  " : `${((100 * n) / d).toFixed(1).padStart(5)} %`);
const frac = (n: number, d: number) => `${n}/${d}`.padStart(7);

console.log(`diagnostics: labeled corpora replayed through the server (eval interval ${EVAL_INTERVAL_MS} ms), on ${MACHINE}`);
const server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: EVAL_INTERVAL_MS } });
const results = new Map<string, Outcome[]>();
try {
  for (const src of sources) {
    const byCase = new Map<string, string[]>();
    for (const [run, label] of Object.entries(src.labels)) byCase.set(label.case, [...(byCase.get(label.case) ?? []), run]);
    const outcomes: Outcome[] = [];
    // a case's seeds concurrently, cases one after another: as the test replays them
    for (const runs of byCase.values()) {
      outcomes.push(
        ...(await Promise.all(
          runs.map(async (run) => {
            const label = src.labels[run];
            const alerts = await replayRecorded(server.url, src.requests(run), src.name);
            const final = judge(
              label,
              alerts.filter((a) => a.status === "active"),
            ).sort();
            return { run, label, codes: [...new Set(alerts.map((a) => a.code))].sort(), wrong: judge(label, alerts).sort(), final };
          }),
        )),
      );
    }
    results.set(src.name, outcomes);
  }
} finally {
  await server.stop();
}

// ---- rates ------------------------------------------------------------------------------------

interface Rates {
  faulty: number;
  detected: number;
  diagnosed: number;
  cases: number;
  casesPassed: number;
  controls: number;
  falseAlarms: number;
  mustNot: number;
  violations: number;
}

function rates(outcomes: Outcome[]): Rates {
  const r: Rates = { faulty: 0, detected: 0, diagnosed: 0, cases: 0, casesPassed: 0, controls: 0, falseAlarms: 0, mustNot: 0, violations: 0 };
  const byCase = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    byCase.set(o.label.case, [...(byCase.get(o.label.case) ?? []), o]);
    r.mustNot += o.label.must_not.length;
    r.violations += o.label.must_not.filter((c) => o.codes.includes(c)).length;
    if (o.label.control) {
      r.controls++;
      if (o.codes.some((c) => !o.label.allowed.includes(c))) r.falseAlarms++;
    } else {
      r.faulty++;
      if (o.codes.length > 0) r.detected++;
      if (o.wrong.length === 0) r.diagnosed++;
    }
  }
  for (const runs of byCase.values()) {
    r.cases++;
    if (runs.filter((o) => o.wrong.length === 0).length >= Math.min(2, runs.length)) r.casesPassed++;
  }
  return r;
}

const all = [...results.values()].flat();
// "dev": the corpora rules may be developed against (all but the held-out ones)
const dev = [...results].filter(([name]) => !(HELD_OUT as readonly string[]).includes(name)).flatMap(([, o]) => o);
const rows: [string, Rates][] = [...[...results].map(([name, o]) => [name, rates(o)] as [string, Rates]), ["dev", rates(dev)], ["all", rates(all)]];
console.log("");
console.log(
  "corpus    faulty runs: detected          fully diagnosed   | healthy runs: false alarms | must_not violations      | cases passing (2 of 3 seeds, or 2 of 2)",
);
for (const [name, r] of rows) {
  console.log(
    `${name.padEnd(9)} ${frac(r.detected, r.faulty)} ${pct(r.detected, r.faulty)}     ${frac(r.diagnosed, r.faulty)} ${pct(r.diagnosed, r.faulty)}  |   ${frac(r.falseAlarms, r.controls)} ${pct(r.falseAlarms, r.controls)}     |  ${frac(r.violations, r.mustNot)} ${pct(r.violations, r.mustNot)}   | ${frac(r.casesPassed, r.cases)}`,
  );
}
console.log("anchors   DEFault (ICSE 2025) 94.3 % detected / 63.5 % diagnosed (52 faulty programs); DeepFD 90 % / 52 %;");
console.log("          DeepDiagnosis: false alarms on 36 % of healthy models. Issue #10's goal: >= 95 % / >= 90 % / 0 % / < 1 %.");

// ---- per case ---------------------------------------------------------------------------------

console.log("");
console.log("case                     seeds ok  fault / what was wrong (seeds)");
for (const [name, outcomes] of results) {
  if ((HELD_OUT as readonly string[]).includes(name) && !process.argv.includes("--show-held-out")) {
    console.log(`-- ${name}: held out, rates only (--show-held-out prints its cases)`);
    continue;
  }
  const byCase = new Map<string, Outcome[]>();
  for (const o of outcomes) byCase.set(o.label.case, [...(byCase.get(o.label.case) ?? []), o]);
  console.log(`-- ${name}`);
  for (const [c, runs] of byCase) {
    const ok = runs.filter((o) => o.wrong.length === 0).length;
    const counts = new Map<string, number>();
    for (const o of runs) for (const w of o.wrong) counts.set(w, (counts.get(w) ?? 0) + 1);
    const silent = runs.filter((o) => !o.label.control && o.codes.length === 0).length;
    if (silent > 0) counts.set("no alert at all", silent);
    const wrong = [...counts].map(([w, n]) => (n === runs.length ? w : `${w} (${n})`)).join(", ");
    console.log(`${c.padEnd(24)} ${`${ok}/${runs.length}`.padStart(5)}     ${runs[0].label.fault}${wrong ? ` -- ${wrong}` : ""}`);
  }
}

if (process.argv.includes("--write-gaps")) {
  // the verdicts at finish only: which part-way evaluations run depends on timing (see the test)
  for (const corpus of GAPS_CORPORA) {
    const gaps: Record<string, string[]> = {};
    for (const o of results.get(corpus) ?? []) if (o.final.length > 0) gaps[o.run] = o.final;
    fs.writeFileSync(gapsFile(corpus), gapsJson(gaps));
    console.log(`\nwrote ${path.relative(ROOT, gapsFile(corpus))} (${Object.keys(gaps).length} runs with a wrong outcome at finish)`);
  }
}

/** One line per run, as Biome formats it (npm run lint checks the file). */
function gapsJson(gaps: Record<string, string[]>): string {
  const lines = Object.entries(gaps).map(([run, wrong]) => `  ${JSON.stringify(run)}: [${wrong.map((w) => JSON.stringify(w)).join(", ")}]`);
  return lines.length === 0 ? "{}\n" : `{\n${lines.join(",\n")}\n}\n`;
}

// ---- live cost --------------------------------------------------------------------------------

// What the server pays per evaluation of a big run: diagnose() on 100 keys x 100,000 points.
const N = 100_000;
const steps = Array.from({ length: N }, (_, i) => i + 1);
let seed = 7;
const noise = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 - 0.5;
};
const mk = (f: (p: number) => number): SeriesPoints => ({ steps, values: steps.map((s) => f(s / N)) });
const series = new Map<string, SeriesPoints>([
  ["train/loss", mk((p) => (0.05 + 2.25 * Math.exp(-p / 0.2)) * (1 + 0.1 * noise()))],
  ["val/loss", mk((p) => 0.1 + 2.2 * Math.exp(-p / 0.2))],
  ["train/acc", mk((p) => 1 - 0.9 * Math.exp(-p / 0.2))],
  ["val/acc", mk((p) => 0.96 - 0.86 * Math.exp(-p / 0.2))],
  ["lr", mk(() => 1e-3)],
]);
for (let l = 0; series.size < 100; l++) {
  series.set(
    `update_ratio/l${l}`,
    mk(() => 1e-3 * (1 + 0.4 * noise())),
  );
  series.set(
    `grad/l${l}/std`,
    mk((p) => 1e-3 * (1 + p)),
  );
  series.set(
    `weight/l${l}/std`,
    mk(() => 0.1),
  );
  series.set(
    `act/l${l}/dead_frac`,
    mk(() => 0.01),
  );
  series.set(
    `act/l${l}/std`,
    mk(() => 1),
  );
}
const run: RunData = { config: { num_classes: 10 }, series, histograms: new Map(), events: [], finished: false };
const times: number[] = [];
for (let i = 0; i < 9; i++) {
  const t0 = performance.now();
  diagnose(run);
  times.push(performance.now() - t0);
}
console.log(
  `\nlive cost: one evaluation of ${series.size} keys x ${N.toLocaleString("en")} points: median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)} ms, 9 runs)`,
);
