import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { replayOf } from "../helpers/fixtures";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// The babysitting checklist of real runs replayed through the HTTP API: while they log and once they
// finished, through the run's API and through a shared link, and as one line in the finish answer.

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "200" } });
});
afterAll(async () => {
  await server?.stop();
});

interface Item {
  id: string;
  state: "passed" | "raised" | "unknown";
  evidence: string;
  alert: string | null;
  how: string | null;
}

const states = (items: Item[]) => Object.fromEntries(items.map((i) => [i.id, i.state]));

async function replay(name: string, upTo = Infinity): Promise<{ id: string; rest: () => Promise<void> }> {
  const { config, batches } = replayOf(name);
  const created = await api(server.url, "POST", "/api/v1/runs", { project: "checklist", name, config });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const send = async (from: number, to: number) => {
    for (let seq = from; seq < Math.min(to, batches.length); seq++) {
      expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq, ...batches[seq] })).status).toBe(200);
    }
  };
  const cut = Math.min(upTo, batches.length);
  await send(0, cut);
  return { id, rest: () => send(cut, batches.length) };
}

describe("GET /api/v1/runs/{id}/checklist", () => {
  test("a healthy run says what was checked: passed items with their numbers, nothing raised", async () => {
    const { id } = await replay("healthy");
    const fin = await api(server.url, "POST", `/api/v1/runs/${id}/finish`, { status: "finished" });
    expect(fin.status).toBe(200);
    const r = await api(server.url, "GET", `/api/v1/runs/${id}/checklist`);
    expect(r.status).toBe(200);
    const items = r.body.items as Item[];
    expect(states(items)).toEqual({
      initial_loss: "passed",
      gradient_check: "unknown",
      overfit_tiny: "unknown",
      input_preprocessing: "passed",
      initialization: "passed",
      update_ratios: "passed",
      activations_gradients: "passed",
      train_val: "passed",
      loss_shape: "passed",
      first_layer_filters: "unknown",
    });
    expect(items.find((i) => i.id === "initial_loss")!.evidence).toMatch(/^initial loss [\d.]+ vs ln 10 = 2\.3/);
    for (const i of items.filter((x) => x.state === "unknown")) expect(i.how).toMatch(/`/);
    expect(r.body.summary).toMatchObject({ passed: 7, raised: 0, unknown: 3, raisedCodes: [], text: "7 passed, 0 raised, 3 not checkable" });
    // the SDKs print the same line from the finish answer
    expect(fin.body.checklist).toEqual({ summary: "7 passed, 0 raised, 3 not checkable", passed: 7, raised: 0, unknown: 3, raisedCodes: [] });
  });

  test("an overfitting run's train/val item is raised and names the alert the alerts API lists", async () => {
    const { id } = await replay("overfit");
    const fin = await api(server.url, "POST", `/api/v1/runs/${id}/finish`, { status: "finished" });
    expect(fin.body.checklist.raisedCodes).toEqual(["overfitting"]);
    const r = await api(server.url, "GET", `/api/v1/runs/${id}/checklist`);
    const item = (r.body.items as Item[]).find((i) => i.id === "train_val")!;
    expect(item).toMatchObject({ state: "raised", alert: "overfitting" });
    const alerts = (await api(server.url, "GET", `/api/v1/runs/${id}/alerts`)).body.alerts as { code: string; status: string }[];
    expect(alerts).toContainEqual(expect.objectContaining({ code: "overfitting", status: "active" }));
    expect(r.body.summary.text).toBe("6 passed, 1 raised (overfitting), 3 not checkable");
  });

  test("a live run's checklist follows what it logged so far", async () => {
    const { id, rest } = await replay("healthy", 1);
    const early = await api(server.url, "GET", `/api/v1/runs/${id}/checklist`);
    expect(early.status).toBe(200);
    expect(early.body.items).toHaveLength(10);
    await rest();
    // the complete run's data is held live: every item the finished run passes can be judged now
    const later = await waitFor(async () => {
      const r = await api(server.url, "GET", `/api/v1/runs/${id}/checklist`);
      return r.body.summary.passed === 7 ? r : null;
    });
    expect(later!.body.summary.raised).toBe(0);
  });

  test("a shared link reads the same checklist; unknown runs and links are 404", async () => {
    const { id } = await replay("overfit");
    await api(server.url, "POST", `/api/v1/runs/${id}/finish`, { status: "finished" });
    const made = await api(server.url, "POST", `/api/v1/runs/${id}/shares`, {});
    expect(made.status).toBe(201);
    const direct = await api(server.url, "GET", `/api/v1/runs/${id}/checklist`);
    const shared = await api(server.url, "GET", `/api/v1/shares/${made.body.token}/checklist`);
    expect(shared.status).toBe(200);
    expect(shared.body).toEqual(direct.body);
    const none = await api(server.url, "GET", "/api/v1/runs/no-such-run/checklist");
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe("not_found");
    expect((await api(server.url, "GET", "/api/v1/shares/AAAAAAAAAAAAAAAAAAAAAA/checklist")).status).toBe(404);
    expect((await api(server.url, "POST", `/api/v1/runs/${id}/checklist`, {})).status).toBe(405);
  });
});

describe("a run made without the SDK is told what its logs would need, not to call the SDK", () => {
  test.each([
    ["a `babysit run` command", { command: "python train.py", argv: ["python", "train.py"], cwd: "/tmp" }, "not checkable from a command's output: "],
    ["an SDK run", { lr: 0.1 }, "call `watch(model, optimizer)`"],
    ["borderline: a hyperparameter named command, no argv", { command: "fit" }, "call `watch(model, optimizer)`"],
  ])("%s", async (_, config, how) => {
    const created = await api(server.url, "POST", "/api/v1/runs", { project: "checklist-origin", config });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const rows = Array.from({ length: 20 }, (_, step) => ({ step, metrics: { "train/loss": 2.3 - 0.05 * step } }));
    expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows })).status).toBe(200);
    const res = await api(server.url, "GET", `/api/v1/runs/${id}/checklist`);
    expect(res.status).toBe(200);
    const item = (res.body.items as Item[]).find((i) => i.id === "update_ratios")!;
    expect(item.state).toBe("unknown");
    expect(item.how!.startsWith(how), item.how!).toBe(true);
  });
});
