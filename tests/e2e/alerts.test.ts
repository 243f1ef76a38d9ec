import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The babysitter in a real browser: a run streamed through the HTTP API while its page is open
// raises alerts that show up without a reload in the alerts panel, as markers on the charts their
// evidence concerns, and as badges in the runs list; they fade when resolved; a healthy run
// raises none.

const env = serverAndBrowser({ env: { BABYSIT_EVAL_INTERVAL_MS: "200" } });
let seq = 0;

type Metrics = Record<string, number | string>;

async function newRun(name: string) {
  const r = await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-alerts", name, config: { num_classes: 10 } });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

/** Logs steps [from, to) of `gen` the way a training loop does: a batch every `batch` steps. */
async function stream(id: string, from: number, to: number, gen: (s: number) => Metrics, batch = 10) {
  for (let s = from; s < to; s += batch) {
    const rows = Array.from({ length: Math.min(batch, to - s) }, (_, i) => ({ step: s + i, metrics: gen(s + i) }));
    const r = await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows });
    expect(r.status).toBe(200);
  }
}

/** Deterministic jitter in [-1, 1]. */
const wave = (s: number) => Math.sin(s * 1.7) * 0.5 + Math.sin(s * 0.37) * 0.5;

/** 10 classes, a sane start (~ln 10), a learning rate far too high: update ratios ~0.25 from step 35, NaN from step 70. */
const diverging = (s: number): Metrics => {
  const loss = s < 45 ? 2.35 - 0.016 * s : s < 70 ? 1.63 + 0.09 * (s - 45) : "NaN";
  const ur = (s < 35 ? 1e-3 : 0.25) * (1 + 0.1 * wave(s));
  return {
    "train/loss": typeof loss === "number" ? loss + 0.03 * wave(s) : loss,
    "train/acc": s < 45 ? 0.1 + 0.006 * s : s < 70 ? 0.37 - 0.01 * (s - 45) : 0.1,
    lr: 0.5,
    grad_norm: s < 45 ? 1 + 0.02 * s : 2 + 0.3 * (s - 45),
    "update_ratio/fc1": ur,
    "update_ratio/fc2": 0.8 * ur,
  };
};

/** A steadily improving classifier, validated every 10 steps. */
const healthy = (s: number): Metrics => {
  const loss = 0.2 + 2.1 * Math.exp(-s / 150);
  const acc = 0.95 - 0.85 * Math.exp(-s / 120);
  return {
    "train/loss": loss * (1 + 0.02 * wave(s)),
    "train/acc": acc,
    ...(s % 10 === 9 ? { "val/loss": loss * 1.05, "val/acc": acc - 0.02 } : {}),
    lr: 0.01,
    "update_ratio/fc1": 1e-3 * (1 + 0.1 * wave(s)),
    "update_ratio/fc2": 8e-4 * (1 + 0.1 * wave(s)),
  };
};

/** fc1's ReLUs are 92% dead during steps 20-59 (a layer 90% dead counts whatever the fit), then recover. */
const dying = (s: number): Metrics => ({
  "train/loss": (0.3 + 2.0 * Math.exp(-s / 80)) * (1 + 0.02 * wave(s)),
  "act/fc1/dead_frac": s >= 20 && s < 60 ? 0.92 + 0.02 * wave(s) : 0.05 + 0.01 * wave(s),
  "act/fc2/dead_frac": 0.02 + 0.01 * wave(s),
});

/** Marks the document; still marked later = the page was never reloaded. */
const markDocument = (page: Page) => page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
const sameDocument = (page: Page) => page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);

const inViewport = (page: Page, selector: string) =>
  page.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  });

