import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { sampleTrial, validateSpace } from "@/lib/sweeps/sampler";
import { rawRequest } from "../helpers/raw-http";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// Sweeps against a real server (local mode): create (idempotent for agreeing workers, 409 when
// they disagree), bad input refused with the envelope and nothing written, trials claimed by many
// concurrent workers all distinct and within the budget, runs joining through config.sweep, the
// list / detail / alerts shapes, refine, should-stop, the sweep's live room, hostile names.

let server: TestServer;
const call = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => api(server.url, method, p, body, headers);
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
});

const SPACE = {
  lr: { distribution: "log_uniform", low: 1e-4, high: 1e-1 },
  dropout: { distribution: "uniform", low: 0, high: 0.5 },
  layers: { distribution: "int_uniform", low: 1, high: 4 },
  act: { distribution: "choice", values: ["relu", "tanh"] },
  epochs: 3,
};

let projects = 0;
const freshProject = () => `sweeps-${++projects}`;

async function sweepsOf(project: string) {
  const r = await call("GET", `/api/v1/sweeps?project=${encodeURIComponent(project)}`);
  expect(r.status).toBe(200);
  return r.body.sweeps as any[];
}
async function runsOf(project: string) {
  const r = await call("GET", `/api/v1/runs?project=${encodeURIComponent(project)}`);
  expect(r.status).toBe(200);
  return r.body.runs as any[];
}
let seq = 0;
async function log(id: string, rows: { step: number; metrics: Record<string, number | string> }[]) {
  const r = await call("POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

describe("POST /api/v1/sweeps", () => {
  test("creates a sweep (201) with what was declared; the same again is the same sweep (200), whatever the space's key order", async () => {
    const project = freshProject();
    const body = { project, name: "lr-search", space: SPACE, objective: { metric: "val/acc", goal: "max" }, seed: 7, budget: 20 };
    const first = await call("POST", "/api/v1/sweeps", body);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.sweep).toMatchObject({
      name: "lr-search",
      project,
      space: SPACE,
      objective: { metric: "val/acc", goal: "max" },
      seed: 7,
      budget: 20,
      stage: 1,
      parentId: null,
      earlyStop: { rule: "median", minTrials: 4, warmupSteps: 0 },
      trialsClaimed: 0,
    });
    const reordered = Object.fromEntries(Object.entries(SPACE).reverse());
    const again = await call("POST", "/api/v1/sweeps", { ...body, space: reordered });
    expect(again.status).toBe(200);
    expect(again.body.sweep.id).toBe(first.body.sweep.id);
    // a worker that only names the sweep joins it too
    const bare = await call("POST", "/api/v1/sweeps", { project, name: "lr-search" });
    expect(bare.status).toBe(200);
    expect(bare.body.sweep.id).toBe(first.body.sweep.id);
    expect(await sweepsOf(project)).toHaveLength(1);
  });

  test.each([
    ["space", { space: { ...SPACE, epochs: 5 } }],
    ["objective", { objective: { metric: "val/acc", goal: "min" } }],
    ["budget", { budget: 21 }],
    ["seed", { seed: 8 }],
  ])("the same name with another %s once a trial was drawn: 409 sweep_conflict, the sweep unchanged", async (_what, change) => {
    const project = freshProject();
    const body = { project, name: "s", space: SPACE, objective: { metric: "val/acc", goal: "max" }, seed: 7, budget: 20 };
    const made = await call("POST", "/api/v1/sweeps", body);
    expect(made.status).toBe(201);
    // a trial drawn: the seed is now in use too
    expect((await call("POST", `/api/v1/sweeps/${made.body.sweep.id}/trials`, {})).status).toBe(201);
    const r = await call("POST", "/api/v1/sweeps", { ...body, ...change });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 409, code: "sweep_conflict" });
    const [only] = await sweepsOf(project);
    expect((await call("GET", `/api/v1/sweeps/${only.id}`)).body.sweep).toMatchObject({ space: SPACE, budget: 20, seed: 7 });
  });

  test("a sweep a run made on the fly takes the space, objective, budget and seed a worker declares later", async () => {
    const project = freshProject();
    expect((await call("POST", "/api/v1/runs", { project, config: { lr: 0.1, sweep: { id: "late" } } })).status).toBe(201);
    const body = { project, name: "late", space: SPACE, objective: { metric: "val/acc", goal: "max" }, budget: 5, seed: 3 };
    const r = await call("POST", "/api/v1/sweeps", body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.sweep).toMatchObject({ space: SPACE, objective: body.objective, budget: 5, seed: 3 });
    expect((await call("POST", `/api/v1/sweeps/${r.body.sweep.id}/trials`, {})).status).toBe(201);
    // declared now, and a trial drawn with that seed: another seed or space conflicts
    for (const change of [{ seed: 4 }, { space: { lr: 0.1 } }]) {
      const again = await call("POST", "/api/v1/sweeps", { ...body, ...change });
      expect({ status: again.status, code: again.body.error?.code }).toEqual({ status: 409, code: "sweep_conflict" });
    }
  });

  test("10 workers creating the same sweep at once: one 201, nine 200, one sweep", async () => {
    const project = freshProject();
    const body = { project, name: "together", space: SPACE, budget: 50 };
    const answers = await Promise.all(Array.from({ length: 10 }, () => call("POST", "/api/v1/sweeps", body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.sweep.id)).size).toBe(1);
    expect(await sweepsOf(project)).toHaveLength(1);
  });

  const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, i]));
  test.each([
    ["no name", { space: SPACE }, 400, "invalid_body"],
    ["an empty name", { name: "  ", space: SPACE }, 400, "invalid_body"],
    ["a name with a control character", { name: "a\u0000b" }, 400, "invalid_body"],
    ["a name too long", { name: "n".repeat(LIMITS.sweepNameMaxLength.value + 1) }, 400, "invalid_body"],
    ["an unknown field", { name: "s", spaces: SPACE }, 400, "invalid_body"],
    ["a space that is a list", { name: "s", space: [1, 2] }, 400, "invalid_space"],
    ["an empty space", { name: "s", space: {} }, 400, "invalid_space"],
    ["an unknown distribution", { name: "s", space: { lr: { distribution: "normal", low: 0, high: 1 } } }, 400, "invalid_space"],
    ["log_uniform from 0", { name: "s", space: { lr: { distribution: "log_uniform", low: 0, high: 1 } } }, 400, "invalid_space"],
    ["high below low", { name: "s", space: { lr: { distribution: "uniform", low: 1, high: 0 } } }, 400, "invalid_space"],
    ["an empty choice", { name: "s", space: { act: { distribution: "choice", values: [] } } }, 400, "invalid_space"],
    ["a reserved parameter name", { name: "s", space: { sweep: 1 } }, 400, "invalid_space"],
    ["101 parameters", { name: "s", space: many }, 400, "invalid_space"],
    ["a goal that is neither", { name: "s", objective: { metric: "val/acc", goal: "up" } }, 400, "invalid_body"],
    ["a budget of 0", { name: "s", space: SPACE, budget: 0 }, 400, "invalid_body"],
    ["a fractional seed", { name: "s", space: SPACE, seed: 1.5 }, 400, "invalid_body"],
    ["a seed past 2^32", { name: "s", space: SPACE, seed: 2 ** 32 }, 400, "invalid_body"],
    ["a parent that does not exist", { name: "s", space: SPACE, parent: "nosuchsweep" }, 400, "invalid_body"],
  ])("%s: the status and code of the table, nothing written", async (_what, body, status, code) => {
    const project = freshProject();
    const r = await call("POST", "/api/v1/sweeps", { project, ...body });
    expect({ status: r.status, code: r.body.error?.code }, JSON.stringify(r.body).slice(0, 300)).toEqual({ status, code });
    expect(typeof r.body.error.message).toBe("string");
    expect(await sweepsOf(project)).toEqual([]);
  });

  test("a space past the body limit: 413 payload_too_large, nothing written", async () => {
    const project = freshProject();
    const body = JSON.stringify({ project, name: "s", space: { a: { distribution: "choice", values: ["x".repeat(LIMITS.editBodyBytes.value)] } } });
    // a socket of its own: the server closes a connection whose body it refused unread
    const r = await rawRequest(server.port, {
      method: "POST",
      target: "/api/v1/sweeps",
      headers: { host: `127.0.0.1:${server.port}`, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
      body,
    });
    expect([r.status, r.json?.error?.code]).toEqual([413, "payload_too_large"]);
    expect(await sweepsOf(project)).toEqual([]);
  });

  test.each(["__proto__", "constructor", "toString", "hasOwnProperty"])("%s as a parameter name and as a sweep name is just a name", async (name) => {
    const project = freshProject();
    const space = JSON.parse(`{${JSON.stringify(name)}: {"distribution": "uniform", "low": 0, "high": 1}, "lr": 0.1}`);
    const made = await call("POST", "/api/v1/sweeps", { project, name, space });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.sweep.name).toBe(name);
    expect(Object.keys(made.body.sweep.space).sort()).toEqual([name, "lr"].sort());
    const trial = await call("POST", `/api/v1/sweeps/${made.body.sweep.id}/trials`, {});
    expect(trial.status).toBe(201);
    expect(Object.keys(trial.body.trial.config).sort()).toEqual([name, "lr"].sort());
    expect(typeof trial.body.trial.config[name]).toBe("number");
    // a run joins it by that name; the detail names the parameter
    const run = await call("POST", "/api/v1/runs", { project, config: { ...trial.body.trial.config, sweep: { id: name, trial: 0 } } });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    const detail = await call("GET", `/api/v1/sweeps/${made.body.sweep.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.sweep.trials).toHaveLength(1);
    expect(Object.keys(detail.body.sweep.trials[0].params).sort()).toEqual([name, "lr"].sort());
  });
});

describe("POST /api/v1/sweeps/{id}/trials", () => {
  test("40 concurrent claims on a budget of 30: 30 distinct indices 0-29 with the sampler's configs, then 409 sweep_complete", async () => {
    const project = freshProject();
    const made = await call("POST", "/api/v1/sweeps", { project, name: "race", space: SPACE, seed: 12345, budget: 30 });
    const id = made.body.sweep.id as string;
    const answers = await Promise.all(Array.from({ length: 40 }, () => call("POST", `/api/v1/sweeps/${id}/trials`, {})));
    const ok = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(ok).toHaveLength(30);
    expect(refused.map((a) => [a.status, a.body.error.code])).toEqual(Array(10).fill([409, "sweep_complete"]));
    const indices = ok.map((a) => a.body.trial.index).sort((a, b) => a - b);
    expect(indices).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const space = validateSpace(SPACE);
    for (const a of ok) {
      expect(a.body.trial.sweep).toEqual({ id, name: "race" });
      expect(a.body.trial.config).toEqual({ ...sampleTrial(space, 12345, a.body.trial.index) });
      expect(a.body.trial.config.epochs).toBe(3);
    }
    expect((await call("GET", `/api/v1/sweeps/${id}`)).body.sweep.trialsClaimed).toBe(30);
  });

  test.each([
    ["an unknown sweep", "nosuchsweep", {}, 404, "not_found"],
    ["a body with a field", "SWEEP", { n: 1 }, 400, "invalid_body"],
  ])("%s: the status and code of the table", async (_what, which, body, status, code) => {
    const project = freshProject();
    const made = await call("POST", "/api/v1/sweeps", { project, name: "s", space: SPACE });
    const id = which === "SWEEP" ? made.body.sweep.id : which;
    const r = await call("POST", `/api/v1/sweeps/${id}/trials`, body);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
  });

  test("a sweep without a declared space hands out nothing: 409 conflict naming config.sweep", async () => {
    const project = freshProject();
    const made = await call("POST", "/api/v1/sweeps", { project, name: "inferred" });
    const r = await call("POST", `/api/v1/sweeps/${made.body.sweep.id}/trials`, {});
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 409, code: "conflict" });
    expect(r.body.error.message).toContain("config.sweep");
  });
});

describe("runs joining through config.sweep", () => {
  test.each([
    ["a new sweep", false],
    ["an existing sweep", true],
  ])("a trial index sampled elsewhere (a synced offline trial) is never handed out again: %s", async (_what, before) => {
    const project = freshProject();
    if (before) expect((await call("POST", "/api/v1/sweeps", { project, name: "offline", space: SPACE })).status).toBe(201);
    const r = await call("POST", "/api/v1/runs", { project, config: { lr: 0.01, sweep: { id: "offline", trial: 6, space: SPACE } } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const [sweep] = await sweepsOf(project);
    const claim = await call("POST", `/api/v1/sweeps/${sweep.id}/trials`, {});
    expect(claim.status, JSON.stringify(claim.body)).toBe(201);
    expect(claim.body.trial.index).toBe(7);
    // an index below the next one moves nothing back
    await call("POST", "/api/v1/runs", { project, config: { lr: 0.02, sweep: { id: "offline", trial: 2 } } });
    expect((await call("POST", `/api/v1/sweeps/${sweep.id}/trials`, {})).body.trial.index).toBe(8);
  });

  test("with a space: the sweep is made with it; the run view, the list and ?sweep= name the sweep", async () => {
    const project = freshProject();
    const r = await call("POST", "/api/v1/runs", { project, name: "t0", config: { lr: 0.01, sweep: { id: "joined", trial: 4, space: SPACE } } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const [sweep] = await sweepsOf(project);
    expect(sweep).toMatchObject({ name: "joined", project, trials: 1, running: 1, failed: 0, stage: 1, parentId: null });
    expect((await call("GET", `/api/v1/sweeps/${sweep.id}`)).body.sweep).toMatchObject({ space: SPACE, inferred: false });
    expect((await call("GET", `/api/v1/runs/${r.body.id}`)).body.run.sweep).toEqual({ id: sweep.id, name: "joined" });
    const other = await call("POST", "/api/v1/runs", { project, name: "plain" });
    const list = await runsOf(project);
    expect(list.find((x) => x.id === r.body.id).sweep).toEqual({ id: sweep.id, name: "joined" });
    expect(list.find((x) => x.id === other.body.id).sweep).toBeNull();
    const filtered = await call("GET", `/api/v1/runs?sweep=${sweep.id}`);
    expect(filtered.body.runs.map((x: { id: string }) => x.id)).toEqual([r.body.id]);
    expect((await call("GET", `/api/v1/sweeps/${sweep.id}`)).body.sweep.trials[0]).toMatchObject({
      runId: r.body.id,
      index: 4,
      params: { lr: 0.01 },
    });
  });

  test("without a space: the sweep infers it; every scalar config key but sweep is a hyperparameter", async () => {
    const project = freshProject();
    for (const [lr, wd] of [
      [0.1, 1e-4],
      [0.01, 1e-3],
    ]) {
      const r = await call("POST", "/api/v1/runs", { project, config: { lr, wd, net: { depth: 3 }, sweep: { id: "loose" } } });
      expect(r.status).toBe(201);
    }
    const [sweep] = await sweepsOf(project);
    expect(sweep.trials).toBe(2);
    const detail = (await call("GET", `/api/v1/sweeps/${sweep.id}`)).body.sweep;
    expect(detail.inferred).toBe(true);
    expect(detail.trials.map((t: { params: object; index: number | null }) => [t.params, t.index])).toEqual([
      [{ lr: 0.1, wd: 1e-4 }, null],
      [{ lr: 0.01, wd: 1e-3 }, null],
    ]);
  });

  test("10 runs joining a new sweep at once make one sweep with 10 trials", async () => {
    const project = freshProject();
    const made = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call("POST", "/api/v1/runs", { project, config: { lr: i / 10, sweep: { id: "crowd", trial: i } } })),
    );
    expect(made.map((r) => r.status)).toEqual(Array(10).fill(201));
    const sweeps = await sweepsOf(project);
    expect(sweeps.map((x) => [x.name, x.trials])).toEqual([["crowd", 10]]);
  });

  test("a run resumed with a config.sweep joins the sweep", async () => {
    const project = freshProject();
    const r = await call("POST", "/api/v1/runs", { project, config: { lr: 0.1 } });
    const again = await call("POST", "/api/v1/runs", { project, id: r.body.id, config: { sweep: { id: "later" } } });
    expect(again.status).toBe(200);
    expect((await call("GET", `/api/v1/runs/${r.body.id}`)).body.run.sweep.name).toBe("later");
  });

  test.each([
    ["a string", "lr-search"],
    ["no id", { trial: 1 }],
    ["a numeric id", { id: 3 }],
    ["an empty id", { id: "" }],
    ["a negative trial", { id: "s", trial: -1 }],
    ["a fractional trial", { id: "s", trial: 0.5 }],
    ["an unknown field", { id: "s", trail: 1 }],
    ["a bad space", { id: "s", space: { lr: { distribution: "log_uniform", low: -1, high: 1 } } }],
    ["a space that is a list", { id: "s", space: ["lr"] }],
  ])("config.sweep as %s: 400, no run and no sweep made", async (_what, sweep) => {
    const project = freshProject();
    const r = await call("POST", "/api/v1/runs", { project, config: { lr: 0.1, sweep } });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(["invalid_body", "invalid_space"]).toContain(r.body.error.code);
    expect(r.body.error.message).toMatch(/sweep|space/);
    expect(await runsOf(project)).toEqual([]);
    expect(await sweepsOf(project)).toEqual([]);
  });

  test("a config.sweep.space that contradicts the sweep's: 409 sweep_conflict, no run made", async () => {
    const project = freshProject();
    expect((await call("POST", "/api/v1/sweeps", { project, name: "fixed", space: SPACE })).status).toBe(201);
    const r = await call("POST", "/api/v1/runs", { project, config: { sweep: { id: "fixed", space: { lr: 0.5 } } } });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 409, code: "sweep_conflict" });
    expect(await runsOf(project)).toEqual([]);
  });

  test("?sweep= that is not an id: 400 invalid_query", async () => {
    const r = await call("GET", "/api/v1/runs?sweep=a%20b");
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: "invalid_query" });
  });
});

/** Best val/acc of a trial: highest (0.9) at lr = 1e-2, falling by 0.1 a decade either side. */
const peaked = (lr: number) => 0.9 - 0.1 * Math.abs(Math.log10(lr) + 2);
/** Best val/acc rising with lr all the way to the top of the range. */
const rising = (lr: number) => 0.5 + 0.1 * Math.log10(lr * 1e4);

/** A sweep (lr in 1e-4..1, log-uniform) of finished trials, one per lr, with val/acc peaking at acc(lr): its id and run ids. */
async function searched(project: string, lrs: number[], extra: Record<string, unknown> = {}, accOf = peaked) {
  const made = await call("POST", "/api/v1/sweeps", {
    project,
    name: "search",
    space: { lr: { distribution: "log_uniform", low: 1e-4, high: 1 } },
    objective: { metric: "val/acc", goal: "max" },
    ...extra,
  });
  expect(made.status).toBe(201);
  const ids: string[] = [];
  for (const [i, lr] of lrs.entries()) {
    const run = await call("POST", "/api/v1/runs", { project, name: `t${i}`, config: { lr, sweep: { id: "search", trial: i } } });
    const acc = accOf(lr);
    await log(run.body.id, [
      { step: 0, metrics: { "val/acc": acc - 0.2, loss: 1 } },
      { step: 1, metrics: { "val/acc": acc, loss: 0.5 } },
      { step: 2, metrics: { "val/acc": acc - 0.05, loss: 0.4 } },
    ]);
    expect((await call("POST", `/api/v1/runs/${run.body.id}/finish`, {})).status).toBe(200);
    ids.push(run.body.id);
  }
  return { id: made.body.sweep.id as string, runs: ids };
}

describe("list, detail, alerts", () => {
  test("the list counts trials and names the best; the detail carries every trial with its objective (best over the run) and curve", async () => {
    const project = freshProject();
    const { id, runs } = await searched(project, [1e-3, 1e-2, 1e-1]);
    const crashed = await call("POST", "/api/v1/runs", { project, config: { lr: 0.5, sweep: { id: "search" } } });
    await call("POST", `/api/v1/runs/${crashed.body.id}/finish`, { status: "crashed" });
    const [listed] = await sweepsOf(project);
    expect(listed).toMatchObject({
      id,
      name: "search",
      project,
      trials: 4,
      running: 0,
      failed: 1,
      objective: { metric: "val/acc", goal: "max", declared: true },
    });
    expect(listed.best.runId).toBe(runs[1]);
    expect(listed.best.value).toBeCloseTo(0.9, 10);
    const all = await call("GET", "/api/v1/sweeps");
    expect(all.body.sweeps.some((s: { id: string }) => s.id === id)).toBe(true);

    const detail = (await call("GET", `/api/v1/sweeps/${id}`)).body.sweep;
    expect(detail).toMatchObject({ id, name: "search", project, stage: 1, parentId: null, children: [], inferred: false });
    expect(Object.keys(detail).sort()).toEqual(
      [
        "alerts",
        "best",
        "budget",
        "children",
        "createdAt",
        "earlyStop",
        "id",
        "importance",
        "inferred",
        "name",
        "objective",
        "parentId",
        "project",
        "seed",
        "space",
        "stage",
        "suggestion",
        "trials",
        "trialsClaimed",
        "updatedAt",
        "url",
      ].sort(),
    );
    expect(detail.trials.map((t: { runId: string }) => t.runId)).toEqual([...runs, crashed.body.id]);
    const top = detail.trials[1];
    expect(top).toMatchObject({ runId: runs[1], name: "t1", index: 1, status: "finished", params: { lr: 0.01 }, failed: false, failure: null });
    expect(top.objective).toBeCloseTo(0.9, 10);
    expect(top.curve.map((p: [number, number]) => p[0])).toEqual([0, 1, 2]);
    expect(typeof top.durationS).toBe("number");
    expect(detail.trials[3]).toMatchObject({ objective: null, failed: true, failure: "crashed", status: "crashed" });
    expect(detail.best[0]).toBe(runs[1]);

    const alerts = await call("GET", `/api/v1/sweeps/${id}/alerts`);
    expect(alerts.status).toBe(200);
    for (const a of alerts.body.alerts) {
      expect(Object.keys(a).sort()).toEqual([
        "code",
        "createdAt",
        "evidence",
        "firstStep",
        "message",
        "severity",
        "status",
        "step",
        "title",
        "updatedAt",
      ]);
      expect(a.status).toBe("active");
    }
  });

  test("a trial that logged NaN loss counts as failed (diverged), not as a bad value", async () => {
    const project = freshProject();
    const { id } = await searched(project, [1e-3, 1e-2]);
    const bad = await call("POST", "/api/v1/runs", { project, config: { lr: 0.9, sweep: { id: "search" } } });
    await log(bad.body.id, [
      { step: 0, metrics: { "val/acc": 0.99, loss: 1 } },
      { step: 1, metrics: { loss: "NaN" } },
    ]);
    const trial = (await call("GET", `/api/v1/sweeps/${id}`)).body.sweep.trials.find((t: { runId: string }) => t.runId === bad.body.id);
    expect(trial).toMatchObject({ failed: true, failure: "diverged" });
    const [listed] = await sweepsOf(project);
    expect(listed.failed).toBe(1);
    expect(listed.best.runId).not.toBe(bad.body.id);
  });

  // NaN and ±Infinity are data: the trial failed (objective null, diverged, counted as failed by the
  // list, the best and should-stop), and its curve and objectiveRaw carry what was logged as the wire strings
  test.each([
    [
      "NaN at the end",
      [0.3, 0.6, "NaN"],
      "NaN",
      [
        [0, 0.3],
        [1, 0.6],
        [2, "NaN"],
      ],
    ],
    [
      "Infinity at the end",
      [0.3, 0.6, "Infinity"],
      "Infinity",
      [
        [0, 0.3],
        [1, 0.6],
        [2, "Infinity"],
      ],
    ],
    [
      "-Infinity at the end",
      [0.3, "-Infinity"],
      "-Infinity",
      [
        [0, 0.3],
        [1, "-Infinity"],
      ],
    ],
    [
      "NaN in the middle, finite again after",
      [0.3, "NaN", 0.7],
      "NaN",
      [
        [0, 0.3],
        [1, "NaN"],
        [2, 0.7],
      ],
    ],
    [
      "only NaN",
      ["NaN", "NaN"],
      "NaN",
      [
        [0, "NaN"],
        [1, "NaN"],
      ],
    ],
  ] as const)(
    "an objective that logged %s: objective null, diverged, the value logged in objectiveRaw and the curve",
    async (_what, values, raw, curve) => {
      const project = freshProject();
      const { id } = await searched(project, [1e-3, 1e-2]);
      const bad = await call("POST", "/api/v1/runs", { project, config: { lr: 0.9, sweep: { id: "search" } } });
      await log(
        bad.body.id,
        values.map((v, step) => ({ step, metrics: { "val/acc": v } })),
      );
      const detail = (await call("GET", `/api/v1/sweeps/${id}`)).body.sweep;
      const trial = detail.trials.find((t: { runId: string }) => t.runId === bad.body.id);
      expect(trial).toMatchObject({ objective: null, objectiveRaw: raw, failed: true, failure: "diverged", curve });
      expect(detail.best).not.toContain(bad.body.id);
      // a finite trial's objectiveRaw is its objective
      for (const t of detail.trials.filter((t: { runId: string }) => t.runId !== bad.body.id)) expect(t.objectiveRaw).toBe(t.objective);
      const [listed] = await sweepsOf(project);
      expect(listed.failed).toBe(1);
      expect(listed.best.runId).not.toBe(bad.body.id);
      const stop = await call("GET", `/api/v1/runs/${bad.body.id}/should-stop`);
      expect({ stop: stop.body.stop, rule: stop.body.evidence.rule }).toEqual({ stop: true, rule: "diverged" });
    },
  );

  test("a long diverged curve, thinned to 100 points, keeps its NaN stretch and every finite best", async () => {
    const project = freshProject();
    const { id } = await searched(project, [1e-3, 1e-2]);
    const bad = await call("POST", "/api/v1/runs", { project, config: { lr: 0.9, sweep: { id: "search" } } });
    const rows = Array.from({ length: 1000 }, (_, step) => ({ step, metrics: { "val/acc": step < 777 ? 0.1 + step / 1000 : "NaN" } }));
    await log(bad.body.id, rows);
    const trial = (await call("GET", `/api/v1/sweeps/${id}`)).body.sweep.trials.find((t: { runId: string }) => t.runId === bad.body.id);
    expect(trial).toMatchObject({ objective: null, objectiveRaw: "NaN", failure: "diverged" });
    const pts = trial.curve as Array<[number, number | string]>;
    expect(pts.length).toBeLessThanOrEqual(101); // at most one bucket holds both a finite best and a NaN
    expect(pts.map(([s]) => s)).toEqual([...pts.map(([s]) => s)].sort((a, b) => a - b));
    const finite = pts.filter(([, v]) => typeof v === "number").map(([, v]) => v as number);
    expect(Math.max(...finite)).toBeCloseTo(0.1 + 776 / 1000, 12); // the last finite value before the NaN is not lost
    expect(pts.filter(([s, v]) => v === "NaN" && s >= 777).length).toBeGreaterThan(10);
    expect(pts.every(([s, v]) => (s < 777 ? typeof v === "number" : v === "NaN"))).toBe(true);
    expect(pts[pts.length - 1]).toEqual([999, "NaN"]);
  });

  test("unknown sweep: 404 not_found on the detail and the alerts", async () => {
    for (const p of ["/api/v1/sweeps/nosuchsweep", "/api/v1/sweeps/nosuchsweep/alerts"]) {
      const r = await call("GET", p);
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 404, code: "not_found" });
    }
    const q = await call("GET", "/api/v1/sweeps?projects=x");
    expect({ status: q.status, code: q.body.error?.code }).toEqual({ status: 400, code: "invalid_query" });
  });
});

describe("GET /api/v1/sweeps pages", () => {
  test("limit and nextCursor walk every sweep once, newest first; an empty sweep lists with no trials", async () => {
    const project = freshProject();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call("POST", "/api/v1/sweeps", { project, name: `s${i}`, space: { lr: { distribution: "uniform", low: 0, high: 1 } } });
      made.push(r.body.sweep.id);
    }
    const all = await sweepsOf(project);
    expect(all.map((s) => s.id)).toEqual([...made].reverse());
    expect(all[0]).toMatchObject({ trials: 0, running: 0, failed: 0, pruned: 0, best: null });
    const seen: string[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const q: string = `/api/v1/sweeps?project=${project}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const r = await call("GET", q);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      sizes.push(r.body.sweeps.length);
      seen.push(...r.body.sweeps.map((s: { id: string }) => s.id));
      cursor = r.body.nextCursor;
    } while (cursor !== null);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual([...made].reverse());
    // a page that ends exactly at the last sweep says there is no next one
    expect((await call("GET", `/api/v1/sweeps?project=${project}&limit=5`)).body.nextCursor).toBeNull();
    expect((await call("GET", `/api/v1/sweeps?project=${project}&limit=4`)).body.nextCursor).not.toBeNull();
  });

  test.each([
    ["limit=0", 400, "invalid_query"],
    [`limit=${LIMITS.sweepListMax.value + 1}`, 400, "invalid_query"],
    ["limit=1e2", 400, "invalid_query"],
    ["limit=", 400, "invalid_query"],
    ["cursor=nonsense", 400, "invalid_query"],
    ["cursor=%21%21", 400, "invalid_query"],
    [`cursor=${Buffer.from('{"a":1}').toString("base64url")}`, 400, "invalid_query"],
    ["offset=2", 400, "invalid_query"],
  ])("?%s: %d %s", async (query, status, code) => {
    const r = await call("GET", `/api/v1/sweeps?${query}`);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
  });

  test(`limit=${LIMITS.sweepListMax.value} is allowed`, async () => {
    const r = await call("GET", `/api/v1/sweeps?limit=${LIMITS.sweepListMax.value}`);
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body.sweeps)).toBe(true);
  });
});

