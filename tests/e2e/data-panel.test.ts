import { expect, test } from "vitest";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The Data section of a run page in a real browser: a run whose validation inputs were left on
// another scale (one of 784 features blown up, another NaN), with label and output statistics.
// The user sees training and validation side by side, the most different features with the numbers
// train_val_mismatch reads, NaN as NaN, names as text; new statistics appear live; the checklist's
// Input preprocessing item leads there; a shared link shows the same section.

const env = serverAndBrowser({ env: { BABYSIT_EVAL_INTERVAL_MS: "200" } });

const F = 784;
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const names = Array.from({ length: F }, (_, i) => (i === 400 ? HOSTILE : i === 3 ? "__proto__" : `px${i}`));
const trainStats = { mean: Array.from({ length: F }, (_, i) => (i % 50) / 100 - 0.25), std: Array.from({ length: F }, (_, i) => 0.8 + (i % 7) / 20) };
const valStats = { mean: trainStats.mean.map((m, i) => (i === 400 ? 3e4 : m)), std: trainStats.std.map((s, i) => (i === 400 ? 5e5 : s)) };
// a split of its own with what a broken transform leaves: NaN and infinite statistics
const oodStats = { mean: trainStats.mean.map((m, i) => (i === 5 ? "NaN" : m)), std: trainStats.std.map((s, i) => (i === 6 ? "Infinity" : s)) };

