import { describe, expect, test } from "vitest";
import { api, startServer } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The run page in a real browser against a real server: charts per metric group, growing live
// over socket.io, NaN markers, drag-to-zoom with a full-resolution fetch, histograms, no errors.

const env = serverAndBrowser();
let seq = 0;

async function newRun(name: string) {
  const r = await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-run", name, config: { lr: 0.01, layers: [64, 32] } });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

async function log(id: string, body: Record<string, unknown>) {
  const r = await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, ...body });
  expect(r.status).toBe(200);
}

const rows = (from: number, to: number, metrics: (s: number) => Record<string, number | string>) =>
  Array.from({ length: to - from }, (_, i) => ({ step: from + i, epoch: (from + i) / 10, metrics: metrics(from + i) }));

const lossAt = (s: number) => ({ "train/loss": 2 / (1 + s / 10), ...(s % 10 === 0 ? { "val/loss": 2.2 / (1 + s / 10) } : {}) });

describe("run page", () => {
  test("charts train/val together, grow live, mark a NaN, add charts for new keys, follow the status", async () => {
    const id = await newRun("live-run");
    await log(id, { rows: rows(0, 50, lossAt) });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const loss = page.locator('[data-chart="m-loss"]');
    expect(await page.locator("h1").innerText()).toBe("live-run");
    await expect.poll(() => loss.getAttribute("data-points"), { timeout: 15_000 }).toBe("55"); // 50 train + 5 val
    await expect.poll(() => page.locator(".legend").first().innerText()).toMatch(/train\/loss[\s\S]*val\/loss/);
    expect(await page.locator("[data-chart]").count()).toBe(1); // epoch is the x axis, not a chart

    // 20 more points, one of them NaN: the chart grows without a reload and shows the NaN
    await log(id, { rows: rows(50, 70, (s) => ({ ...lossAt(s), ...(s === 63 ? { "train/loss": "NaN" } : {}) })) });
    await expect.poll(() => loss.getAttribute("data-points"), { timeout: 10_000 }).toBe("77"); // 70 train + 7 val
    await expect.poll(() => loss.getAttribute("data-markers")).toBe("1");
    await expect.poll(() => loss.locator(".nonfinite-note").innerText()).toBe("1 NaN");
    expect(await loss.locator(".nonfinite-note").isVisible()).toBe(true);

    // a key first logged mid-run gets its own chart, live
    await log(id, { rows: [{ step: 70, metrics: { lr: 0.01, "update_ratio/fc1": 2e-3, "update_ratio/fc2": 5e-4 } }] });
    await expect.poll(() => page.locator('[data-chart="m-lr"]').getAttribute("data-points"), { timeout: 10_000 }).toBe("1");
    const ratios = page.locator('[data-chart="update-ratios-update-ratio"]');
    await expect.poll(() => ratios.getAttribute("data-points")).toBe("2");
    expect(await page.locator('section[aria-label="Update ratios"] h2').innerText()).toMatch(/update ratios/i);

    // finishing the run updates the badge
    expect(await page.locator(".run-title [data-status]").getAttribute("data-status")).toBe("running");
    await api(env.server.url, "POST", `/api/v1/runs/${id}/finish`, { status: "crashed" });
    await expect.poll(() => page.locator(".run-title [data-status]").getAttribute("data-status"), { timeout: 10_000 }).toBe("crashed");

    await page.screenshot({ path: "/tmp/babysit-run-page.png", fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  test("dragging across a chart fetches that step range at full resolution; double-click resets", async () => {
    const id = await newRun("zoom-run");
    await log(id, { rows: Array.from({ length: 3000 }, (_, s) => ({ step: s, metrics: { loss: Math.sin(s / 50) + (s === 1234 ? 10 : 0) } })) });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="m-loss"]');
    await expect.poll(() => chart.getAttribute("data-state"), { timeout: 15_000 }).toBe("ready");
    expect(await chart.getAttribute("data-exact")).toBe("false"); // 3000 points > one bucket per pixel
    const coarse = Number(await chart.getAttribute("data-points"));
    expect(coarse).toBeGreaterThan(100);
    expect(coarse).toBeLessThanOrEqual(1000);

    const box = (await chart.locator("canvas").boundingBox())!;
    const y = box.y + box.height / 2;
    const zoomed = page.waitForRequest((r) => /\/series\?.*from=\d+.*to=\d+/.test(r.url()));
    await page.mouse.move(box.x + box.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, y, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 });
    await page.mouse.up();
    const url = new URL((await zoomed).url());
    const from = Number(url.searchParams.get("from"));
    const to = Number(url.searchParams.get("to"));
    expect(from).toBeGreaterThan(900);
    expect(to).toBeLessThan(1700);
    expect(to - from).toBeGreaterThan(100);

    // finer data: the zoomed range is drawn point by point, nothing outside it
    await expect.poll(() => chart.getAttribute("data-exact"), { timeout: 10_000 }).toBe("true");
    expect(await chart.getAttribute("data-zoomed")).toBe(`${from}-${to}`);
    expect(Number(await chart.getAttribute("data-first-step"))).toBeGreaterThanOrEqual(from);
    expect(Number(await chart.getAttribute("data-last-step"))).toBeLessThanOrEqual(to);
    expect(Number(await chart.getAttribute("data-points"))).toBe(to - from + 1);
    await expect.poll(() => chart.locator(".chart-foot").innerText()).toContain(`steps ${from}–${to}`);

    // live points do not disturb a zoomed chart; double-click restores the whole series
    await log(id, { rows: [{ step: 3000, metrics: { loss: 0.5 } }] });
    await chart.locator("canvas").dblclick({ position: { x: box.width / 2, y: box.height / 2 } });
    await expect.poll(() => chart.getAttribute("data-zoomed")).toBe("");
    await expect.poll(() => chart.getAttribute("data-exact")).toBe("false");
    expect(Number(await chart.getAttribute("data-last-step"))).toBe(3000);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("histograms: heat map with a step slider, refreshed live", async () => {
    const id = await newRun("hist-run");
    const hist = (step: number) => ({ step, key: "act/fc1", edges: [-1, -0.5, 0, 0.5, 1], counts: [1, 5 + step, 5, 1] });
    await log(id, { rows: rows(0, 5, lossAt), histograms: [0, 1, 2].map(hist) });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const panel = page.locator('[data-histogram="act/fc1"]');
    await expect.poll(() => panel.getAttribute("data-steps"), { timeout: 15_000 }).toBe("3");
    const slider = panel.locator('input[type="range"]');
    expect(await slider.getAttribute("max")).toBe("2");
    await expect.poll(() => panel.locator(".hist-slider span").innerText()).toBe("step 2");
    await slider.fill("0");
    await expect.poll(() => panel.locator(".hist-slider span").innerText()).toBe("step 0");

    await log(id, { rows: [], histograms: [hist(3)] });
    await expect.poll(() => panel.getAttribute("data-steps"), { timeout: 10_000 }).toBe("4");
    expect(errors).toEqual([]);
    await page.close();
  });

  test("x axis by step, epoch (interpolated) or wall time", async () => {
    const id = await newRun("x-axis-run");
    const created = (await api(env.server.url, "GET", `/api/v1/runs/${id}`)).body.run.createdAt as number;
    // epoch logged every 5th step only: the steps between are interpolated
    await log(id, {
      rows: Array.from({ length: 20 }, (_, s) => ({
        step: s,
        time: created + 100 + 2 * s,
        ...(s % 5 === 0 ? { epoch: s / 10 } : {}),
        metrics: { loss: 1 / (s + 1) },
      })),
    });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="m-loss"]');
    await expect.poll(() => chart.getAttribute("data-x-range"), { timeout: 15_000 }).toBe("0..19");
    await page.selectOption('select[aria-label="x axis"]', "epoch");
    await expect.poll(() => chart.getAttribute("data-x-range"), { timeout: 10_000 }).toBe("0..1.9");
    await page.selectOption('select[aria-label="x axis"]', "relative");
    // relative time counts from the run's own first point (logged 100 s after the run was made),
    // not from the server's createdAt: a client clock that is off does not shift the axis
    await expect.poll(() => chart.getAttribute("data-x-range")).toBe("0..38");
    await page.selectOption('select[aria-label="x axis"]', "absolute");
    await expect
      .poll(async () => (await chart.getAttribute("data-x-range"))!.split("..").map(Number))
      .toEqual([expect.closeTo((created + 100) * 1000, 0), expect.closeTo((created + 138) * 1000, 0)]);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("images: the latest image per key, refreshed live", async () => {
    const id = await newRun("image-run");
    // a 1x1 PNG
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    const image = (step: number) => ({ type: "image", step, data: { key: "samples", width: 1, height: 1, png_base64: png } });
    await log(id, { rows: rows(0, 3, lossAt), events: [image(1), image(2)] });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const card = page.locator('[data-image="samples"]');
    await expect.poll(() => card.locator("img").getAttribute("src"), { timeout: 15_000 }).toBe(`data:image/png;base64,${png}`);
    expect(await card.locator(".chart-head .small").innerText()).toBe("step 2");
    await log(id, { rows: [], events: [image(7)] });
    await expect.poll(() => card.locator(".chart-head .small").innerText(), { timeout: 10_000 }).toBe("step 7");
    expect((await api(env.server.url, "GET", `/api/v1/runs/${id}/images?key=nope`)).status).toBe(404);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("many live points are re-bucketed (a refetch), so the chart stays downsampled", async () => {
    const id = await newRun("busy-run");
    await log(id, { rows: rows(0, 10, (s) => ({ loss: s })) });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="m-loss"]');
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 15_000 }).toBe("10");
    const refetched = page.waitForRequest((r) => r.url().includes("/series?") && !r.url().includes("from="));
    await log(id, { rows: rows(10, 4000, (s) => ({ loss: s % 97 })) });
    await refetched;
    await expect.poll(() => chart.getAttribute("data-exact"), { timeout: 10_000 }).toBe("false");
    expect(Number(await chart.getAttribute("data-points"))).toBeLessThanOrEqual(1000);
    expect(await chart.getAttribute("data-last-step")).toBe("3999");
    expect(errors).toEqual([]);
    await page.close();
  });

  test("after a server restart the page reconnects, catches up and keeps updating", async () => {
    const id = await newRun("restart-run");
    await log(id, { rows: rows(0, 10, (s) => ({ loss: s })) });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="m-loss"]');
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 15_000 }).toBe("10");
    const { port, dbPath } = env.server;
    await env.server.stop();
    env.server = await startServer({ port, dbPath }); // afterAll stops this one
    // logged while the page was cut off: fetched again on reconnect
    await log(id, { rows: rows(10, 15, (s) => ({ loss: s })) });
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 30_000 }).toBe("15");
    errors.length = 0; // the outage itself shows as refused connections
    await log(id, { rows: rows(15, 20, (s) => ({ loss: s })) });
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 10_000 }).toBe("20");
    expect(errors).toEqual([]);
    await page.close();
  });

  test("an unknown run is a 404 page, not a crash", async () => {
    const res = await fetch(`${env.server.url}/runs/no-such-run`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("Not found");
  });
});
