import { describe, expect, test } from "vitest";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The x axis covers every point whatever order x comes in, and relative time starts at the run's
// own first point: a client whose clock is an hour behind the server and steps back mid-run.

const env = serverAndBrowser();

const range = (s: string | null) => (s ? s.split("..").map(Number) : []);

describe("x axis", () => {
  test("relative time from the run's first point; the axis spans a clock that steps back", async () => {
    const id = (await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-x", name: "clock" })).body.id as string;
    const t0 = Math.floor(Date.now() / 1000) - 3600; // the client's clock: an hour behind
    // steps 0-59 a second apart; at step 60 the clock steps back 30 minutes
    const rows = Array.from({ length: 120 }, (_, s) => ({
      step: s,
      time: t0 + s - (s >= 60 ? 1800 : 0),
      epoch: s < 60 ? s / 60 : (s - 60) / 60,
      metrics: { loss: 1 / (1 + s) },
    }));
    expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows })).status).toBe(200);

    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="m-loss"]');
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 15_000 }).toBe("120");

    await page.getByLabel("x axis").selectOption("relative");
    // x from -1800 + 60 (the step back) to 59; never from -1h (the server's clock)
    await expect.poll(() => chart.getAttribute("data-x-range"), { timeout: 10_000 }).toBe("-1740..59");
    const [lo, hi] = range(await chart.getAttribute("data-x-axis"));
    expect(lo).toBeLessThanOrEqual(-1740);
    expect(hi).toBeGreaterThanOrEqual(59);

    // epoch goes back at step 60: the axis still spans 0..~1
    await page.getByLabel("x axis").selectOption("epoch");
    await expect.poll(() => chart.getAttribute("data-x-range"), { timeout: 10_000 }).toMatch(/^0\.\.0\.98/);
    const [elo, ehi] = range(await chart.getAttribute("data-x-axis"));
    expect(elo).toBeLessThanOrEqual(0);
    expect(ehi).toBeGreaterThanOrEqual(0.98);

    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("isolated points", () => {
  test("a finite value between NaNs or infinities is drawn, however long the series", async () => {
    const id = (await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-x", name: "gappy" })).body.id as string;
    // 200 steps: NaN on 4 steps of 5; +Inf around every finite value of the second key
    const rows = Array.from({ length: 200 }, (_, s) => ({
      step: s,
      metrics: { gappy: s % 5 === 0 ? 1 / (1 + s) : "NaN", boxed: s % 3 === 1 ? s : "Infinity" },
    }));
    expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows })).status).toBe(200);
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const gappy = page.locator('[data-chart="m-gappy"]');
    const boxed = page.locator('[data-chart="m-boxed"]');
    await expect.poll(() => gappy.getAttribute("data-points"), { timeout: 15_000 }).toBe("200");
    expect(await gappy.getAttribute("data-dots")).toBe("40"); // every finite value, as a dot
    expect(await gappy.getAttribute("data-markers")).toBe("160");
    await expect.poll(() => boxed.getAttribute("data-points")).toBe("200");
    expect(await boxed.getAttribute("data-dots")).toBe("67");
    await gappy.screenshot({ path: "/tmp/babysit-isolated-points.png" });
    expect(errors).toEqual([]);
    await page.close();
  });
});