async function log(id: string, seq: number, body: object) {
  const res = await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

test("a run's input, label and output statistics: side by side, worst features, NaN and names as logged, live, linked, shared", async () => {
  const created = await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-data", name: "digits", config: { num_classes: 3 } });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await log(id, 0, {
    rows: Array.from({ length: 30 }, (_, s) => ({ step: s, metrics: { "train/loss": 1.1 / (1 + s / 10) } })),
    events: [
      { type: "input_stats", step: 0, data: { ...trainStats, n: 64, names, source: "watch" } },
      { type: "input_stats", step: 10, data: { ...valStats, n: 64, names, split: "val", source: "watch" } },
      { type: "input_stats", step: 10, data: { ...oodStats, n: 16, split: "ood" } },
      { type: "label_stats", step: 0, data: { counts: [850, 100, 50], n: 1000, split: "train" } },
      { type: "label_stats", step: 0, data: { counts: [60, 30, 10], n: 100, split: "val" } },
      { type: "output_stats", step: 20, data: { pred_min: 0, pred_max: 3.1, target_min: -2.4, target_max: "Infinity", n: 400 } },
    ],
  });

  const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
  await page.evaluate(() => {
    (window as unknown as { notReloaded: boolean }).notReloaded = true;
  });
  const data = page.locator('section[aria-label="Data"]');
  await expect.poll(() => data.count(), { timeout: 15_000 }).toBe(1);
  expect(await data.locator("h2").textContent()).toBe("Data · inputs, labels, outputs as logged");

  // per split, side by side
  const splits = data.locator('[data-table="input-splits"]');
  expect(await splits.locator("thead th[data-split]").allInnerTexts()).toEqual(["train", "val", "ood"]);
  const row = (label: string) => splits.locator("tbody tr").filter({ has: page.locator(`th:text-is("${label}")`) });
  expect(await row("features").locator("td").allInnerTexts()).toEqual(["784", "784", "784"]);
  expect(await row("logged").locator("td").allInnerTexts()).toEqual(["1 time by watch()", "1 time by watch()", "1 time"]);
  expect(await row("non-finite values").locator("td").allInnerTexts()).toEqual(["none", "none", "1 NaN, 1 +Inf (2 features)"]);
  expect(await row("stds from … to").locator("td").nth(1).innerText()).toBe("0.8 … 5e5");

  // the comparison, as train_val_mismatch reads it: 784 features summarised, the 10 worst listed
  const cmp = data.locator("[data-compare]");
  expect(await cmp.getAttribute("data-compare")).toBe("mismatch");
  expect(await cmp.locator("[data-compare-summary]").innerText()).toMatch(
    /^train vs val at step 10: 1 of 784 features off by 5× or more \(std ratio either way, or mean shift in training stds\); the worst, <img src=x onerror="window.__pwned=1">, by \d(\.\d+)?e5×\. By train_val_mismatch's thresholds, validation data processed differently \(a feature off by 100× or more\)\.$/,
  );
  const worst = data.locator('[data-table="worst-features"]');
  expect(await worst.locator("caption").innerText()).toMatch(/^the 10 most different of 784 features/);
  expect(await worst.locator("tbody tr").count()).toBe(10);
  const blown = worst.locator("tbody tr").nth(0);
  expect(await blown.getAttribute("data-feature")).toBe("400");
  expect(await blown.getAttribute("data-off")).toBe("");
  expect(await blown.locator("th").innerText()).toBe(`${HOSTILE} #400`);
  expect(await blown.locator("td").allInnerTexts()).toEqual(["-0.25", "0.85", "30000", "5e5", "31580", "5.26e5", "5.26e5×"]);
  expect(await worst.locator("tbody tr[data-off]").count()).toBe(1);
  // a name is text, never markup
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(await data.locator("img").count()).toBe(0);

  // labels: counts, shares, the majority share; outputs with +Inf as logged
  const labels = data.locator('[data-block="labels"]');
  expect(await labels.locator('li[data-split="train"]').innerText()).toMatch(
    /^train at step 0: 1000 labels in 3 classes; majority class 0 with 85% /,
  );
  expect(await labels.locator('li[data-split="val"]').innerText()).toMatch(/majority class 0 with 60%/);
  expect(await labels.locator('tr[data-class="2"] td').allInnerTexts()).toEqual(["50 (5%)", "10 (10%)"]);
  const outputs = data.locator('[data-block="outputs"]');
  expect(await outputs.locator('tr[data-side="target"] td').allInnerTexts()).toEqual(["targets", "-2.4", "+Inf", "–", "–"]);
  expect(await outputs.locator('tr[data-side="pred"] th').innerText()).toBe("train at step 20, n 400");
  await data.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "/tmp/inputview/data-panel.png", fullPage: true });

  // the alert's advice points here, not at a call watch() already made
  const alert = page.locator('section[aria-label="alerts"] article[data-code="train_val_mismatch"]');
  await expect.poll(() => alert.count(), { timeout: 15_000 }).toBe(1);
  expect(await alert.innerText()).toMatch(/in the Data section of the run page: watch\(model, optimizer\) logs them/);

  // the checklist's Input preprocessing item leads to the numbers
  const item = page.locator('section[aria-label="checklist"] li[data-item="input_preprocessing"]');
  await expect.poll(() => item.locator("button.check-data").count(), { timeout: 15_000 }).toBe(1);
  await page.evaluate(() => window.scrollTo(0, 0));
  await item.locator("button.check-data").click();
  await expect
    .poll(() =>
      page.evaluate(() => {
        const r = document.querySelector("#data")!.getBoundingClientRect();
        return r.top < window.innerHeight && r.bottom > 0;
      }),
    )
    .toBe(true);

  // live: a later validation batch on the right scale but with a NaN feature, the validation labels re-counted
  await log(id, 1, {
    events: [
      { type: "input_stats", step: 20, data: { ...oodStats, std: trainStats.std, n: 64, names, split: "val", source: "watch" } },
      { type: "label_stats", step: 20, data: { counts: [34, 33, 33], n: 100, split: "val" } },
    ],
  });
  await expect.poll(() => cmp.getAttribute("data-compare"), { timeout: 10_000 }).toBe("agree");
  expect(await cmp.locator("[data-compare-summary]").innerText()).toMatch(
    /^train vs val at step 20: 0 of 783 features off by 5× or more .*; the worst, .*, by 1×; 1 feature not comparable \(NaN or infinite on a side\)\. Within train_val_mismatch's thresholds/,
  );
  // NaN as logged, and first among the features to look at
  const nan = worst.locator("tbody tr").nth(0);
  expect(await nan.getAttribute("data-feature")).toBe("5");
  expect(await nan.locator("td").allInnerTexts()).toEqual(["-0.2", "1.05", "NaN", "1.05", "–", "–", "not finite"]);
  expect(await row("logged").locator("td").allInnerTexts()).toEqual(["1 time by watch()", "2 times by watch()", "1 time"]);
  expect(await row("non-finite values").locator("td").allInnerTexts()).toEqual(["none", "1 NaN (1 feature)", "1 NaN, 1 +Inf (2 features)"]);
  expect(await data.locator("[data-history]").getAttribute("data-history")).toBe("2");
  expect(await data.locator("[data-history]").innerText()).toMatch(/at each of 2 validation logs: 5\.26e5× at step 10, 1× at step 20$/);
  expect(await data.locator('[data-change="val"]').innerText()).toBe(
    `val inputs changed at step 20: ${HOSTILE} off by 5.26e5× from the ones logged at step 10.`,
  );
  expect(await labels.locator('li[data-split="val"]').innerText()).toMatch(
    /at step 20: 100 labels in 3 classes; majority class 0 with 34%.*\(logged 2 times\)/,
  );
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await data.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "/tmp/inputview/data-panel-live.png", fullPage: true });
  expect(errors).toEqual([]);

  // a shared read-only link shows the same section
  const made = await api(env.server.url, "POST", `/api/v1/runs/${id}/shares`, {});
  expect(made.status).toBe(201);
  const shared = await env.browser.open(`${env.server.url}/share/${made.body.token}`);
  const sdata = shared.page.locator('section[aria-label="Data"]');
  await expect.poll(() => sdata.count(), { timeout: 15_000 }).toBe(1);
  expect(await sdata.locator("[data-compare]").getAttribute("data-compare")).toBe("agree");
  expect(await sdata.locator('[data-table="worst-features"] tbody tr').count()).toBe(10);
  // ... from the lighter events: the first validation batch came without its lists, its reading with it
  expect(await sdata.locator("[data-history]").innerText()).toMatch(/at each of 2 validation logs: 5\.26e5× at step 10, 1× at step 20$/);
  expect(await sdata.locator('[data-change="val"]').innerText()).toBe(
    `val inputs changed at step 20: ${HOSTILE} off by 5.26e5× from the ones logged at step 10.`,
  );
  // the Events list says what it was not sent
  const left = await shared.page.locator("details.events li").filter({ hasText: "left out" }).allTextContents();
  expect(left).toHaveLength(2);
  expect(left[0]).toMatch(
    /^input_stats step 10\{.*"split":"val".*\} \(mean, std, names of 784 left out: not the latest of its split; the run's API with \?events=full lists them\)$/,
  );
  expect(left[1]).toMatch(/^label_stats step 0\{"n":100,"split":"val"\} \(counts of 3 left out: /);
  const light = await api(env.server.url, "GET", `/api/v1/runs/${id}`);
  const first = (light.body.events as { step: number; data: { split?: string }; omitted?: unknown; reading?: unknown }[]).find(
    (e) => e.step === 10 && e.data.split === "val",
  )!;
  expect(first.omitted).toEqual({ fields: ["mean", "std", "names"], length: F });
  expect(first.reading).toEqual({ history: { off: expect.any(Number), offCount: 1 } });
  const whole = await api(env.server.url, "GET", `/api/v1/runs/${id}?events=full`);
  expect(
    (whole.body.events as { step: number; data: { split?: string; std?: unknown[] } }[]).find((e) => e.step === 10 && e.data.split === "val")!.data
      .std,
  ).toHaveLength(F);
  await sdata.scrollIntoViewIfNeeded();
  await shared.page.screenshot({ path: "/tmp/inputview/data-panel-shared.png" });
  expect(shared.errors).toEqual([]);
});

