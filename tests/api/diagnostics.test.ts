import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type Ho2Label,
  corpusLabels,
  corpusRequests,
  expectedDiagnoses,
  ho2Labels,
  ho2Requests,
  judge,
  replayOf,
  replayRecorded,
} from "../helpers/fixtures";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// The real runs in tests/fixtures, replayed through the HTTP API, must raise exactly their
// expected diagnoses; alerts reach the log response (for the SDK's terminal), the alerts API and
// the webhook.

let server: TestServer;
let hook: http.Server;
const hooked: { alert: { code: string; severity: string } }[] = [];

beforeAll(async () => {
  hook = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      hooked.push(JSON.parse(body));
      res.end("ok");
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  const port = (hook.address() as { port: number }).port;
  server = await startServer({ env: { BABYSIT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, BABYSIT_EVAL_INTERVAL_MS: "200" } });
});
afterAll(async () => {
  await server?.stop();
  hook?.close();
});

const expected = expectedDiagnoses();

describe.each(Object.keys(expected))("fixture run %s replayed through the API", (name) => {
  test("raises every 'must' diagnosis and none of 'must_not'", async () => {
    const { config, batches } = replayOf(name);
    const created = await api(server.url, "POST", "/api/v1/runs", { project: "fixtures", name, config });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const delivered: { code: string }[] = [];
    for (const [seq, b] of batches.entries()) {
      const r = await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq, ...b });
      expect(r.status).toBe(200);
      delivered.push(...r.body.alerts);
    }
    const fin = await api(server.url, "POST", `/api/v1/runs/${id}/finish`, { status: "finished" });
    delivered.push(...fin.body.alerts);
    const { body } = await api(server.url, "GET", `/api/v1/runs/${id}/alerts`);
    const active = body.alerts.filter((a: { status: string }) => a.status === "active").map((a: { code: string }) => a.code);
    for (const code of expected[name].must) expect(active).toContain(code);
    for (const code of expected[name].must_not) expect(active).not.toContain(code);
    // and none of the forbidden ones was ever raised along the way, even briefly
    const ever = body.alerts.map((a: { code: string }) => a.code);
    for (const code of expected[name].must_not) expect(ever).not.toContain(code);
    // every active alert explains itself and was handed to the SDK once
    for (const a of body.alerts.filter((x: { status: string }) => x.status === "active")) {
      expect(a.title.length).toBeGreaterThan(10);
      expect(a.message.length).toBeGreaterThan(40);
      expect(["info", "warning", "critical"]).toContain(a.severity);
      expect(delivered.filter((d) => d.code === a.code)).toHaveLength(1);
    }
  });
});

describe("a diverging run", () => {
  test("raises a critical divergence live, hands it to the SDK and posts it to the webhook", async () => {
    const created = await api(server.url, "POST", "/api/v1/runs", { project: "fixtures", name: "nan", config: { num_classes: 10 } });
    const id = created.body.id;
    const rows = Array.from({ length: 60 }, (_, i) => ({ step: i, metrics: { "train/loss": i < 40 ? 2.3 - i * 0.01 : "NaN" } }));
    await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows });
    // without finishing: the babysitter watches live
    const got: { code: string; severity: string }[] = [];
    await waitFor(
      async () => {
        const r = await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: got.length + 1, rows: [] });
        got.push(...r.body.alerts);
        return got.some((a) => a.code === "divergence");
      },
      10_000,
      "divergence alert in a log response",
    );
    expect(got.find((a) => a.code === "divergence")!.severity).toBe("critical");
    await waitFor(() => hooked.some((h) => h.alert.code === "divergence"), 10_000, "webhook call");
    const { body } = await api(server.url, "GET", `/api/v1/runs/${id}/alerts`);
    expect(body.alerts[0]).toMatchObject({ code: "divergence", severity: "critical", status: "active", firstStep: 40 });
  });
});

// tests/fixtures/ho2: faulty training programs (and healthy controls), each recorded request by
// request as the Python SDK sent them, three seeds per case. Replayed in order, each run must end with
// its `must` diagnoses active and never have raised a `must_not` one (for a control: anything outside
// `allowed`). As the fixtures' README says, a case passes when at least 2 of its 3 seeds pass.
const labels = ho2Labels();
const cases = new Map<string, string[]>();
for (const [run, label] of Object.entries(labels)) cases.set(label.case, [...(cases.get(label.case) ?? []), run]);

/** Replays one recorded run; returns what is wrong with the alerts it got (empty: it passes). */
async function replayHo2(run: string, label: Ho2Label): Promise<string[]> {
  return judge(label, await replayRecorded(server.url, ho2Requests(run), "ho2"));
}

