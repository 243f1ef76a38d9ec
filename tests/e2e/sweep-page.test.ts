import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { runTrials } from "../../sdk/ts/examples/spiral-sweep";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The sweep page in a real browser, on a small real search: two workers claim trials of a sweep
// from the server and train the spiral MLP of sdk/ts/examples/train.ts (hand-written backprop)
// with the sampled learning rate, over a range whose top is still too low, so the best trials sit
// on its upper edge. A run with a learning rate of 40 joins the sweep through its config and
// diverges. The page shows the trials, a scatter per parameter (log x for lr), the parallel
// coordinates, the boundary alert; it follows a trial that finishes while it is open; the
// parameter named like markup is text; Refine makes the next stage and opens it.

process.env.BABYSIT_QUIET = "1";
const env = serverAndBrowser();

const HOSTILE = `<img src=x onerror="window.__pwned=1">`;
const HOSTILE_VALUE = `<b onmouseover="window.__pwned=2">x</b>`;

async function pageFor(id: string) {
  const tracked = await env.browser.open(`${env.server.url}/sweeps/${id}`);
  await tracked.page.waitForSelector('[data-testid="trials"]');
  return tracked;
}

const rows = (page: Page) => page.locator('[data-testid="trials"] tbody tr').count();

describe("sweep page", () => {
  test("a small real search: trials, scatters (log lr), parallel coordinates, boundary alert, live, refine", async () => {
    const client = { url: env.server.url };
    const created = await api(env.server.url, "POST", "/api/v1/sweeps", {
      project: "e2e-sweep",
      name: "coarse",
      space: {
        lr: { distribution: "log_uniform", low: 1e-3, high: 1e-1 },
        hidden: { distribution: "choice", values: [16, 32] },
        [HOSTILE]: { distribution: "choice", values: [HOSTILE_VALUE, "plain"] },
      },
      objective: { metric: "val/acc", goal: "max" },
      seed: 5,
    });
    expect(created.status).toBe(201);
    const sweep = created.body.sweep;

    const done = await runTrials(client, sweep, { trials: 8, workers: 2, steps: 240 });
    expect(done.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // a run made without the sampler joins through its config, and crashes before any validation:
    // a failure, not a value (a trial that diverged above the best lr would rightly silence the
    // boundary alert: the better region is not past that edge)
    const crashed = await api(env.server.url, "POST", "/api/v1/runs", {
      project: "e2e-sweep",
      name: "coarse-crashed",
      config: { lr: 1e-3, hidden: 16, sweep: { id: "coarse" } },
    });
    expect(crashed.status).toBe(201);
    const rows0 = Array.from({ length: 5 }, (_, i) => ({ step: i, metrics: { "train/loss": 1.1 - 0.01 * i } }));
    expect((await api(env.server.url, "POST", `/api/v1/runs/${crashed.body.id}/log`, { seq: 0, rows: rows0 })).status).toBe(200);
    expect((await api(env.server.url, "POST", `/api/v1/runs/${crashed.body.id}/finish`, { status: "crashed" })).status).toBe(200);

    const { page, errors } = await pageFor(sweep.id);
    await page.evaluate(() => ((window as unknown as { __same: boolean }).__same = true));

    // the trials table: every trial, a row each, the best highlighted, each linking to its run
    await expect.poll(() => rows(page)).toBe(9);
    expect(await page.locator('[data-testid="trials"] tr[data-best="1"]').count()).toBe(1);
    const bestRun = await page.locator('[data-testid="trials"] tr[data-best="1"]').getAttribute("data-run");
    expect(await page.locator(`[data-testid="trials"] tr[data-run="${bestRun}"] a`).first().getAttribute("href")).toBe(`/runs/${bestRun}`);
    expect(await page.locator('[data-testid="trials"] tr[data-failed]').count()).toBeGreaterThanOrEqual(1);

    // a scatter per parameter: lr on a log axis (the chart's own scale, not a label), choices as categories
    const scatters = page.locator("figure.sweep-scatter");
    expect(await scatters.count()).toBe(3);
    expect(await page.locator('figure[data-param="lr"]').getAttribute("data-scale")).toBe("log");
    expect(await page.locator('figure[data-param="lr"] canvas').getAttribute("data-x-scale")).toBe("logarithmic");
    // numeric choices on a number line, string choices as categories
    expect(await page.locator('figure[data-param="hidden"]').getAttribute("data-scale")).toBe("linear");
    expect(await page.locator(`figure[data-param="${HOSTILE.replace(/"/g, '\\"')}"]`).getAttribute("data-scale")).toBe("category");
    expect(Number(await page.locator('figure[data-param="lr"]').getAttribute("data-points"))).toBe(8);
    expect(Number(await page.locator('figure[data-param="lr"]').getAttribute("data-failed"))).toBe(1);

    // parallel coordinates: an axis per parameter and one for the objective, a line per trial
    const pc = page.locator('[data-testid="parallel-coords"]');
    expect(await pc.getAttribute("data-axes")).toBe("4");
    expect(await pc.locator("polyline").count()).toBe(9);
    expect(await pc.locator('g[data-axis="lr"]').getAttribute("data-scale")).toBe("log");

    // the boundary alert at the top, naming lr
    const boundary = page.locator('.alerts article[data-code="search_boundary"]');
    await boundary.waitFor();
    expect(await boundary.textContent()).toContain("lr");
    const suggestion = page.locator('[aria-label="next stage"]');
    expect(await suggestion.getAttribute("data-suggestion")).toBe("");
    expect(await page.locator('[data-testid="snippet"]').textContent()).toContain('"lr": babysit.log_uniform(');

    // the hostile name and value are text everywhere: in the table head, the scatter title, the axes
    expect(await page.locator(`[data-testid="trials"] th[data-sort-key="param:${HOSTILE.replace(/"/g, '\\"')}"]`).textContent()).toContain(HOSTILE);
    expect(await page.locator(`figure[data-param="${HOSTILE.replace(/"/g, '\\"')}"] h3`).textContent()).toBe(HOSTILE);
    expect(await page.locator("img[src=x], b[onmouseover]").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    // sorting: by lr ascending then descending
    await page.locator('th[data-sort-key="param:lr"] button').click();
    const lrs = async () =>
      (await page.locator('[data-testid="trials"] tbody td[data-param="lr"]').allTextContents()).map(Number).filter((v) => Number.isFinite(v));
    const asc = await lrs();
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await page.locator('th[data-sort-key="param:lr"] button').click();
    const desc = await lrs();
    expect(desc).toEqual([...desc].sort((a, b) => b - a));

    // live: another worker's trial finishes while the page is open
    await runTrials(client, sweep, { trials: 1, workers: 1, steps: 60 });
    await expect.poll(() => rows(page), { timeout: 15_000 }).toBe(10);
    await expect.poll(() => page.locator('figure[data-param="lr"]').getAttribute("data-points"), { timeout: 15_000 }).toBe("9");
    expect(await pc.locator("polyline").count()).toBe(10);
    expect(await page.evaluate(() => (window as unknown as { __same?: boolean }).__same)).toBe(true);

    // Refine: the next stage is made and opened, linked both ways in the chain
    await page.locator('[data-testid="refine"]').click();
    await page.waitForURL((u) => u.pathname.startsWith("/sweeps/") && !u.pathname.endsWith(sweep.id));
    await page.waitForSelector(".stages [data-stage-link]");
    expect(await page.locator(`.stages a[data-stage-link="${sweep.id}"]`).count()).toBe(1);
    expect(await page.locator("h1").textContent()).toContain("coarse");
    expect(await page.locator("[data-stage]").first().getAttribute("data-stage")).toBe("2");
    expect(errors).toEqual([]);
  }, 180_000);

  // pages draw exactly what was logged: a trial whose objective logged NaN / Infinity shows it (and
  // counts as failed: diverged), its curve has the gap; the snippet makes a sweep linked to this one
  test("a trial whose objective logged NaN or Infinity shows what it logged; the snippet names the parent", async () => {
    const made = await api(env.server.url, "POST", "/api/v1/sweeps", {
      project: "e2e-sweep-nan",
      name: "nan",
      space: { lr: { distribution: "log_uniform", low: 1e-3, high: 1 } },
      objective: { metric: "val/acc", goal: "max" },
    });
    expect(made.status).toBe(201);
    const ids = new Map<string, string>();
    const logged: Array<[string, number, Array<number | string>]> = [
      ["ok-1", 0.01, [0.3, 0.5, 0.6]],
      ["ok-2", 0.03, [0.3, 0.6, 0.7]],
      ["nan", 0.5, [0.3, 0.4, "NaN"]],
      ["inf", 0.9, [0.3, "Infinity"]],
    ];
    for (const [name, lr, values] of logged) {
      const r = await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-sweep-nan", name, config: { lr, sweep: { id: "nan" } } });
      expect(r.status).toBe(201);
      ids.set(name, r.body.id);
      const rows = values.map((v, step) => ({ step, metrics: { "val/acc": v } }));
      expect((await api(env.server.url, "POST", `/api/v1/runs/${r.body.id}/log`, { seq: 0, rows })).status).toBe(200);
      expect((await api(env.server.url, "POST", `/api/v1/runs/${r.body.id}/finish`, {})).status).toBe(200);
    }
    const { page, errors } = await pageFor(made.body.sweep.id);
    await expect.poll(() => rows(page)).toBe(4);
    for (const [name, text, raw] of [
      ["nan", "NaN", "NaN"],
      ["inf", "+Inf", "Infinity"],
    ]) {
      const cell = page.locator(`[data-testid="trials"] tr[data-run="${ids.get(name)}"] td.objective`);
      expect(await cell.getAttribute("data-objective-raw")).toBe(raw);
      expect((await cell.textContent())?.trim()).toBe(`${text} diverged`);
      expect(await page.locator(`[data-testid="trials"] tr[data-run="${ids.get(name)}"]`).getAttribute("data-failed")).toBe("");
      expect(await page.locator(`[data-testid="parallel-coords"] a[data-trial="${ids.get(name)}"] title`).textContent()).toBe(
        `${name}: val/acc = ${text} (diverged)`,
      );
    }
    expect((await page.locator(`[data-testid="trials"] tr[data-run="${ids.get("ok-2")}"] td.objective`).textContent())?.trim()).toBe("0.7");
    expect(await page.locator('figure[data-chart="curves"]').getAttribute("data-lines")).toBe("4");
    expect(await page.locator('figure[data-chart="curves"] .failed-note').textContent()).toContain("2 trials logged NaN/Inf");
    expect(await page.locator('[data-testid="snippet"]').textContent()).toContain(
      `parent=${JSON.stringify(made.body.sweep.id)},  # this sweep: the new one is its stage 2`,
    );
    expect(errors).toEqual([]);
  }, 60_000);

  test("a trial should-stop told to stop shows a pruned badge beside its finished status", async () => {
    const project = "e2e-sweep-pruned";
    const made = await api(env.server.url, "POST", "/api/v1/sweeps", {
      project,
      name: "pruned",
      space: { lr: { distribution: "log_uniform", low: 1e-3, high: 1 } },
      objective: { metric: "val/acc", goal: "max" },
    });
    expect(made.status).toBe(201);
    const trial = async (name: string, lr: number, acc: number) => {
      const r = await api(env.server.url, "POST", "/api/v1/runs", { project, name, config: { lr, sweep: { id: "pruned" } } });
      const rows = [0, 1, 2].map((step) => ({ step, metrics: { "val/acc": acc + 0.01 * step } }));
      expect((await api(env.server.url, "POST", `/api/v1/runs/${r.body.id}/log`, { seq: 0, rows })).status).toBe(200);
      return r.body.id as string;
    };
    for (const [i, acc] of [0.8, 0.82, 0.84, 0.86].entries()) {
      const id = await trial(`ok-${i}`, 0.01 * (i + 1), acc);
      await api(env.server.url, "POST", `/api/v1/runs/${id}/finish`, {});
    }
    const slow = await trial("slow", 0.9, 0.1);
    expect((await api(env.server.url, "GET", `/api/v1/runs/${slow}/should-stop`)).body.stop).toBe(true);
    await api(env.server.url, "POST", `/api/v1/runs/${slow}/finish`, {});
    const { page, errors } = await pageFor(made.body.sweep.id);
    await expect.poll(() => rows(page)).toBe(5);
    const row = page.locator(`[data-testid="trials"] tr[data-run="${slow}"]`);
    expect(await row.locator("[data-status]").first().getAttribute("data-status")).toBe("finished");
    expect((await row.locator("[data-pruned]").textContent())?.trim()).toBe("pruned");
    expect(await row.locator("[data-pruned]").getAttribute("title")).toMatch(/below the median/);
    expect(await page.locator("[data-pruned]").count()).toBe(1);
    expect(errors).toEqual([]);
  }, 60_000);

  test("the run page links its sweep; the runs list groups runs by sweep", async () => {
    const list = await api(env.server.url, "GET", "/api/v1/sweeps?project=e2e-sweep");
    const coarse = list.body.sweeps.find((s: { name: string }) => s.name === "coarse");
    const runs = await api(env.server.url, "GET", `/api/v1/runs?project=e2e-sweep&sweep=${coarse.id}`);
    const runId = runs.body.runs[0].id;

    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${runId}`);
    const link = page.locator(`[data-sweep="${coarse.id}"] a`);
    await link.waitFor();
    expect(await link.getAttribute("href")).toBe(`/sweeps/${coarse.id}`);

    const lp = await env.browser.open(`${env.server.url}/?project=e2e-sweep&group=sweep`);
    const group = lp.page.locator(`tbody[data-sweep-group="${coarse.id}"]`);
    await group.waitFor();
    expect(await group.locator(`a[data-sweep-link="${coarse.id}"]`).getAttribute("href")).toBe(`/sweeps/${coarse.id}`);
    expect(await group.locator("tr[data-run]").count()).toBe(coarse.trials);
    expect(await lp.page.locator('select[aria-label="group"]').inputValue()).toBe("sweep");
    // the sweep column names each trial's sweep
    expect(await lp.page.locator(`td.sweep[data-sweep="${coarse.id}"]`).count()).toBe(coarse.trials);
    expect([...errors, ...lp.errors]).toEqual([]);
  }, 60_000);
});