test("statistics the section cannot read (unchecked aliases): said with why, the rest of the page unharmed", async () => {
  const created = await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-data", name: "hostile" });
  const id = created.body.id as string;
  await log(id, 0, {
    rows: [
      { step: 0, metrics: { "train/loss": 1 } },
      { step: 1, metrics: { "train/loss": 0.9 } },
    ],
    events: [
      // data_stats is read as input statistics but not checked on the way in
      { type: "data_stats", step: 0, data: { mean: [0, 1], std: [1, 1], split: { toString: 1 } } },
      { type: "data_stats", step: 1, data: { mean: [0, 1, 2], std: [1, 1] } },
      { type: "input_statistics", step: 2, data: { mean: [[0]], std: [[1]], split: "<script>window.__pwned=1</script>" } },
      { type: "label_stats", step: 0, data: { counts: [5, 5], split: "val" } },
    ],
  });
  const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
  const data = page.locator('section[aria-label="Data"]');
  await expect.poll(() => data.count(), { timeout: 15_000 }).toBe(1);
  expect(await data.locator('[data-block="labels"] li[data-split="val"]').innerText()).toMatch(/^val at step 0: 10 labels in 2 classes/);
  expect(await data.locator('[data-block="unreadable"]').innerText()).toBe(
    "3 statistics events could not be read and are not shown here (listed under Events):\n\n" +
      "data_stats (? at step 0): split is not a string\n" +
      "data_stats (train at step 1): mean has 3 entries, std 2\n" +
      "input_statistics (<script>window.__pwned=1</script> at step 2): mean[0] is not a number",
  );
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(errors).toEqual([]);
});
