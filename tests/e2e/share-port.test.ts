import { describe, expect, test } from "vitest";
import { api, freePort } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// A shared link opened on the share-only listener (BABYSIT_SHARE_PORT) in a real browser: the page,
// its chart and its live updates work with nothing but what that listener serves, and no request
// the page makes carries the token in a Referer.

const sharePort = await freePort();
const env = serverAndBrowser({ env: { BABYSIT_SHARE_PORT: String(sharePort) } });
let seq = 0;

async function log(id: string, from: number, to: number) {
  const rows = Array.from({ length: to - from }, (_, i) => ({ step: from + i, metrics: { "train/loss": 1 / (1 + from + i) } }));
  expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows })).status).toBe(200);
}

describe("a shared link on the share-only listener", () => {
  test("draws the run and follows it live; no request leaks the token in a Referer", async () => {
    const id = (await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-share-port", name: "published-run" })).body.id as string;
    await log(id, 0, 30);
    const { url } = (await api(env.server.url, "POST", `/api/v1/runs/${id}/shares`, { expiresIn: "30d" })).body as { url: string };
    // made on the dashboard, the link points at the share-only port (on the name the dashboard was reached by)
    const link = url;
    expect(link.startsWith(`http://127.0.0.1:${sharePort}/share/`)).toBe(true);
    const token = url.split("/").at(-1)!;

    const { page, errors } = await env.browser.open("about:blank");
    const requests: { url: string; referer: string | undefined }[] = [];
    page.on("request", (r) => requests.push({ url: r.url(), referer: r.headers().referer }));
    await page.goto(link);
    expect(await page.locator("h1").innerText()).toBe("published-run");
    const chart = page.locator("[data-chart]");
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 15_000 }).toBe("30");
    await expect.poll(() => page.locator(".run-title [data-status]").getAttribute("data-link"), { timeout: 10_000 }).toBe("live");
    await log(id, 30, 45);
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 10_000 }).toBe("45");

    expect(errors).toEqual([]);
    expect(requests.length).toBeGreaterThan(1);
    for (const r of requests) {
      expect(new URL(r.url).port, r.url).toBe(String(sharePort));
      expect(r.referer ?? "", r.url).not.toContain(token);
    }
    await page.close();
  });
});
