import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// Shared run links in a real browser: made from the run page's Share menu, opened in another page
// that shows the run read-only and live while reading nothing but the link's own API, and closed
// for good when revoked.

const env = serverAndBrowser();
let seq = 0;

async function log(id: string, from: number, to: number) {
  const rows = Array.from({ length: to - from }, (_, i) => ({ step: from + i, metrics: { "train/loss": 2 / (1 + (from + i) / 10) } }));
  expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows })).status).toBe(200);
}

describe("shared run links", () => {
  test("made on the run page, opened read-only and live, revoked", async () => {
    const id = (await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-share", name: "shared-run", config: { lr: 0.1 } })).body
      .id as string;
    await log(id, 0, 40);

    // the owner makes a link from the Share menu
    const owner = await env.browser.open(`${env.server.url}/runs/${id}`);
    await owner.page.locator(".share-menu > summary").click();
    expect(await owner.page.getByLabel("link expiry").inputValue()).toBe("7d"); // the default
    await owner.page.getByLabel("link expiry").selectOption("1d");
    await owner.page.getByRole("button", { name: "Create a link" }).click();
    const field = owner.page.locator(".share-fresh input");
    await expect.poll(() => field.count(), { timeout: 10_000 }).toBe(1);
    const link = await field.inputValue();
    expect(link).toMatch(new RegExp(`^${env.server.url}/share/[A-Za-z0-9_-]{22}$`));
    const token = link.split("/").at(-1)!;
    // listed by its first characters, with its expiry; the full link is shown this once only
    const item = owner.page.locator(".share-list li");
    expect(await item.innerText()).toMatch(new RegExp(`^${token.slice(0, 6)}…[^]*by you[^]*expires[^]*never opened`));
    expect(await item.innerText()).not.toContain(token);
    await owner.page.screenshot({ path: "/tmp/babysit-share-menu.png" });

    // someone else opens it: the run, its chart, no way into the rest of the dashboard
    const guest = await env.browser.open(link);
    const page = guest.page;
    expect(await page.locator("h1").innerText()).toBe("shared-run");
    expect(await page.locator("[data-shared]").count()).toBe(1);
    expect(await page.locator(".shared-note").innerText()).toMatch(/read-only/);
    expect(await page.locator(".share-menu").count()).toBe(0);
    expect(await page.locator(".topbar").innerText()).toMatch(/shared run/);
    expect(await page.locator("a").count()).toBe(0); // no link into the dashboard, not even the brand
    expect(await page.locator(".run-meta a").count()).toBe(0); // the project is not a link to the runs list
    const loss = page.locator("[data-chart]"); // the one chart: train/loss
    await expect.poll(() => loss.getAttribute("data-points"), { timeout: 15_000 }).toBe("40");

    // live, through the link's socket room
    await log(id, 40, 60);
    await expect.poll(() => loss.getAttribute("data-points"), { timeout: 10_000 }).toBe("60");
    await api(env.server.url, "POST", `/api/v1/runs/${id}/finish`, { status: "finished" });
    await expect.poll(() => page.locator(".run-title [data-status]").getAttribute("data-status"), { timeout: 10_000 }).toBe("finished");

    await page.screenshot({ path: "/tmp/babysit-shared-page.png", fullPage: true });

    // everything the shared page fetched went through the link
    const urls = (await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name))).map((u) => new URL(u).pathname);
    const apiCalls = urls.filter((p) => p.startsWith("/api/"));
    expect(apiCalls.length).toBeGreaterThan(0);
    expect(apiCalls.filter((p) => !p.startsWith(`/api/v1/shares/${token}`))).toEqual([]);
    expect(guest.errors).toEqual([]);

    // the owner revokes it: the link opens nothing any more
    await owner.page.getByRole("button", { name: "revoke" }).click();
    await expect.poll(() => owner.page.locator(".share-list li").count()).toBe(0);
    expect(await owner.page.locator(".share-fresh").count()).toBe(0);
    // the guest's page is told at once
    await expect.poll(() => page.locator("[data-live]").getAttribute("data-live"), { timeout: 10_000 }).toBe("revoked");
    // a page still open on it stops following the run: the owner's chart grows, the guest's does not
    await log(id, 60, 70);
    await expect.poll(() => owner.page.locator("[data-chart]").getAttribute("data-points"), { timeout: 10_000 }).toBe("70");
    expect(await loss.getAttribute("data-points")).toBe("60");
    const again = await env.browser.open(link);
    expect(await again.page.locator("[data-share-missing] h1").innerText()).toMatch(/does not open anything/);
    expect(await again.page.locator("a").count()).toBe(0);
    expect(again.errors).toContain(`http 404: ${link}`); // the page itself, and nothing else
    expect(again.errors.filter((e) => !(e.includes("404") && e.endsWith(`${link})`)) && e !== `http 404: ${link}`)).toEqual([]);
    expect(owner.errors).toEqual([]);
    await Promise.all([owner.page.close(), page.close(), again.page.close()]);
  });

  test("an expiring link: the open page says so live, a fresh visit sees the expired page", async () => {
    const id = (await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-share", name: "expiring-run" })).body.id as string;
    await log(id, 0, 10);
    const made = (await api(env.server.url, "POST", `/api/v1/runs/${id}/shares`, { expiresIn: "1d" })).body;
    const guest = await env.browser.open(`${env.server.url}${made.url}`);
    expect(await guest.page.locator("h1").innerText()).toBe("expiring-run");
    // the link runs out a second from now (a day is too long for a test)
    const db = new Database(env.server.dbPath);
    db.pragma("busy_timeout = 5000");
    db.prepare("UPDATE shares SET expires_at = ? WHERE id = ?").run(Date.now() / 1000 + 1, made.id);
    db.close();
    await guest.page.reload();
    await expect.poll(() => guest.page.locator("[data-live]").getAttribute("data-live"), { timeout: 15_000 }).toBe("expired");
    expect(await guest.page.locator(".live-note").innerText()).toMatch(/has expired/);
    const fresh = await env.browser.open(`${env.server.url}${made.url}`);
    expect(await fresh.page.locator("[data-share-expired] h1").innerText()).toBe("This link has expired");
    expect(await fresh.page.locator("a").count()).toBe(0);
    await Promise.all([guest.page.close(), fresh.page.close()]);
  });
});