describe("POST /api/v1/sweeps/{id}/refine", () => {
  test("creates the next stage: linked child, stage 2, default name, narrowed space, same objective", async () => {
    const project = freshProject();
    const { id } = await searched(project, [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 0.5], { budget: 10 });
    const r = await call("POST", `/api/v1/sweeps/${id}/refine`, { top: 2 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const child = r.body.sweep;
    expect(child).toMatchObject({ name: "search-s2", project, stage: 2, parentId: id, objective: { metric: "val/acc", goal: "max" }, budget: 10 });
    expect(child.id).not.toBe(id);
    const lr = child.space.lr;
    expect(lr.distribution).toBe("log_uniform");
    // narrowed around the best (1e-2, 3e-3 / 3e-2), in log space
    expect(lr.low).toBeGreaterThan(1e-4);
    expect(lr.high).toBeLessThan(1);
    expect(lr.low).toBeLessThanOrEqual(1e-2);
    expect(lr.high).toBeGreaterThanOrEqual(1e-2);
    const parent = (await call("GET", `/api/v1/sweeps/${id}`)).body.sweep;
    expect(parent.children).toEqual([{ id: child.id, name: "search-s2", stage: 2 }]);
    // named, with its own budget; a name in use with another space is a conflict
    const named = await call("POST", `/api/v1/sweeps/${id}/refine`, { name: "fine", budget: 4 });
    expect(named.status).toBe(201);
    expect(named.body.sweep).toMatchObject({ name: "fine", budget: 4, stage: 2 });
  });

  test("best trials on the upper edge: the next stage's range reaches past it, and the sweep says so", async () => {
    const project = freshProject();
    const lrs = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 0.3, 0.6, 0.9];
    const { id } = await searched(project, lrs, {}, rising);
    const alerts = (await call("GET", `/api/v1/sweeps/${id}/alerts`)).body.alerts;
    const boundary = alerts.find((a: { code: string }) => a.code === "search_boundary");
    expect(boundary, JSON.stringify(alerts)).toBeDefined();
    expect(boundary.message).toContain("lr");
    const r = await call("POST", `/api/v1/sweeps/${id}/refine`, {});
    expect(r.status).toBe(201);
    expect(r.body.sweep.space.lr.high).toBeGreaterThan(1);
    // Refine makes the space the page suggests
    expect(r.body.sweep.space).toEqual((await call("GET", `/api/v1/sweeps/${id}`)).body.sweep.suggestion);
  });

  // a sweep with no declared space whose trials' configs hold nothing that varies: nothing to narrow
  test.each([
    ["every trial with the same lr", (_i: number) => ({ lr: 0.01, seed: 1 })],
    ["no hyperparameter in the configs", (_i: number) => ({})],
    ["only nested (non-scalar) values", (i: number) => ({ opt: { lr: 10 ** -i } })],
  ])("no space, %s: 409 conflict saying why, no child", async (_what, configOf) => {
    const project = freshProject();
    for (let i = 1; i <= 3; i++) {
      const run = await call("POST", "/api/v1/runs", { project, config: { ...configOf(i), sweep: { id: "adhoc" } } });
      expect(run.status, JSON.stringify(run.body)).toBe(201);
      await log(run.body.id, [{ step: 0, metrics: { "val/acc": 0.5 + 0.1 * i } }]);
      await call("POST", `/api/v1/runs/${run.body.id}/finish`, {});
    }
    const [sweep] = await sweepsOf(project);
    const r = await call("POST", `/api/v1/sweeps/${sweep.id}/refine`, {});
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 409, code: "conflict" });
    expect(r.body.error.message).toMatch(/declares no space.*no range to narrow/);
    expect(await sweepsOf(project)).toHaveLength(1);
  });

  test.each([
    ["no trials", 0, {}, 409, "too_few_trials"],
    ["one trial", 1, {}, 409, "too_few_trials"],
    ["top 0", 3, { top: 0 }, 400, "invalid_body"],
    ["an unknown field", 3, { topk: 2 }, 400, "invalid_body"],
  ])("%s: the status and code of the table, no child", async (_what, n, body, status, code) => {
    const project = freshProject();
    const { id } = await searched(project, [1e-3, 1e-2, 1e-1].slice(0, n));
    const r = await call("POST", `/api/v1/sweeps/${id}/refine`, body);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
    expect(await sweepsOf(project)).toHaveLength(1);
  });
});