// Cases the diagnostics do not get right yet (issue #10's work, not loosened here). Each one asserts
// what every seed gets wrong today, exactly: when a rule changes the outcome, better or worse, the
// test fails and asks for its entry here to be updated (or removed, once the case passes).
const KNOWN_GAPS = new Map<string, { reason: string; wrong: Record<string, string[]> }>([
  [
    "HO-22",
    {
      reason:
        "train_val_mismatch is raised on seed 0 only: on seeds 1 and 2 the epsilon did not blow up any validation feature " +
        "(val loss 0.08-0.1, val accuracy 0.96-0.97, like a healthy run), so nothing in what was logged differs",
      wrong: { "HO-22_s0": [], "HO-22_s1": ["missed train_val_mismatch"], "HO-22_s2": ["missed train_val_mismatch"] },
    },
  ],
]);

describe("ho2: faulty programs as the Python SDK sent them, replayed through the API", () => {
  for (const name of cases.keys()) {
    const gap = KNOWN_GAPS.get(name);
    if (gap) {
      test(`${name}: known gap of issue #10, each seed still gets exactly today's wrong outcome (${gap.reason})`, async () => {
        const runs = cases.get(name)!;
        const results = await Promise.all(runs.map(async (run) => [run, (await replayHo2(run, labels[run])).sort()] as const));
        expect(Object.fromEntries(results)).toEqual(gap.wrong);
      });
    } else test(`${name}: at least 2 of 3 seeds get exactly their diagnosis`, () => checkCase(name));
  }
});

/** A case passes when at least 2 of its 3 seeds pass. */
async function checkCase(name: string): Promise<void> {
  const runs = cases.get(name)!;
  const results = await Promise.all(runs.map(async (run) => [run, await replayHo2(run, labels[run])] as const));
  const failing = results.filter(([, wrong]) => wrong.length > 0);
  const report = failing.map(([run, wrong]) => `${run} (${labels[run].fault}): ${wrong.join(", ")}`).join("; ");
  expect(runs.length - failing.length, report).toBeGreaterThanOrEqual(Math.min(2, runs.length));
}

// tests/fixtures/corpus2 to corpus10: more programs of the kinds of issue #10, on other
// architectures and data sets (tools/corpus records them; their READMEs say how). corpus10 is
// held out (corpus3, corpus5, corpus6, corpus7, corpus8, then corpus9, were until a newer set was recorded): rules are not tuned on it, this only pins today's outcome. corpus4 is mostly
// healthy controls set up the many ways users set them up (schedules, dropout, batchnorm, ...). Every run's outcome today
// is asserted exactly from one file per corpus, tests/api/<corpus>-known-gaps.json: what is wrong
// with the alerts active at the end (a run absent from it passes). Alerts raised and resolved
// part-way are not asserted here: which prefixes a live evaluation sees depends on timing (a brief
// loss_plateau or overfitting comes and goes between replays); bench/diagnostics.ts counts them. A
// rule change that alters a final outcome, better or worse, fails here: re-baseline with
// `node --import tsx bench/diagnostics.ts --write-gaps` and review the diff.
describe.each(["corpus2", "corpus3", "corpus4", "corpus5", "corpus6", "corpus7", "corpus8", "corpus9", "corpus10"] as const)(
  "%s: more faulty programs and controls as the Python SDK sent them, replayed through the API",
  (corpus) => {
    const labels = corpusLabels(corpus);
    const gaps: Record<string, string[]> = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, `${corpus}-known-gaps.json`), "utf8"));
    const byCase = new Map<string, string[]>();
    for (const [run, label] of Object.entries(labels)) byCase.set(label.case, [...(byCase.get(label.case) ?? []), run]);

    test("every known gap names a recorded run", () => {
      expect(Object.keys(gaps).filter((run) => !(run in labels))).toEqual([]);
    });
    for (const [name, runs] of byCase) {
      const fault = labels[runs[0]].fault;
      test(`${name} (${fault}): each seed ends with exactly today's outcome`, async () => {
        const results = await Promise.all(
          runs.map(async (run) => {
            const alerts = await replayRecorded(server.url, corpusRequests(corpus, run), corpus);
            return [
              run,
              judge(
                labels[run],
                alerts.filter((a) => a.status === "active"),
              ).sort(),
            ] as const;
          }),
        );
        expect(Object.fromEntries(results)).toEqual(Object.fromEntries(runs.map((run) => [run, [...(gaps[run] ?? [])].sort()])));
      });
    }
  },
);