describe("alerts", () => {
  test("a diverging run: the alert appears live in the panel, on the loss chart and in the runs list", async () => {
    const id = await newRun("diverging");
    await stream(id, 0, 10, diverging); // a healthy-looking start: the charts are there, no alerts

    const list = await env.browser.open(env.server.url);
    const row = list.page.locator(`tr[data-run="${id}"]`);
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.locator(".alert-badges").count()).toBe(0);

    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const chart = (cid: string) => page.locator(`[data-chart="${cid}"]`);
    const loss = chart("m-train-loss");
    const ratios = chart("update-ratios-update-ratio");
    await expect.poll(() => loss.getAttribute("data-points"), { timeout: 15_000 }).toBe("10");
    expect(await loss.getAttribute("data-alerts")).toBe("");
    expect(await page.locator('section[aria-label="alerts"]').count()).toBe(0);
    await Promise.all([markDocument(page), markDocument(list.page)]);

    // the training loop goes on: update ratios ~0.25 from step 35, NaN from step 70
    await stream(id, 10, 80, diverging);

    const card = page.locator('section[aria-label="alerts"] article[data-code="divergence"]');
    await expect.poll(() => card.count(), { timeout: 15_000 }).toBe(1);
    expect(await card.getAttribute("data-severity")).toBe("critical");
    expect(await card.locator(".badge").innerText()).toBe("critical");
    expect(await card.locator(".alert-title").innerText()).toBe("Divergence: the loss is NaN/Inf");
    // the divergence follows from the too-high learning rate: folded under it until unfolded
    await page.locator('article[data-code="lr_too_high"] .symptoms-toggle').click();
    expect(await card.isVisible()).toBe(true);
    await expect.poll(() => card.locator(".muted").first().innerText()).toBe("step 70");

    // markers: divergence on the loss chart; the too-high learning rate on the loss and the update ratios
    await expect.poll(() => loss.getAttribute("data-alerts").then((a) => a!.split(",").sort())).toEqual(["divergence", "lr_too_high"]);
    await expect.poll(() => ratios.getAttribute("data-alerts")).toBe("lr_too_high");
    expect(await chart("m-train-acc").getAttribute("data-alerts")).toBe("");
    const flag = loss.locator('.alert-flag[data-alert="divergence"]');
    await expect.poll(() => flag.count()).toBe(1);
    expect(await flag.isVisible()).toBe(true);
    expect(await flag.innerText()).toBe("divergence");
    expect(await flag.getAttribute("title")).toContain("Divergence: the loss is NaN/Inf");
    expect(await flag.getAttribute("class")).toContain("sev-critical");
    expect(await loss.locator('.alert-flag[data-alert="lr_too_high"]').getAttribute("class")).toContain("sev-warning");

    // the runs list, open all along, shows the critical badge
    await expect.poll(() => row.locator('.badge[data-severity="critical"]').count(), { timeout: 10_000 }).toBe(1);
    expect(await row.locator('.badge[data-severity="critical"]').innerText()).toBe("1 critical");

    await page.screenshot({ path: "/tmp/babysit-alerts.png", fullPage: true });

    // an alert leads to its chart: the update ratios are below the fold until the link is clicked
    await page.evaluate(() => window.scrollTo(0, 0));
    expect(await inViewport(page, '[data-chart="update-ratios-update-ratio"]')).toBe(false);
    await page.locator('article[data-code="lr_too_high"] .chart-link', { hasText: "update ratio" }).click();
    await expect.poll(() => inViewport(page, '[data-chart="update-ratios-update-ratio"]'), { timeout: 5_000 }).toBe(true);
    // and a marker leads back to its alert
    await ratios.locator('.alert-flag[data-alert="lr_too_high"]').click();
    await expect.poll(() => inViewport(page, 'article[data-code="lr_too_high"]'), { timeout: 5_000 }).toBe(true);

    expect(await sameDocument(page)).toBe(true);
    expect(await sameDocument(list.page)).toBe(true);
    expect(errors).toEqual([]);
    expect(list.errors).toEqual([]);
    await page.close();
    await list.page.close();
  });

  test("root cause first: the divergence (critical) is folded under the too-high learning rate (warning) that caused it", async () => {
    const id = await newRun("root-cause");
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    await expect.poll(() => page.locator(".empty").innerText()).toContain("No metrics logged yet");
    await stream(id, 0, 80, diverging);

    const panel = page.locator('section[aria-label="alerts"]');
    const cause = panel.locator('article[data-code="lr_too_high"]');
    const symptom = panel.locator('article[data-code="divergence"]');
    await expect.poll(() => symptom.count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => cause.count()).toBe(1);
    // the warning cause comes first; the critical symptom sits after it, named as its consequence, hidden
    expect(await panel.locator("article").evaluateAll((els) => els.map((e) => e.getAttribute("data-code")))).toEqual(["lr_too_high", "divergence"]);
    expect(await symptom.getAttribute("data-caused-by")).toBe("lr_too_high");
    expect(await symptom.isVisible()).toBe(false);
    expect(await cause.isVisible()).toBe(true);
    const toggle = cause.locator(".symptoms-toggle");
    expect(await toggle.innerText()).toBe("▸ 1 symptom");
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");

    // keyboard: Enter unfolds, Space folds again
    await toggle.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => toggle.getAttribute("aria-expanded")).toBe("true");
    expect(await symptom.isVisible()).toBe(true);
    expect(await symptom.locator(".caused-by").innerText()).toBe("caused by lr_too_high");
    expect(await toggle.innerText()).toBe("▾ 1 symptom");
    await page.keyboard.press("Space");
    await expect.poll(() => toggle.getAttribute("aria-expanded")).toBe("false");
    expect(await symptom.isVisible()).toBe(false);

    // the symptom's chart flag leads to it, unfolding it
    const flag = page.locator('[data-chart="m-train-loss"] .alert-flag[data-alert="divergence"]');
    await expect.poll(() => flag.count(), { timeout: 10_000 }).toBe(1);
    await flag.click();
    await expect.poll(() => symptom.isVisible(), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => inViewport(page, 'article[data-code="divergence"]'), { timeout: 5_000 }).toBe(true);

    // the runs list names the root cause, with how many alerts follow from it
    const list = await env.browser.open(env.server.url);
    const row = list.page.locator(`tr[data-run="${id}"]`);
    await expect.poll(() => row.locator("[data-root-cause]").count(), { timeout: 10_000 }).toBe(1);
    expect(await row.locator("[data-root-cause]").getAttribute("data-root-cause")).toBe("lr_too_high");
    expect(await row.locator("[data-root-cause]").innerText()).toBe("lr_too_high +1");

    expect(errors).toEqual([]);
    expect(list.errors).toEqual([]);
    await page.close();
    await list.page.close();
  });

  test("a resolved alert stays on its chart, faded, and moves to the resolved list", async () => {
    const id = await newRun("dying");
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    await expect.poll(() => page.locator(".empty").innerText()).toContain("No metrics logged yet");
    await markDocument(page);

    await stream(id, 0, 60, dying);
    const dead = page.locator('[data-chart="activations-dead-frac"]');
    await expect.poll(() => dead.getAttribute("data-alerts"), { timeout: 15_000 }).toBe("dead_relu");
    expect(await page.locator('[data-chart="m-train-loss"]').getAttribute("data-alerts")).toBe("");
    const flag = dead.locator('.alert-flag[data-alert="dead_relu"]');
    await expect.poll(() => flag.count()).toBe(1);
    expect(await flag.getAttribute("class")).not.toContain("resolved");
    expect(await flag.getAttribute("title")).toContain("step 20");

    // the units come back to life: resolved, live
    await stream(id, 60, 160, dying);
    await expect.poll(() => dead.getAttribute("data-resolved-alerts"), { timeout: 15_000 }).toBe("dead_relu");
    expect(await dead.getAttribute("data-alerts")).toBe("");
    await expect.poll(() => flag.getAttribute("class")).toContain("resolved");
    const panel = page.locator('section[aria-label="alerts"]');
    await expect.poll(() => panel.locator(".alerts-ok").innerText()).toBe("No active alerts.");
    expect(await panel.locator(".alerts-resolved > summary").innerText()).toBe("1 resolved");
    expect(await panel.locator('article[data-code="dead_relu"]').getAttribute("data-status")).toBe("resolved");

    expect(await sameDocument(page)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("a healthy run streamed for a while raises nothing", async () => {
    const id = await newRun("healthy");
    await stream(id, 0, 10, healthy);
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const loss = page.locator('[data-chart="m-loss"]');
    await expect.poll(() => loss.getAttribute("data-state"), { timeout: 15_000 }).toBe("ready");

    await stream(id, 10, 300, healthy, 25);
    await expect.poll(() => loss.getAttribute("data-last-step"), { timeout: 15_000 }).toBe("299");
    // finishing runs the final diagnosis; its alerts (none) reach the page before the status does
    const fin = await api(env.server.url, "POST", `/api/v1/runs/${id}/finish`, {});
    expect(fin.body.alerts).toEqual([]);
    await expect.poll(() => page.locator(".run-title [data-status]").getAttribute("data-status"), { timeout: 10_000 }).toBe("finished");

    expect((await api(env.server.url, "GET", `/api/v1/runs/${id}/alerts`)).body.alerts).toEqual([]);
    expect(await page.locator('section[aria-label="alerts"]').count()).toBe(0);
    expect(await page.locator(".alert-flag").count()).toBe(0);
    const marked = await page.locator("[data-chart]").evaluateAll((els) => els.map((e) => e.getAttribute("data-alerts")));
    expect(marked.length).toBeGreaterThanOrEqual(4);
    expect(marked.every((a) => a === "")).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