describe("GET /api/v1/runs/{id}/should-stop", () => {
  test("a run in no sweep: false", async () => {
    const r = await call("POST", "/api/v1/runs", { project: freshProject() });
    expect((await call("GET", `/api/v1/runs/${r.body.id}/should-stop`)).body).toEqual({ stop: false, reason: null, evidence: {} });
  });

  test("a diverged trial: stop, reason diverged", async () => {
    const project = freshProject();
    await searched(project, [1e-3, 1e-2]);
    const bad = await call("POST", "/api/v1/runs", { project, config: { lr: 0.9, sweep: { id: "search" } } });
    await log(bad.body.id, [{ step: 0, metrics: { loss: "Infinity", "val/acc": 0.1 } }]);
    const r = await call("GET", `/api/v1/runs/${bad.body.id}/should-stop`);
    expect(r.status).toBe(200);
    expect(r.body.stop).toBe(true);
    expect(r.body.reason).toMatch(/^diverged/);
    expect(r.body.evidence).toMatchObject({ rule: "diverged", metric: "val/acc" });
  });

  test("a trial clearly below the median of the others at the same step: stop; the best one: go on", async () => {
    const project = freshProject();
    const { runs } = await searched(project, [1e-3, 1e-2, 3e-2, 1e-1, 0.3]);
    const slow = await call("POST", "/api/v1/runs", { project, config: { lr: 1e-4, sweep: { id: "search" } } });
    await log(slow.body.id, [
      { step: 0, metrics: { "val/acc": 0.01 } },
      { step: 1, metrics: { "val/acc": 0.02 } },
      { step: 2, metrics: { "val/acc": 0.03 } },
    ]);
    const r = await call("GET", `/api/v1/runs/${slow.body.id}/should-stop`);
    expect(r.body.stop, JSON.stringify(r.body)).toBe(true);
    expect(r.body.reason).toMatch(/median/);
    expect(r.body.evidence).toMatchObject({ rule: "median", metric: "val/acc" });
    const best = await call("GET", `/api/v1/runs/${runs[1]}/should-stop`);
    expect(best.body.stop, JSON.stringify(best.body)).toBe(false);
  });

  test("a trial told to stop reads as pruned in the sweep, however it ends; its run keeps its own status", async () => {
    const project = freshProject();
    const { id, runs } = await searched(project, [1e-3, 1e-2, 3e-2, 1e-1, 0.3]);
    const slow = await call("POST", "/api/v1/runs", { project, config: { lr: 1e-4, sweep: { id: "search" } } });
    await log(slow.body.id, [
      { step: 0, metrics: { "val/acc": 0.01 } },
      { step: 1, metrics: { "val/acc": 0.02 } },
    ]);
    // asked before any stop: nothing recorded
    const before = (await call("GET", `/api/v1/sweeps/${id}`)).body.sweep.trials.find((t: { runId: string }) => t.runId === slow.body.id);
    expect(before).toMatchObject({ status: "running", pruned: false, prune: null });
    const stop = await call("GET", `/api/v1/runs/${slow.body.id}/should-stop`);
    expect(stop.body.stop).toBe(true);
    // asked again (a worker polls): still one record, the first answer's
    await log(slow.body.id, [{ step: 2, metrics: { "val/acc": 0.03 } }]);
    expect((await call("GET", `/api/v1/runs/${slow.body.id}/should-stop`)).body.stop).toBe(true);
    expect((await call("POST", `/api/v1/runs/${slow.body.id}/finish`, {})).status).toBe(200);
    const sweep = (await call("GET", `/api/v1/sweeps/${id}`)).body.sweep;
    const t = sweep.trials.find((x: { runId: string }) => x.runId === slow.body.id);
    expect(t).toMatchObject({ status: "finished", pruned: true, failed: false, objective: 0.03 });
    expect(t.prune).toMatchObject({ rule: "median", step: 1 });
    expect(t.prune.reason).toMatch(/^below the median/);
    for (const other of sweep.trials.filter((x: { runId: string }) => runs.includes(x.runId)))
      expect(other).toMatchObject({ pruned: false, prune: null });
    expect((await call("GET", `/api/v1/runs/${slow.body.id}`)).body.run.status).toBe("finished");
    const [listed] = await sweepsOf(project);
    expect(listed).toMatchObject({ trials: 6, pruned: 1, failed: 0 });
  });

  test("a diverged trial told to stop is pruned with rule diverged (and failed)", async () => {
    const project = freshProject();
    const { id } = await searched(project, [1e-3, 1e-2]);
    const bad = await call("POST", "/api/v1/runs", { project, config: { lr: 0.9, sweep: { id: "search" } } });
    await log(bad.body.id, [{ step: 0, metrics: { loss: "Infinity", "val/acc": 0.1 } }]);
    expect((await call("GET", `/api/v1/runs/${bad.body.id}/should-stop`)).body.stop).toBe(true);
    await call("POST", `/api/v1/runs/${bad.body.id}/finish`, {});
    const t = (await call("GET", `/api/v1/sweeps/${id}`)).body.sweep.trials.find((x: { runId: string }) => x.runId === bad.body.id);
    expect(t).toMatchObject({ status: "finished", pruned: true, failed: true, failure: "diverged", prune: { rule: "diverged" } });
  });

  test("an unknown run: 404", async () => {
    const r = await call("GET", "/api/v1/runs/nosuchrun/should-stop");
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 404, code: "not_found" });
  });
});

