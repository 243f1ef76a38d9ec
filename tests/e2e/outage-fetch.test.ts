import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestServer, api, startServer } from "../helpers/server";
import { pngBase64 } from "../helpers/png";
import { type Browser, launchBrowser } from "./browser";

// A server outage with a run page open: every fetch the page makes meanwhile (charts coming into
// view, the epoch axis, histograms, images, the share panel) fails as a network error, and each
// is caught and reported where it was asked for: no uncaught "Failed to fetch" in the console.

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

// what a page may show in red while its server is down: the browser's own line for each refused
// request, and socket.io's attempts to reconnect; an uncaught rejection is none of these
const outageNoise = (e: string) =>
  /^requestfailed: .* net::ERR_CONNECTION_(REFUSED|RESET)$|^console: Failed to load resource: net::ERR_CONNECTION_(REFUSED|RESET)|socket\.io|WebSocket/.test(
    e,
  );

describe("a server outage with a run page open", () => {
  test("every fetch the page makes is caught and reported, none is an uncaught error", { timeout: 120_000 }, async () => {
    const run = await api(server.url, "POST", "/api/v1/runs", { project: "e2e-outage", name: "outage-fetch" });
    const id = run.body.id as string;
    // enough charts that the last ones load only when scrolled to, a histogram and an image below them
    const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    const rows = Array.from({ length: 20 }, (_, s) => ({
      step: s,
      epoch: s / 10,
      metrics: Object.fromEntries(keys.map((k, j) => [k, j + 1 / (1 + s)])),
    }));
    const hist = { step: 0, key: "act/fc1", edges: [0, 0.5, 1], counts: [3, 4] };
    const image = { type: "image", step: 0, data: { key: "samples", width: 2, height: 2, png_base64: pngBase64(2, 2) } };
    expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows, histograms: [hist], events: [image] })).status).toBe(200);

    const { page, errors } = await browser.open(`${server.url}/runs/${id}`);
    const first = page.locator('[data-chart="m-k00"]');
    await expect.poll(() => first.getAttribute("data-state"), { timeout: 20_000 }).toBe("ready");
    const last = page.locator('[data-chart="m-k39"]');
    // (not on screen yet: not loaded, maybe not even laid out)
    expect((await last.count()) === 0 || (await last.getAttribute("data-state")) !== "ready").toBe(true);
    const badge = page.locator(".run-title [data-status]");
    await expect.poll(() => badge.getAttribute("data-link"), { timeout: 10_000 }).toBe("live");

    await server.stop();
    await expect.poll(() => badge.getAttribute("data-link"), { timeout: 15_000 }).toBe("offline");

    // the share panel: listing and creating links fail, each says so in the panel
    const share = page.locator("details.share-menu");
    await share.locator("summary").click();
    await expect.poll(() => share.locator(".error").innerText(), { timeout: 10_000 }).toMatch(/server did not answer/);
    await share.getByRole("button", { name: /Create/ }).click();
    await expect.poll(() => share.locator(".error").innerText(), { timeout: 10_000 }).toMatch(/server did not answer/);
    // the epoch axis asks for the epoch series
    await page.getByLabel("x axis").selectOption("epoch");
    // charts, histograms and images scrolled into view ask for their data
    const toBottom = async (what: { count(): Promise<number> }) => {
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      return what.count();
    };
    await expect.poll(() => toBottom(last), { timeout: 20_000 }).toBe(1);
    await last.scrollIntoViewIfNeeded();
    await expect.poll(() => last.getAttribute("data-state"), { timeout: 60_000 }).toBe("error");
    expect(await last.locator(".chart-overlay.error").innerText()).toMatch(/could not load/);
    // the histogram and the image were read before the outage: filtered away and shown again,
    // they ask again, and say they could not load
    const histogram = page.locator('[data-histogram="act/fc1"]');
    const img = page.locator('[data-image="samples"]');
    const filter = page.getByLabel("filter charts by key");
    await filter.fill("no-such-key");
    await expect.poll(() => histogram.count()).toBe(0);
    await filter.fill("");
    await expect.poll(() => toBottom(histogram), { timeout: 20_000 }).toBe(1);
    await histogram.scrollIntoViewIfNeeded();
    await expect.poll(() => histogram.innerText(), { timeout: 30_000 }).toMatch(/could not load: the server did not answer/);
    await expect.poll(() => toBottom(img), { timeout: 20_000 }).toBe(1);
    await img.scrollIntoViewIfNeeded();
    await expect.poll(() => img.getAttribute("data-failed"), { timeout: 30_000 }).toBe("the server did not answer");
    expect(await img.innerText()).toMatch(/could not load: the server did not answer/);

    expect(errors.filter((e) => !outageNoise(e))).toEqual([]);
    // (the browser did try: the refused requests are in the log)
    expect(errors.some((e) => e.startsWith("requestfailed:"))).toBe(true);
    await page.close();
  });
});
