import { describe, expect, test } from "vitest";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The pages draw exactly what was logged: a log axis over update ratios that reach 0, a run of
// NaN losses, values whose range overflows a double.

const env = serverAndBrowser();
let seq = 0;

async function newRun(name: string, rows: { step: number; metrics: Record<string, number | string> }[]) {
  const r = await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-honest", name });
  expect(r.status).toBe(201);
  const id = r.body.id as string;
  expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows })).status).toBe(200);
  return id;
}

async function open(id: string, chartId: string) {
  const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
  const chart = page.locator(`[data-chart="${chartId}"]`);
  await expect.poll(() => chart.getAttribute("data-state"), { timeout: 20_000 }).toBe("ready");
  await expect.poll(() => chart.getAttribute("data-y-axis"), { timeout: 10_000 }).not.toBe("");
  return { page, errors, chart };
}

const axis = (s: string | null) => (s ?? "").split("..").map(Number);

describe("charts draw what was logged", () => {
  test("update ratios that fall to 0: the log axis spans every positive value, the zeros are marked and counted", async () => {
    const v = (s: number) => 10 * 10 ** (-s / 25);
    const rows = Array.from({ length: 300 }, (_, s) => ({
      step: s,
      metrics: { "update_ratio/nozero": v(s), "update_ratio/withzero": s < 250 ? v(s) : 0 },
    }));
    const id = await newRun("log-axis", rows);
    const { page, errors, chart } = await open(id, "update-ratios-update-ratio");
    await expect.poll(() => chart.getAttribute("data-nonpositive-markers")).toBe("50");
    const [lo, hi] = axis(await chart.getAttribute("data-y-axis"));
    expect(lo).toBeCloseTo(v(299), 20);
    expect(lo).toBeLessThan(1e-10);
    expect(hi).toBe(10);
    // labelled in one plain format: 1e-10, not 1.000000e-10
    const ticks = (await chart.getAttribute("data-y-ticks"))!.split("|");
    expect(ticks).toContain("1e-10");
    expect(ticks.filter((t) => /\.0+e/.test(t))).toEqual([]);
    expect(await chart.locator(".nonfinite-note").innerText()).toBe("50 values \u2264 0 not drawable on a log axis");
    expect(await chart.locator('.nf[data-kind="nonPositive"]').getAttribute("data-shape")).toBe("rect");
    await chart.screenshot({ path: "/tmp/babysit-log-zeros.png" });
    // on a linear axis the zeros are values like any other
    await chart.getByRole("button", { name: /log/i }).click();
    await expect.poll(() => chart.getAttribute("data-nonpositive-markers")).toBe("0");
    expect(axis(await chart.getAttribute("data-y-axis"))[0]).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("200 NaN losses after finite ones: NaN markers and a NaN span, nothing in the line's colour over them", async () => {
    const rows = Array.from({ length: 300 }, (_, s) => ({ step: s, metrics: { loss: s < 100 ? 2 + Math.sin(s) / 2 : "NaN" } }));
    const id = await newRun("nan-run", rows);
    const { page, errors, chart } = await open(id, "m-loss");
    await expect.poll(() => chart.getAttribute("data-nan-markers")).not.toBe("0");
    expect(await chart.locator(".nonfinite-note").innerText()).toBe("200 NaN");
    // the canvas right of the last finite value (steps 100..299 are NaN) has no pixel of the line's colour #4e79a7
    const { lineColoured, red } = await chart.locator("canvas").evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let lineColoured = 0;
      let red = 0;
      for (let y = 0; y < c.height; y++)
        for (let x = Math.floor(c.width * 0.5); x < c.width; x++) {
          const i = (y * c.width + x) * 4;
          const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
          if (d[i + 3] > 200 && Math.abs(r - 0x4e) + Math.abs(g - 0x79) + Math.abs(b - 0xa7) < 60) lineColoured++;
          if (d[i + 3] > 200 && r > 180 && g < 90 && b < 90) red++;
        }
      return { lineColoured, red };
    });
    expect(lineColoured).toBe(0);
    expect(red).toBeGreaterThan(100);
    await chart.screenshot({ path: "/tmp/babysit-nan-run.png" });
    expect(errors).toEqual([]);
    await page.close();
  });

  test("values whose range overflows a double: every point drawn, the y axis labelled over the whole range", async () => {
    const values = [1e308, -1e308, 0, 5e307];
    const id = await newRun(
      "huge",
      values.map((v, s) => ({ step: s, metrics: { huge: v } })),
    );
    const { page, errors, chart } = await open(id, "m-huge");
    expect(await chart.getAttribute("data-points")).toBe("4");
    expect(await chart.getAttribute("data-dots")).toBe("4");
    expect(await chart.getAttribute("data-y-div")).toBe("10");
    const [lo, hi] = axis(await chart.getAttribute("data-y-axis"));
    expect(lo).toBeLessThanOrEqual(-0.999e308);
    expect(hi).toBeGreaterThanOrEqual(0.999e308);
    const ticks = (await chart.getAttribute("data-y-ticks"))!.split("|");
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks).toContain("0");
    expect(ticks.every((t) => Number.isFinite(Number(t)))).toBe(true);
    await chart.screenshot({ path: "/tmp/babysit-huge.png" });
    expect(errors).toEqual([]);
    await page.close();
  });
});
