import { describe, expect, test } from "vitest";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The runs list and the compare view in a real browser: live rows, last values (NaN shown as
// such), project filter and sorting, picking runs, and one metric of several runs overlaid.

const env = serverAndBrowser();
let seq = 0;

async function newRun(project: string, name: string) {
  const r = await api(env.server.url, "POST", "/api/v1/runs", { project, name });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

async function log(id: string, rows: { step: number; metrics: Record<string, number | string> }[]) {
  expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows })).status).toBe(200);
}

const series = (n: number, f: (s: number) => Record<string, number | string>) => Array.from({ length: n }, (_, s) => ({ step: s, metrics: f(s) }));

describe("runs list", () => {
  test("shows runs live with last values, filters, sorts, and opens a comparison", async () => {
    const { page, errors } = await env.browser.open(env.server.url);
    await expect.poll(() => page.locator(".empty").innerText()).toContain("No runs yet");
    // the hint names the address this server really answers on
    await expect.poll(() => page.locator(".empty pre").innerText()).toContain(`curl -X POST ${env.server.url}/api/v1/runs `);

    // a run created while the page is open appears without a reload
    const alpha = await newRun("proj-a", "alpha");
    const row = (id: string) => page.locator(`tr[data-run="${id}"]`);
    await expect.poll(() => row(alpha).count(), { timeout: 10_000 }).toBe(1);
    expect(await row(alpha).locator("[data-status]").getAttribute("data-status")).toBe("running");
    expect(await row(alpha).locator(".badge.status").innerText()).toBe("live");

    // its last values follow the logged points; NaN is shown as NaN
    await log(alpha, [{ step: 0, metrics: { "train/loss": 1.5, "val/loss": "NaN" } }]);
    await expect.poll(() => row(alpha).locator('[data-key="train/loss"] .v').count(), { timeout: 10_000 }).toBe(1);
    expect(await row(alpha).locator('[data-key="train/loss"] .v').innerText()).toBe("1.5");
    expect(await row(alpha).locator('[data-key="val/loss"] .v').innerText()).toBe("NaN");
    expect(await row(alpha).locator('[data-key="val/loss"]').getAttribute("class")).toContain("bad");
    await log(alpha, [{ step: 1, metrics: { "train/loss": 0.75 } }]);
    await expect.poll(() => row(alpha).locator('[data-key="train/loss"] .v').innerText(), { timeout: 10_000 }).toBe("0.75");

    const beta = await newRun("proj-b", "beta");
    const gamma = await newRun("proj-a", "gamma");
    await expect.poll(() => page.locator("tbody tr").count(), { timeout: 10_000 }).toBe(3);
    const order = () => page.locator("tbody tr td.name").allInnerTexts();
    expect(await order()).toEqual(["gamma", "beta", "alpha"]); // newest first

    await page.selectOption('select[aria-label="sort"]', "oldest");
    expect(await order()).toEqual(["alpha", "beta", "gamma"]);
    await page.selectOption('select[aria-label="sort"]', "name");
    expect(await order()).toEqual(["alpha", "beta", "gamma"]);
    await page.selectOption('select[aria-label="sort"]', "newest");

    await page.selectOption('select[aria-label="project"]', "proj-a");
    expect(await order()).toEqual(["gamma", "alpha"]);
    await expect.poll(() => new URL(page.url()).searchParams.get("project")).toBe("proj-a");

    // finished runs say so, live
    await api(env.server.url, "POST", `/api/v1/runs/${gamma}/finish`, {});
    await expect.poll(() => row(gamma).locator("[data-status]").getAttribute("data-status"), { timeout: 10_000 }).toBe("finished");

    // the filter survives a reload (rendered on the server, hydrated without complaints)
    await page.reload();
    await expect.poll(() => order()).toEqual(["gamma", "alpha"]);
    expect(await page.locator('select[aria-label="project"]').inputValue()).toBe("proj-a");

    // pick two runs and compare them
    expect(await page.locator('[data-testid="compare"]').getAttribute("aria-disabled")).toBe("true");
    await log(
      gamma,
      series(3, (s) => ({ "train/loss": 1 / (s + 1) })),
    );
    await row(alpha).locator('input[type="checkbox"]').check();
    await row(gamma).locator('input[type="checkbox"]').check();
    await page.locator('[data-testid="compare"]').click();
    await page.waitForURL(/\/compare\?runs=/);
    expect(new URL(page.url()).searchParams.get("runs")!.split(",").sort()).toEqual([alpha, gamma].sort());
    await expect.poll(() => page.locator('[data-chart="compare"]').getAttribute("data-points"), { timeout: 10_000 }).toBe("5"); // 2 + 3
    expect(beta).toBeTruthy();
    await page.screenshot({ path: "/tmp/babysit-compare.png" });
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("compare view", () => {
  test("overlays one key of several runs, picks another key, grows live", async () => {
    const a = await newRun("cmp", "run-a");
    const b = await newRun("cmp", "run-b");
    await log(
      a,
      series(30, (s) => ({ "train/loss": 2 / (s + 1), ...(s % 10 === 0 ? { "val/loss": 3 / (s + 1) } : {}) })),
    );
    await log(
      b,
      series(40, (s) => ({ "train/loss": 1 / (s + 1), acc: s / 40 })),
    );
    const { page, errors } = await env.browser.open(`${env.server.url}/compare?runs=${a},${b}`);
    const chart = page.locator('[data-chart="compare"]');
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 15_000 }).toBe("70");
    expect(await page.locator('select[aria-label="metric"]').inputValue()).toBe("train/loss");
    expect(await chart.locator(".legend").innerText()).toMatch(/run-a[\s\S]*run-b/);
    const keys = await page.locator('select[aria-label="metric"] option').allInnerTexts();
    expect(keys).toEqual(["acc", "train/loss", "val/loss"]);

    await page.selectOption('select[aria-label="metric"]', "val/loss");
    await expect.poll(() => chart.getAttribute("data-points")).toBe("3");
    expect(await page.locator(".key-picker").innerText()).toContain("not logged by run-b");
    await expect.poll(() => new URL(page.url()).searchParams.get("key")).toBe("val/loss");

    await log(a, [
      { step: 30, metrics: { "val/loss": 0.05 } },
      { step: 40, metrics: { "val/loss": "Infinity" } },
    ]);
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 10_000 }).toBe("5");
    await expect.poll(() => chart.locator(".nonfinite-note").innerText()).toBe("1 +Inf");

    // run-b starts logging val/loss: it joins the chart
    await log(b, [{ step: 40, metrics: { "val/loss": 0.5 } }]);
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 10_000 }).toBe("6");
    expect(errors).toEqual([]);
    await page.close();
  });
});
