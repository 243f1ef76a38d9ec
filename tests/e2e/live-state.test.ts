import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestServer, api, startServer } from "../helpers/server";
import { SOCKET_HEARTBEAT } from "../../lib/contract/socket";
import { type Browser, launchBrowser } from "./browser";

// Live state is honest: a page whose server goes away says it is offline (no green "live" badge),
// and once the server is back it refetches what it missed and says it caught up; a shared page
// whose link is revoked says so and stops claiming to be live.

let server: TestServer;
let browser: Browser;
let seq = 0;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function log(id: string, from: number, to: number) {
  const rows = Array.from({ length: to - from }, (_, i) => ({
    step: from + i,
    epoch: (from + i) / 10,
    metrics: { "train/loss": 2 / (1 + (from + i) / 10) },
  }));
  expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows })).status).toBe(200);
}

// how long a page may go on saying "live" once its server is gone: the stop itself (up to 3 s), then,
// if the close never reaches the page (it can be lost while socket.io upgrades its transport), the
// heartbeat's ping interval and timeout; the rest is slack for a loaded machine
const OFFLINE_WITHIN_MS = 3_000 + SOCKET_HEARTBEAT.pingInterval + SOCKET_HEARTBEAT.pingTimeout + 7_000;

const newRun = async (name: string) => (await api(server.url, "POST", "/api/v1/runs", { project: "e2e-live", name })).body.id as string;

// what a page may show in red while its server is down: socket.io's attempts to reconnect
const outageNoise = (e: string) => /socket\.io|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|WebSocket/.test(e);

