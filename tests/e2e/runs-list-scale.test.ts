import fs from "node:fs";
import { describe, expect, test } from "vitest";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The runs list after one watch() run (issue #9 §4, second review), in a real browser: the column
// picker was one long list of every key x last/max/min with no search, keys sorted as text
// (m/41 … m/49, m/5), the open list pushed the page down, the sort menu had 73 options, and the
// "add column" and filter forms ran into each other. Also the metric filter form.

const env = serverAndBrowser();
let seq = 0;
const SHOTS = process.env.BABYSIT_SHOTS; // a folder to keep screenshots in, to look at by eye

async function newRun(project: string, name: string, metrics: Record<string, number>) {
  const r = await api(env.server.url, "POST", "/api/v1/runs", { project, name, config: { lr: 0.01, "batch size": 32 } });
  expect(r.status).toBe(201);
  expect((await api(env.server.url, "POST", `/api/v1/runs/${r.body.id}/log`, { seq: seq++, rows: [{ step: 0, metrics }] })).status).toBe(200);
  return r.body.id as string;
}

/** What one watch() run of a small MLP logs: scalars, and per-layer statistics of 12 layers. */
function watchedKeys(acc: number): Record<string, number> {
  const m: Record<string, number> = { "train/loss": 1 - acc, "val/loss": 1.1 - acc, "val/acc": acc, lr: 0.01 };
  for (const i of [5, 41, 49, 10, 2]) m[`m/${i}`] = i;
  for (let l = 1; l <= 12; l++) {
    for (const stat of ["mean", "std", "dead_frac"]) m[`act/fc${l}/${stat}`] = 0.1;
    for (const stat of ["norm", "std"]) m[`grad/fc${l}/${stat}`] = 0.1;
    m[`weight/fc${l}/norm`] = 1;
    m[`update_ratio/fc${l}`] = 1e-3;
  }
  return m;
}

const boxOf = async (page: import("playwright-core").Page, sel: string) => {
  const b = await page.locator(sel).first().boundingBox();
  if (!b) throw new Error(`${sel} is not shown`);
  return b;
};
const overlap = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe("runs list with many keys", () => {
  test("the picker searches, sorts keys naturally, groups them, collapses layer families and overlays the page", async () => {
    await newRun("watched", "w1", watchedKeys(0.91));
    await newRun("watched", "w2", watchedKeys(0.6));
    const { page, errors } = await env.browser.open(`${env.server.url}/?project=watched`);
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
    const firstRowBefore = await boxOf(page, "tbody tr");
    await page.click('[data-testid="column-picker"] summary');
    const picker = page.locator('[data-testid="column-picker"]');
    const options = () => picker.locator("[data-key-option]").evaluateAll((els) => els.map((e) => e.getAttribute("data-key-option")));
    await expect.poll(async () => (await options()).length).toBeGreaterThan(80);
    // the search box has the focus: typing filters at once
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("search keys");

    // numbers inside keys compare as numbers
    const all = await options();
    expect(all.filter((k) => k?.startsWith("m/"))).toEqual(["m/2", "m/5", "m/10", "m/41", "m/49"]);
    // groups by prefix; per-layer families start collapsed, the others open
    const groups = await picker
      .locator("[data-key-group]")
      .evaluateAll((els) => els.map((e) => [e.getAttribute("data-key-group"), (e as HTMLDetailsElement).open]));
    expect(groups).toEqual([
      ["m/", true],
      ["train/", true],
      ["val/", true],
      ["", true],
      ["act/", false],
      ["grad/", false],
      ["update_ratio/", false],
      ["weight/", false],
    ]);
    expect(await picker.getByLabel("column metric act/fc3/mean max").isVisible()).toBe(false);

    // the panel lies over the page, bounded, its list scrolling inside
    const panel = await boxOf(page, '[data-testid="column-picker-panel"]');
    expect(panel.height).toBeLessThanOrEqual(900 * 0.7 + 1);
    expect((await boxOf(page, "tbody tr")).y).toBe(firstRowBefore.y);
    await page.click('[data-key-group="act/"] > summary');
    const keysList = picker.locator(".picker-keys");
    expect(await keysList.evaluate((e) => e.scrollHeight > e.clientHeight)).toBe(true);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/picker-open.png` });

    // a search: only matching keys, their groups open (layer families too), text taken literally
    await page.fill('input[aria-label="search keys"]', "FC1/");
    await expect.poll(options).toEqual(["act/fc1/dead_frac", "act/fc1/mean", "act/fc1/std", "grad/fc1/norm", "grad/fc1/std", "weight/fc1/norm"]);
    expect(await picker.getByLabel("column metric act/fc1/mean max").isVisible()).toBe(true);
    await picker.getByLabel("column metric act/fc1/mean max").check();
    await page.fill('input[aria-label="search keys"]', ".*");
    await expect.poll(options).toEqual([]);
    expect(await picker.innerText()).toContain("no metric key matches");
    await page.fill('input[aria-label="search keys"]', "acc");
    await picker.getByLabel("column metric val/acc max").check();

    // the sort menu: the list's orders, the two shown columns both ways, more…; not every key
    const sort = page.locator('select[aria-label="sort"]');
    await expect.poll(() => sort.locator("option").count()).toBe(3 + 4 + 1);
    // a click elsewhere closes the panel
    await page.click("h1");
    await expect.poll(() => picker.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await sort.selectOption({ label: "val/acc (max): high to low" });
    await expect.poll(() => page.locator("tbody tr td.name a").allInnerTexts()).toEqual(["w1", "w2"]);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("metric filters: added as chips on the page, in the URL, and a link reproduces them", async () => {
    await newRun("mfilter", "good", { "val/acc": 0.95, "train/loss": 0.1 });
    await newRun("mfilter", "bad", { "val/acc": 0.4, "train/loss": 0.9 });
    const { page, errors } = await env.browser.open(`${env.server.url}/?project=mfilter`);
    const names = () => page.locator("tbody tr td.name a").allInnerTexts();
    await expect.poll(names).toEqual(["bad", "good"]);
    const form = page.locator('[data-testid="metric-filters"]');
    await form.getByLabel("metric filter key").fill("val/acc");
    await form.getByLabel("metric filter value kind").selectOption("max");
    await form.getByLabel("metric filter value", { exact: true }).fill("0.9..");
    await form.locator('button[type="submit"]').click();
    await expect.poll(names).toEqual(["good"]);
    expect(await page.locator('[data-metric-filter="val/acc:max"]').innerText()).toContain("val/acc (max) ≥ 0.9");
    const link = page.url();
    expect(new URL(link).searchParams.get("metric.val/acc:max")).toBe("0.9..");

    const again = await env.browser.open(link);
    await expect.poll(() => again.page.locator("tbody tr td.name a").allInnerTexts()).toEqual(["good"]);
    expect(again.errors).toEqual([]);
    await again.page.close();

    await page.click('button[aria-label="remove metric filter val/acc:max"]');
    await expect.poll(names).toEqual(["bad", "good"]);
    await expect.poll(() => new URL(page.url()).searchParams.has("metric.val/acc:max")).toBe(false);
    // a last-value range the server refuses says why
    await form.getByLabel("metric filter key").fill("train/loss");
    await form.getByLabel("metric filter value", { exact: true }).fill("high");
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => page.locator('[data-testid="list-error"]').innerText()).toContain("must be a range of numbers");
    expect(errors.every((e) => e.includes("400"))).toBe(true);
    await page.close();
  });

  test.each([
    [1360, 900],
    [1024, 768],
  ])("at %ix%i the toolbars' controls and the filter forms do not overlap, each form on one line", async (width, height) => {
    const { page, errors } = await env.browser.open(`${env.server.url}/?project=watched&config.lr=0.001..0.1`);
    await page.setViewportSize({ width, height });
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
    await page.click("tbody tr input[type=checkbox]"); // the bulk bar shows too
    const controls = [
      ".run-search",
      "[data-total]",
      '[data-testid="column-picker"] summary',
      '[data-testid="config-filters"] form',
      '[data-testid="metric-filters"] form',
      '[data-config-filter="lr"]',
      '[data-testid="bulk"]',
    ];
    const boxes = await Promise.all(controls.map((c) => boxOf(page, c)));
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) expect(overlap(boxes[i], boxes[j]), `${controls[i]} / ${controls[j]}`).toBe(false);
    for (const form of ['[data-testid="config-filters"] form', '[data-testid="metric-filters"] form']) {
      const tops = await page.locator(`${form} > *:not(datalist)`).evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
      expect(Math.max(...tops) - Math.min(...tops), form).toBeLessThan(12);
    }
    // the first-row controls too: no select runs into another control
    const top = await page
      .locator(".list-toolbar")
      .first()
      .locator("> *")
      .evaluateAll((els) => els.filter((e) => e.getBoundingClientRect().width > 0).map((e) => e.getBoundingClientRect().toJSON()));
    for (let i = 0; i < top.length; i++) for (let j = i + 1; j < top.length; j++) expect(overlap(top[i], top[j])).toBe(false);
    // the picker open stays inside the window
    await page.click('[data-testid="column-picker"] summary');
    const panel = await boxOf(page, '[data-testid="column-picker-panel"]');
    expect(panel.x).toBeGreaterThanOrEqual(0);
    expect(panel.x + panel.width).toBeLessThanOrEqual(width);
    expect(panel.y + panel.height).toBeLessThanOrEqual(height);
    if (SHOTS) {
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: `${SHOTS}/list-${width}x${height}.png` });
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
