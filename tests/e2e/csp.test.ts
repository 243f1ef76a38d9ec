import { describe, expect, test } from "vitest";
import { api } from "../helpers/server";
import { pngBase64 } from "../helpers/png";
import { serverAndBrowser } from "./browser";

// Every page works under its Content-Security-Policy (lib/http/headers.ts): scripts only from the
// server or with the answer's nonce, no eval, styles from the server. A violation is logged as a
// console error (tests/e2e/browser.ts reports `securitypolicyviolation` events), so each page is
// driven through what it draws and does, then checked for errors.

const env = serverAndBrowser();
let seq = 0;

async function newRun(name: string): Promise<string> {
  const r = await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-csp", name, config: { lr: 0.1, password: "x" } });
  expect(r.status).toBe(201);
  const id = r.body.id as string;
  const rows = Array.from({ length: 30 }, (_, i) => ({ step: i, metrics: { "train/loss": 2 / (1 + i), "val/acc": i / 30 } }));
  const histograms = [{ step: 0, key: "weights/fc1", edges: [0, 1, 2], counts: [3, 4] }];
  const events = [{ type: "image", step: 0, data: { key: "samples", width: 4, height: 4, png_base64: pngBase64(4, 4) } }];
  expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows, histograms, events })).status).toBe(200);
  return id;
}

describe("pages under the CSP", () => {
  test("runs list, run page (charts, histogram, image, live update, share menu), compare, shared page, not found: no violation", {
    timeout: 180_000,
  }, async () => {
    const a = await newRun("csp-a");
    const b = await newRun("csp-b");

    const list = await env.browser.open(`${env.server.url}/`);
    await expect.poll(() => list.page.locator("table.runs td.name").count(), { timeout: 15_000 }).toBe(2);

    const run = await env.browser.open(`${env.server.url}/runs/${a}`);
    const points = () => run.page.locator("[data-chart]").evaluateAll((els) => els.map((e) => e.getAttribute("data-points")));
    await expect.poll(points, { timeout: 20_000 }).toContain("30");
    await expect.poll(() => run.page.locator("img[src^='data:image/png']").count(), { timeout: 15_000 }).toBe(1);
    // live: a socket.io connection (connect-src 'self') brings the next points
    expect(
      (await api(env.server.url, "POST", `/api/v1/runs/${a}/log`, { seq: seq++, rows: [{ step: 30, metrics: { "train/loss": 0.01 } }] })).status,
    ).toBe(200);
    await expect.poll(points, { timeout: 10_000 }).toContain("31");
    // the share menu's writes (fetch with Content-Type: application/json) pass the server's checks
    await run.page.locator(".share-menu > summary").click();
    await run.page.getByRole("button", { name: "Create a link" }).click();
    const field = run.page.getByLabel("new shared link");
    await expect.poll(() => field.count(), { timeout: 10_000 }).toBe(1);
    const link = await field.inputValue();

    const compare = await env.browser.open(`${env.server.url}/compare?runs=${a},${b}`);
    await expect.poll(() => compare.page.locator("[data-chart]").first().getAttribute("data-state"), { timeout: 20_000 }).toBe("ready");

    const shared = await env.browser.open(link);
    await expect.poll(() => shared.page.locator("[data-chart]").first().getAttribute("data-state"), { timeout: 20_000 }).toBe("ready");

    expect(shared.errors).toEqual([]);
    await shared.page.close(); // a page open on a revoked link asks again and is told 404: not what is checked here
    await run.page.getByRole("button", { name: "revoke" }).click();
    await expect.poll(() => run.page.locator(".share-list input").count(), { timeout: 10_000 }).toBe(0);

    const missing = await env.browser.open(`${env.server.url}/no/such/page`);
    await expect.poll(() => missing.page.locator("[data-not-found]").count(), { timeout: 10_000 }).toBe(1);

    // every page's own scripts ran under a policy that allows no inline script without the nonce
    for (const p of [list, run, compare, missing]) {
      const csp = (await p.page.request.get(p.page.url())).headers()["content-security-policy"];
      expect(csp).toMatch(/script-src 'self' 'nonce-/);
    }
    expect([...list.errors, ...run.errors, ...compare.errors]).toEqual([]);
    // the page itself answers 404, and Chromium logs that; nothing else went wrong on it
    expect(missing.errors.filter((e) => !e.includes(`${env.server.url}/no/such/page`))).toEqual([]);
    expect(missing.errors.filter((e) => e.includes("CSP"))).toEqual([]);
    for (const p of [list, run, compare, missing]) await p.page.close();
  });

  test("an inline script without the nonce is refused and reported (the check above can fail)", async () => {
    const page = await env.browser.open(`${env.server.url}/`);
    await page.page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = 1";
      document.body.append(s);
    });
    await expect.poll(() => page.errors.some((e) => e.includes("CSP violation: script-src-elem"))).toBe(true);
    expect(await page.page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).toBeUndefined();
    await page.page.close();
  });
});