describe("live state", () => {
  test("a server outage: the page says offline, then reconnected and caught up with what was logged meanwhile", { timeout: 120_000 }, async () => {
    const id = await newRun("outage");
    await log(id, 0, 30);
    const { page, errors } = await browser.open(`${server.url}/runs/${id}`);
    const badge = page.locator(".run-title [data-status]");
    const note = page.locator(".live-note");
    const chart = page.locator("[data-chart]"); // the one chart: train/loss (epoch is an x axis)
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 15_000 }).toBe("30");
    await expect.poll(() => badge.getAttribute("data-link"), { timeout: 10_000 }).toBe("live");
    expect(await badge.innerText()).toBe("live");
    expect(await note.isVisible()).toBe(false);

    // the server goes away: no green "live" any more, a note says why
    const { port, dbPath } = server;
    await server.stop();
    await expect.poll(() => badge.getAttribute("data-link"), { timeout: OFFLINE_WITHIN_MS }).toBe("offline");
    expect(await badge.innerText()).toBe("offline");
    expect(await badge.locator(".pulse").count()).toBe(0);
    expect(await note.getAttribute("data-live")).toBe("offline");
    expect(await note.isVisible()).toBe(true);
    expect(await note.innerText()).toMatch(/disconnected/i);

    // it comes back on the same port and database; points logged before the page reconnects
    // reach it through the refetch, then it says it caught up
    server = await startServer({ port, dbPath });
    await log(id, 30, 45);
    await expect.poll(() => note.getAttribute("data-live"), { timeout: 30_000 }).toBe("caught-up");
    expect(await note.innerText()).toMatch(/caught up/i);
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 10_000 }).toBe("45");
    expect(await badge.getAttribute("data-link")).toBe("caught-up");
    expect(await badge.innerText()).toBe("live");

    // and follows live again
    await log(id, 45, 50);
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 10_000 }).toBe("50");

    await page.screenshot({ path: "/tmp/babysit-caught-up.png" });
    expect(errors.filter((e) => !outageNoise(e))).toEqual([]);
    await page.close();
  });

  test("the runs list says offline during an outage too", async () => {
    const id = await newRun("listed");
    await log(id, 0, 3);
    const { page, errors } = await browser.open(`${server.url}/`);
    const badge = page.locator(`tr[data-run="${id}"] [data-status]`);
    await expect.poll(() => badge.getAttribute("data-link"), { timeout: 10_000 }).toBe("live");
    const { port, dbPath } = server;
    await server.stop();
    await expect.poll(() => badge.getAttribute("data-link"), { timeout: OFFLINE_WITHIN_MS }).toBe("offline");
    expect(await page.locator(".live-note").getAttribute("data-live")).toBe("offline");
    server = await startServer({ port, dbPath });
    await expect.poll(() => page.locator(".live-note").getAttribute("data-live"), { timeout: 30_000 }).toBe("caught-up");
    expect(errors.filter((e) => !outageNoise(e))).toEqual([]);
    await page.close();
  });

  test("a frozen server (no close ever reaches the page): offline within the heartbeat, caught up once it thaws", { timeout: 120_000 }, async () => {
    const id = await newRun("frozen");
    await log(id, 0, 10);
    const { page, errors } = await browser.open(`${server.url}/runs/${id}`);
    const badge = page.locator(".run-title [data-status]");
    const chart = page.locator("[data-chart]");
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 15_000 }).toBe("10");
    await expect.poll(() => badge.getAttribute("data-link"), { timeout: 10_000 }).toBe("live");
    // SIGSTOP: the process and its sockets stay, nothing is closed; only the missing pings tell
    process.kill(server.pid, "SIGSTOP");
    try {
      await expect.poll(() => badge.getAttribute("data-link"), { timeout: OFFLINE_WITHIN_MS, interval: 250 }).toBe("offline");
      expect(await page.locator(".live-note").innerText()).toMatch(/disconnected/i);
    } finally {
      process.kill(server.pid, "SIGCONT");
    }
    await log(id, 10, 15);
    await expect.poll(() => page.locator(".live-note").getAttribute("data-live"), { timeout: 30_000 }).toBe("caught-up");
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 10_000 }).toBe("15");
    expect(errors.filter((e) => !outageNoise(e))).toEqual([]);
    await page.close();
  });

  test("a revoked shared link: the page says so, stops claiming live, and does not blame the run for a missing epoch", async () => {
    const id = await newRun("revoked");
    await log(id, 0, 20);
    const made = (await api(server.url, "POST", `/api/v1/runs/${id}/shares`, {})).body as { id: number; token: string };
    const token = made.token;
    const { page, errors } = await browser.open(`${server.url}/share/${token}`);
    const badge = page.locator(".run-title [data-status]");
    const chart = page.locator("[data-chart]");
    await expect.poll(() => chart.getAttribute("data-points"), { timeout: 15_000 }).toBe("20");
    await expect.poll(() => badge.getAttribute("data-link"), { timeout: 10_000 }).toBe("live");

    expect((await api(server.url, "DELETE", `/api/v1/runs/${id}/shares/${made.id}`)).status).toBe(204);
    const note = page.locator(".live-note");
    await expect.poll(() => note.getAttribute("data-live"), { timeout: 10_000 }).toBe("revoked");
    expect(await note.isVisible()).toBe(true);
    expect(await note.innerText()).toMatch(/revoked/);
    expect(await badge.getAttribute("data-link")).toBe("revoked");
    expect(await badge.innerText()).toBe("link revoked");
    expect(await page.locator(".shared-note").count()).toBe(0); // no "It follows the run live"

    // the run goes on; the page no longer follows it
    await log(id, 20, 30);
    await api(server.url, "POST", `/api/v1/runs/${id}/finish`, { status: "finished" });
    // the epoch axis cannot be read through a revoked link: it says that, not "no epoch logged"
    await page.getByLabel("x axis").selectOption("epoch");
    await expect.poll(() => chart.locator(".chart-foot").innerText(), { timeout: 10_000 }).toMatch(/epoch series unavailable/);
    expect(await chart.locator(".chart-foot").innerText()).not.toMatch(/no epoch logged/);
    expect(await chart.getAttribute("data-points")).toBe("20");
    expect(await badge.getAttribute("data-status")).toBe("running");

    await page.screenshot({ path: "/tmp/babysit-revoked.png" });
    // the only errors: the link's API answering 404 once revoked
    expect(errors.filter((e) => !(e.includes("404") && e.includes(`/api/v1/shares/${token}`)))).toEqual([]);
    await page.close();
  });
});