describe("live", () => {
  test("the sweep's room hears `sweep` when a trial is created and when it logs", async () => {
    const project = freshProject();
    const made = await call("POST", "/api/v1/sweeps", { project, name: "live", space: SPACE });
    const id = made.body.sweep.id as string;
    const socket = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"] });
    sockets.push(socket);
    const heard: unknown[] = [];
    socket.on("sweep", (m: unknown) => heard.push(m));
    await new Promise<void>((resolve) => socket.emit("subscribe", { sweep: id }, () => resolve()));
    const run = await call("POST", "/api/v1/runs", { project, config: { sweep: { id: "live", trial: 0 } } });
    await waitFor(() => heard.length >= 1, 10_000, "a sweep event after the trial was created");
    expect(heard[0]).toEqual({ sweepId: id });
    await log(run.body.id, [{ step: 0, metrics: { loss: 1 } }]);
    await waitFor(() => heard.length >= 2, 10_000, "a sweep event after the trial logged (within a second)");
    expect((await call("POST", `/api/v1/runs/${run.body.id}/finish`, {})).status).toBe(200);
    await waitFor(() => heard.length >= 3, 10_000, "a sweep event after the trial finished (within a second)");
    // another sweep's room hears nothing of it
    expect(heard.every((m) => (m as { sweepId: string }).sweepId === id)).toBe(true);
  });
});
