import { describe, expect, test } from "vitest";
import { LIMITS } from "../../lib/contract/limits";
import { api } from "../helpers/server";
import { pngBase64 } from "../helpers/png";
import { serverAndBrowser } from "./browser";

// What a new user met on the pages: heat maps striped by sparse logging, NaN and +Inf drawn alike,
// long names widening the page, two top bars on a missing run, a filter box that skipped histograms
// and images, keys sorted as text, and a runs list with no status filter.

const env = serverAndBrowser();
let seq = 0;

async function newRun(name: string, project = "e2e-pages") {
  const r = await api(env.server.url, "POST", "/api/v1/runs", { project, name });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

async function log(id: string, body: Record<string, unknown>) {
  const r = await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, ...body });
  expect(r.status).toBe(200);
}

describe("pages draw what was logged", () => {
  test("a family logged every 10th step: the heat map has a column per logged step, no empty cells, every row labelled", async () => {
    const id = await newRun("every-10");
    const layers = Array.from({ length: 12 }, (_, l) => `layers.${l}`);
    const rows = Array.from({ length: 40 }, (_, i) => ({
      step: i * 10,
      metrics: Object.fromEntries(layers.map((l, j) => [`update_ratio/${l}`, 1e-3 * (1 + j / 10) * (1 + i / 40)])),
    }));
    await log(id, { rows });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="update-ratios-update-ratio"]');
    await expect.poll(() => chart.getAttribute("data-state"), { timeout: 20_000 }).toBe("ready");
    await chart.getByRole("button", { name: "heat map" }).click();
    const heat = chart.locator(".layer-heat");
    await expect.poll(() => heat.getAttribute("data-rows")).toBe("12");
    expect(await heat.getAttribute("data-cols")).toBe("40");
    expect(await heat.getAttribute("data-empty-cells")).toBe("0");
    // the canvas has no transparent (empty) pixel column between logged steps
    const transparent = await heat.locator("canvas").evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] === 0) n++;
      return n;
    });
    expect(transparent).toBe(0);
    // each row's label is on screen, beside its row, without hovering
    const labels = heat.locator(".layer-heat-rows li");
    expect(await labels.allInnerTexts()).toEqual(layers);
    const canvasBox = (await heat.locator("canvas").boundingBox())!;
    for (let r = 0; r < layers.length; r++) {
      const box = (await labels.nth(r).boundingBox())!;
      expect(box.height).toBeGreaterThanOrEqual(10);
      expect(box.x + box.width).toBeLessThanOrEqual(canvasBox.x + 1);
      const mid = box.y + box.height / 2;
      expect(Math.floor(((mid - canvasBox.y) * layers.length) / canvasBox.height)).toBe(r);
    }
    // hovering a column names the one logged step it holds
    await page.mouse.move(canvasBox.x + (canvasBox.width * 3.5) / 40, canvasBox.y + 2);
    await expect.poll(() => heat.locator(".heat-tip").innerText()).toMatch(/^layers\.0 · step 30 · /);
    // the legend names no cell kind the map does not hold
    expect(await heat.locator(".heat-kind").count()).toBe(0);
    // and the layer legend shows no line colours (a layer is a row here, not a coloured line)
    expect(await chart.locator(".legend li").count()).toBe(12);
    expect(await chart.locator(".legend i").first().isVisible()).toBe(false);
    await chart.screenshot({ path: "/tmp/babysit-heat-every-10.png" });
    expect(errors).toEqual([]);
    await page.close();
  });

  test("NaN, +Inf and -Inf are told apart: their own markers, counts and legend entries", async () => {
    const id = await newRun("nonfinite");
    const v = (s: number) => (s === 5 ? "NaN" : s === 10 ? "Infinity" : s === 15 ? "-Infinity" : s === 20 ? "NaN" : 1 / (1 + s));
    await log(id, { rows: Array.from({ length: 30 }, (_, s) => ({ step: s, metrics: { loss: v(s) } })) });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="m-loss"]');
    await expect.poll(() => chart.getAttribute("data-state"), { timeout: 15_000 }).toBe("ready");
    await expect.poll(() => chart.getAttribute("data-markers")).toBe("4");
    expect([
      await chart.getAttribute("data-nan-markers"),
      await chart.getAttribute("data-posinf-markers"),
      await chart.getAttribute("data-neginf-markers"),
    ]).toEqual(["2", "1", "1"]);
    const note = chart.locator(".nonfinite-note");
    expect(await note.innerText()).toBe("2 NaN · 1 +Inf · 1 -Inf");
    // each legend entry shows its own marker: shapes and colours differ pairwise, as drawn
    const entries = await note.locator(".nf").evaluateAll((els) =>
      els.map((el) => {
        const mark = el.querySelector(".nf-mark")!;
        const cs = getComputedStyle(mark);
        return {
          kind: el.getAttribute("data-kind"),
          look: `${cs.clipPath}|${cs.transform}`,
          color: cs.backgroundColor,
          y: el.getAttribute("data-y"),
        };
      }),
    );
    expect(entries.map((e) => e.kind)).toEqual(["nan", "posInf", "negInf"]);
    for (const k of ["look", "color", "y"] as const) expect(new Set(entries.map((e) => e[k])).size).toBe(3);
    await chart.screenshot({ path: "/tmp/babysit-nonfinite-markers.png" });
    expect(errors).toEqual([]);
    await page.close();
  });

  test.each([
    ["letters", "a".repeat(200)],
    ["mixed", `${"Wq".repeat(60)}_${"x".repeat(79)}`],
    ["astral", "🚀".repeat(200)],
  ])("a 200 code point run name (%s) wraps: run, shared, compare and runs pages stay within the window", async (_n, name) => {
    const project = `${_n[0]}${"p".repeat(LIMITS.projectMaxLength.value - 1)}`;
    const id = await newRun(name, project);
    const key = `m/${"k".repeat(LIMITS.keyMaxLength.value - 10)}`;
    await log(id, {
      rows: Array.from({ length: 5 }, (_, s) => ({ step: s, metrics: { [key]: s, [`val/${key.slice(2)}`]: s, [`train/${key.slice(2)}`]: s } })),
    });
    const share = await api(env.server.url, "POST", `/api/v1/runs/${id}/shares`, {});
    expect(share.status).toBe(201);
    const twin = await newRun(`${[...name].slice(1).join("")}2`, project);
    await log(twin, { rows: [{ step: 0, metrics: { [key]: 1 } }] });
    const pages = [`/runs/${id}`, share.body.url as string, `/compare?runs=${id},${twin}`, `/?project=${project}`];
    for (const url of pages.map((u) => `${env.server.url}${u}`)) {
      const { page, errors } = await env.browser.open(url);
      if (url.includes("/?project=")) await expect.poll(() => page.locator("table.runs td.name").count(), { timeout: 15_000 }).toBe(2);
      else await expect.poll(() => page.locator("[data-chart]").first().getAttribute("data-state"), { timeout: 15_000 }).toBe("ready");
      if (url.includes("/runs/") || url.includes("/share/")) expect(await page.locator("h1").innerText()).toBe(name);
      const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
      expect(scroll).toBeLessThanOrEqual(width);
      await page.screenshot({ path: `/tmp/babysit-long-name-${_n}-${pages.findIndex((p) => url.endsWith(p))}.png` });
      for (const sel of ["h1", ".run-meta", ".chart-head h3", ".legend"]) {
        const boxes = await page.locator(sel).evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
        for (const right of boxes) expect(right).toBeLessThanOrEqual(width);
      }
      expect(errors).toEqual([]);
      await page.close();
    }
  });

  test.each([["/runs/doesnotexist"], ["/runs/%E2%9C%93"], ["/no/such/page"]])("%s: one top bar and a not-found message", async (path) => {
    const res = await fetch(`${env.server.url}${path}`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("Not found");
    // (a page's notFound() is drawn by the client from the RSC payload: count the bars in the browser)
    const { page } = await env.browser.open(`${env.server.url}${path}`);
    await expect.poll(() => page.locator("[data-not-found]").count()).toBe(1);
    expect(await page.locator(".topbar").count()).toBe(1);
    await page.close();
  });

  test("the filter box filters histograms and images too, says how many of each; keys in natural order", async () => {
    const id = await newRun("filtered");
    const hist = (key: string) => ({ step: 0, key, edges: [0, 1, 2], counts: [1, 2] });
    const image = (key: string) => ({ type: "image", step: 0, data: { key, width: 2, height: 2, png_base64: pngBase64(2, 2) } });
    await log(id, {
      rows: [{ step: 0, metrics: { loss: 1, "act/fc1/mean": 0.1, "act/fc2/mean": 0.2 } }],
      histograms: ["act/10", "act/2", "act/0", "act/1", "weights/fc1"].map(hist),
      events: ["samples/10", "samples/9", "digits"].map(image),
    });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const hists = page.locator("section[aria-label=Histograms] [data-histogram], section[aria-label=Histograms] .hist-card");
    await expect.poll(() => hists.count(), { timeout: 15_000 }).toBe(5);
    const histTitles = () => page.locator("section[aria-label=Histograms] h3").allInnerTexts();
    expect(await histTitles()).toEqual(["act/0", "act/1", "act/2", "act/10", "weights/fc1"]);
    expect(await page.locator("[data-image]").evaluateAll((els) => els.map((e) => e.getAttribute("data-image")))).toEqual([
      "digits",
      "samples/9",
      "samples/10",
    ]);

    const box = page.getByRole("searchbox", { name: "filter charts by key" });
    await box.fill("fc1");
    await expect.poll(() => page.locator("[data-filter-summary]").innerText()).toBe("1 chart of 2 · 1 histogram of 5 · 0 images of 3");
    expect(await histTitles()).toEqual(["weights/fc1"]);
    expect(await page.locator("[data-image]").count()).toBe(0);
    await box.fill("act/1");
    await expect.poll(() => page.locator("[data-filter-summary]").innerText()).toBe("0 charts of 2 · 2 histograms of 5 · 0 images of 3");
    expect(await histTitles()).toEqual(["act/1", "act/10"]);
    await box.fill("samples");
    await expect.poll(() => page.locator("[data-image]").count()).toBe(2);
    expect(await page.locator("section[aria-label=Histograms]").count()).toBe(0);
    await box.fill("zzz");
    await expect.poll(() => page.locator("[data-filter-empty]").count()).toBe(1);
    await box.fill("");
    await expect.poll(() => hists.count()).toBe(5);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("an all-zero dead fraction reads 0 and up, never a negative axis; a histogram of one step says 1 step", async () => {
    const id = await newRun("flat");
    await log(id, {
      rows: Array.from({ length: 10 }, (_, s) => ({ step: s, metrics: { "act/fc1/dead_frac": 0, "act/fc2/dead_frac": 0 } })),
      histograms: [{ step: 0, key: "act/fc1", edges: [0, 1], counts: [3] }],
    });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator("[data-chart]").first();
    await expect.poll(() => chart.getAttribute("data-state"), { timeout: 15_000 }).toBe("ready");
    await expect.poll(() => chart.getAttribute("data-y-axis")).toBe("0..1");
    // whole steps on a step axis, one format on the y axis
    const xTicks = (await chart.getAttribute("data-x-ticks"))!.split("|");
    expect(xTicks.length).toBeGreaterThan(1);
    for (const t of xTicks) expect(t).toMatch(/^\d+$/);
    const yTicks = (await chart.getAttribute("data-y-ticks"))!.split("|");
    expect(yTicks[0]).toBe("0");
    expect(new Set(yTicks.slice(1).map((t) => t.replace(/\d/g, "9"))).size).toBe(1);
    await expect.poll(() => page.locator("section[aria-label=Histograms] .chart-head .small").innerText(), { timeout: 10_000 }).toBe("1 step");
    expect(errors).toEqual([]);
    await page.close();
  });

  test("the runs list filters by status, in the URL like project and sort", async () => {
    const project = "e2e-status";
    await newRun("st-live", project);
    const done = await newRun("st-done", project);
    const bad = await newRun("st-bad", project);
    await api(env.server.url, "POST", `/api/v1/runs/${done}/finish`, { status: "finished" });
    await api(env.server.url, "POST", `/api/v1/runs/${bad}/finish`, { status: "crashed" });
    const { page, errors } = await env.browser.open(`${env.server.url}/?project=${project}`);
    const names = () => page.locator("table.runs td.name a").allInnerTexts();
    await expect.poll(names).toEqual(["st-bad", "st-done", "st-live"]);
    await page.selectOption('select[aria-label="status"]', "crashed");
    await expect.poll(names).toEqual(["st-bad"]);
    await expect.poll(() => new URL(page.url()).searchParams.get("status")).toBe("crashed");
    await page.selectOption('select[aria-label="status"]', "running");
    await expect.poll(names).toEqual(["st-live"]);
    // a reload (or a shared link) keeps the filters
    await page.goto(`${env.server.url}/?project=${project}&status=finished&sort=name`);
    await expect.poll(names).toEqual(["st-done"]);
    expect(await page.locator('select[aria-label="status"]').inputValue()).toBe("finished");
    await page.selectOption('select[aria-label="status"]', "stale");
    await expect.poll(() => page.locator(".empty").innerText()).toMatch(/No stale runs/);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("axis labels", () => {
  test("ticks around 1e-3 read in one format, not 0.00106 beside 9.8e-4", async () => {
    const id = await newRun("ticks");
    await log(id, { rows: Array.from({ length: 20 }, (_, s) => ({ step: s, metrics: { ratio: 9.8e-4 + s * 4.4e-6 } })) });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="m-ratio"]');
    await expect.poll(() => chart.getAttribute("data-state"), { timeout: 15_000 }).toBe("ready");
    await expect.poll(() => chart.getAttribute("data-y-ticks")).not.toBe("");
    const ticks = (await chart.getAttribute("data-y-ticks"))!.split("|");
    expect(ticks.length).toBeGreaterThan(2);
    const exp = ticks.filter((t) => t.includes("e"));
    expect(exp.length === 0 || exp.length === ticks.length).toBe(true);
    expect(new Set(ticks.map((t) => t.replace(/\d/g, "9"))).size).toBe(1); // same shape: same decimals
    expect(errors).toEqual([]);
    await page.close();
  });

  test("smoothing: a validation line beside the train loss, and a resume that skipped steps, break the smoothed line at the gap only", async () => {
    const id = await newRun("smooth-gap");
    // train loss every step, val_loss every 50 steps; nothing logged between steps 150 and 400 (a resume)
    const steps = [...Array.from({ length: 150 }, (_, s) => s), ...Array.from({ length: 150 }, (_, s) => 400 + s)];
    const rows = steps.map((s) => ({ step: s, metrics: s % 50 === 0 ? { loss: 2 / (1 + s), val_loss: 2.1 / (1 + s) } : { loss: 2 / (1 + s) } }));
    await log(id, { rows });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="m-loss"]');
    await expect.poll(() => chart.getAttribute("data-state"), { timeout: 20_000 }).toBe("ready");
    await expect.poll(() => chart.getAttribute("data-last-step")).toBe("549");
    // the unit is the train loss's interval (1 step), so val_loss (every 50) is smoothed over the same steps
    expect(await chart.getAttribute("data-smooth-unit")).toBe("1");
    // the train loss breaks at the gap (250 steps with no point); val_loss's 300-step stride over the gap is
    // under 10 of its 50-step intervals: no break
    expect(await chart.getAttribute("data-smooth-breaks")).toBe("1");
    await chart.screenshot({ path: "/tmp/babysit-smooth-gap.png" });
    // smoothing off: nothing smoothed, nothing broken
    await page.getByLabel("EMA smoothing").fill("0");
    await expect.poll(() => chart.getAttribute("data-smooth-unit")).toBe("");
    expect(await chart.getAttribute("data-smooth-breaks")).toBe("0");
    expect(errors).toEqual([]);
    await page.close();
  });

  test("a heat-map cell holding NaN and +Inf shows and names both", async () => {
    const id = await newRun("heat-mixed");
    const layers = Array.from({ length: 8 }, (_, l) => `update_ratio/l${l}`);
    // 4,000 steps: a chart holds at most 1,000 buckets, so each holds 4 steps or more; layer 0
    // alternates NaN and +Inf over steps 1,900-2,099: every bucket there holds both
    const v = (l: number, s: number) => (l === 0 && s >= 1900 && s < 2100 ? (s % 2 ? "Infinity" : "NaN") : 1e-3 * (1 + l / 8));
    await log(id, { rows: Array.from({ length: 4000 }, (_, s) => ({ step: s, metrics: Object.fromEntries(layers.map((k, l) => [k, v(l, s)])) })) });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = page.locator('[data-chart="update-ratios-update-ratio"]');
    await expect.poll(() => chart.getAttribute("data-state"), { timeout: 20_000 }).toBe("ready");
    await chart.getByRole("button", { name: "heat map" }).click();
    const heat = chart.locator(".layer-heat");
    await expect.poll(() => heat.getAttribute("data-rows")).toBe("8");
    const count = async (what: string) => Number(await heat.getAttribute(`data-${what}-cells`));
    const [nan, posInf, nonFinite] = [await count("nan"), await count("posinf"), await count("nonfinite")];
    // inside the window every cell holds both (the two edge cells may hold one), counted under each
    // kind and once as non-finite
    expect(nan).toBeGreaterThan(10);
    expect(Math.abs(nan - posInf)).toBeLessThanOrEqual(2);
    expect(nonFinite).toBeLessThanOrEqual(Math.max(nan, posInf) + 2);
    expect(nan + posInf - nonFinite).toBeGreaterThan(10);
    expect(await heat.locator(".heat-kind").allInnerTexts()).toEqual(["NaN", "+Inf"].map((k) => expect.stringContaining(k)));
    await heat.locator("canvas").scrollIntoViewIfNeeded();
    const box = (await heat.locator("canvas").boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 16);
    await expect.poll(() => heat.locator(".heat-tip").innerText()).toMatch(/^l0 · steps? [\d–]+ · NaN, \+Inf$/);
    // the cell is drawn in both colours (the canvas holds the NaN red and the +Inf near-black)
    const colours = await heat.locator("canvas").evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, Math.ceil(c.height / 8)).data;
      const seen = new Set<string>();
      for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
      return [...seen];
    });
    expect(colours).toContain("220,38,38");
    expect(colours).toContain("17,24,39");
    await chart.screenshot({ path: "/tmp/babysit-heat-mixed.png" });
    expect(errors).toEqual([]);
    await page.close();
  });

  test("a name or key with a right-to-left override is isolated: it cannot reorder the text beside it", async () => {
    const name = "run\u202eevil\u202c";
    const id = await newRun(name, "e2e-bidi\u202e");
    await log(id, { rows: [{ step: 0, metrics: { "loss\u202eevil": 1 } }] });
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    await expect.poll(() => page.locator("h1 bdi").textContent()).toBe(name);
    await expect.poll(() => page.locator("[data-chart] h3 bdi").first().textContent(), { timeout: 20_000 }).toBe("loss\u202eevil");
    const list = await env.browser.open(`${env.server.url}/?project=${encodeURIComponent("e2e-bidi\u202e")}`);
    await expect.poll(() => list.page.locator(`tr[data-run="${id}"] bdi`).first().textContent(), { timeout: 10_000 }).toBe(name);
    expect(errors).toEqual([]);
    expect(list.errors).toEqual([]);
    await Promise.all([page.close(), list.page.close()]);
  });
});
