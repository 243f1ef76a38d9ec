import { describe, expect, test } from "vitest";
import { groupMetrics } from "@/lib/ui/group-metrics";
import { ODD_KEYS, PROTO_NAMES } from "../helpers/odd-keys";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// Metric keys are data: a run that logs a key for every Object.prototype member name and astral
// and CJK keys shows each of them as a chart that grows live, on the run page, on its shared page,
// in the compare view, and the runs list opens (a key named `constructor` used to answer 500).

const env = serverAndBrowser();
let seq = 0;

const KEYS = [...PROTO_NAMES, ...ODD_KEYS, "act/layer1/constructor", "update_ratio/__proto__"];
const value = (k: string, s: number) => (KEYS.indexOf(k) + 1) / (1 + s);

async function log(id: string, from: number, to: number) {
  const rows = Array.from({ length: to - from }, (_, i) => ({
    step: from + i,
    metrics: Object.fromEntries(KEYS.map((k) => [k, value(k, from + i)])),
  }));
  const r = await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows });
  expect(r.status).toBe(200);
}

/** Every chart the page should draw, and how many points each shows once `steps` are logged. */
const expected = (steps: number) => groupMetrics(KEYS).map((g) => ({ id: g.id, title: g.title, points: steps * g.lines.length }));

async function allCharts(page: import("playwright-core").Page, steps: number) {
  // charts far from the viewport are not mounted (a box holds their place, data-holds) and load
  // when they come near it: each is scrolled to and read there
  for (const w of expected(steps)) {
    await expect
      .poll(
        () =>
          page.evaluate((id) => {
            const esc = CSS.escape(id);
            const chart = document.querySelector(`[data-chart="${esc}"]`);
            (chart ?? document.querySelector(`[data-holds~="${esc}"]`))?.scrollIntoView({ block: "center" });
            return chart ? { points: chart.getAttribute("data-points"), title: chart.querySelector("h3")?.textContent ?? null } : null;
          }, w.id),
        { timeout: 20_000 },
      )
      // each chart is titled by its key, as logged, and shows every point
      .toEqual({ points: String(w.points), title: w.title });
  }
}

describe("keys named like object members, astral and CJK keys", () => {
  test("render and grow live on the run page, its shared page and the compare view", async () => {
    const create = (name: string) => api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-odd-keys", name }).then((r) => r.body.id as string);
    const id = await create("odd-keys");
    const other = await create("odd-keys-2");
    await log(id, 0, 3);
    await log(other, 0, 2);
    expect(KEYS).toContain("constructor");
    expect(KEYS).toContain("__proto__");

    const runPage = await env.browser.open(`${env.server.url}/runs/${id}`);
    await allCharts(runPage.page, 3);

    const token = (await api(env.server.url, "POST", `/api/v1/runs/${id}/shares`)).body.token as string;
    const shared = await env.browser.open(`${env.server.url}/share/${token}`);
    await allCharts(shared.page, 3);

    // live: the points payload carries every key, `__proto__` included
    await log(id, 3, 5);
    await allCharts(runPage.page, 5);
    await allCharts(shared.page, 5);

    for (const key of ["constructor", "__proto__", "toString", "🚀", "訓練/損失"]) {
      const compare = await env.browser.open(`${env.server.url}/compare?runs=${id},${other}&key=${encodeURIComponent(key)}`);
      const chart = compare.page.locator('[data-chart="compare"]');
      await expect.poll(() => chart.getAttribute("data-points"), { timeout: 15_000 }).toBe("7"); // 5 + 2
      expect(await chart.locator("h3").innerText()).toBe(key);
      expect(compare.errors).toEqual([]);
      await compare.page.close();
    }

    const list = await env.browser.open(`${env.server.url}/`);
    await expect.poll(() => list.page.locator(`tr[data-run="${id}"]`).count(), { timeout: 10_000 }).toBe(1);
    expect(list.errors).toEqual([]);

    expect(runPage.errors).toEqual([]);
    expect(shared.errors).toEqual([]);
    await Promise.all([runPage.page.close(), shared.page.close(), list.page.close()]);
  });
});
