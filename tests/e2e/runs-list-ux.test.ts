import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";
import { type Browser, launchBrowser, serverAndBrowser } from "./browser";

// The runs list as a fresh user met it (issue #9 §4 review), in a real browser: config filters in
// the URL shown as removable chips (exact value and range), a sort menu that offers and shows config
// and metric sorts, a column picker listing the project's keys whose choice stays per project
// across navigation, plurals; and in team mode the empty list's curl with a key, copy buttons for
// one-time secrets, the server's shared links on /account and the notice after a password change.

const env = serverAndBrowser();
let seq = 0;

async function newRun(project: string, name: string, config: Record<string, unknown>, acc: number) {
  const r = await api(env.server.url, "POST", "/api/v1/runs", { project, name, config });
  expect(r.status).toBe(201);
  const rows = [{ step: 0, metrics: { "val/acc": acc } }];
  expect((await api(env.server.url, "POST", `/api/v1/runs/${r.body.id}/log`, { seq: seq++, rows })).status).toBe(200);
  return r.body.id as string;
}

describe("runs list: config filters, sorts, columns", () => {
  test("config filters come from the URL as chips, are added and removed on the page, and a link reproduces the view", async () => {
    await newRun("cfg", "small", { lr: 0.001, optimizer: "sgd" }, 0.2);
    await newRun("cfg", "mid", { lr: 0.05, optimizer: "adam" }, 0.9);
    await newRun("cfg", "big", { lr: 1, optimizer: "adam" }, 0.4);
    const { page, errors } = await env.browser.open(`${env.server.url}/?project=cfg&config.lr=0.01..0.1`);
    const names = () => page.locator("tbody tr td.name a").allInnerTexts();
    await expect.poll(names).toEqual(["mid"]);
    const chip = page.locator('[data-config-filter="lr"]');
    expect(await chip.innerText()).toContain("lr in 0.01..0.1");
    expect(await page.locator("[data-total]").innerText()).toBe("1 run");

    // removed: every run, and the URL forgets it
    await page.click('button[aria-label="remove filter lr"]');
    await expect.poll(names).toEqual(["big", "mid", "small"]);
    await expect.poll(() => new URL(page.url()).searchParams.has("config.lr")).toBe(false);

    // added on the page: an exact text value, then a range from one side
    await page.fill('input[aria-label="config filter key"]', "optimizer");
    await page.fill('input[aria-label="config filter value"]', "adam");
    await page.click('[data-testid="config-filters"] button[type="submit"]');
    await expect.poll(names).toEqual(["big", "mid"]);
    await page.fill('input[aria-label="config filter key"]', "lr");
    await page.fill('input[aria-label="config filter value"]', "0.5..");
    await page.click('[data-testid="config-filters"] button[type="submit"]');
    await expect.poll(names).toEqual(["big"]);
    expect(await page.locator('[data-config-filter="lr"]').innerText()).toContain("lr ≥ 0.5");
    const link = page.url();
    expect(new URL(link).searchParams.get("config.optimizer")).toBe("adam");
    expect(new URL(link).searchParams.get("config.lr")).toBe("0.5..");

    // the link, opened anew, shows the same list
    const again = await env.browser.open(link);
    await expect.poll(() => again.page.locator("tbody tr td.name a").allInnerTexts()).toEqual(["big"]);
    expect(again.errors).toEqual([]);
    await again.page.close();

    // a value the server refuses says why
    await page.fill('input[aria-label="config filter key"]', "lr");
    await page.fill('input[aria-label="config filter value"]', "1..0");
    await page.click('[data-testid="config-filters"] button[type="submit"]');
    await expect.poll(() => page.locator('[data-testid="list-error"]').innerText()).toContain("must be a range from low to high");
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.includes("400"))).toBe(true); // that refusal, and nothing else
    await page.close();
  });

  test("the sort menu offers the list's orders, the shown columns and more…, and shows the one a column header chose", async () => {
    await newRun("srt", "r-low", { lr: 0.1 }, 0.3);
    await newRun("srt", "r-high", { lr: 0.01 }, 0.95);
    await newRun("srt", "r-mid", { lr: 0.05 }, 0.6);
    const { page, errors } = await env.browser.open(`${env.server.url}/?project=srt`);
    const names = () => page.locator("tbody tr td.name a").allInnerTexts();
    await expect.poll(names).toEqual(["r-mid", "r-high", "r-low"]);
    const sort = page.locator('select[aria-label="sort"]');
    // never every key of the project (73 options after one watch() run): a key is sorted by once
    // it is a column, which "more…" picks
    expect(await sort.locator("option").allInnerTexts()).toEqual(["newest first", "oldest first", "name", "more… (pick a column)"]);
    await sort.selectOption({ label: "more… (pick a column)" });
    const picker = page.locator('[data-testid="column-picker"]');
    await expect.poll(() => picker.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("search keys");
    expect(await sort.locator("option:checked").innerText()).toBe("newest first");
    await picker.getByLabel("column metric val/acc last").check();
    await expect.poll(() => sort.locator("option").allInnerTexts()).toContain("val/acc (last): high to low");
    await page.keyboard.press("Escape");
    await expect.poll(() => picker.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await sort.selectOption({ label: "val/acc (last): high to low" });
    await expect.poll(names).toEqual(["r-high", "r-mid", "r-low"]);
    // the sort became a column, and the menu says what the list is sorted by
    await expect.poll(() => page.locator('th[data-column="val/acc"]').getAttribute("aria-sort")).toBe("descending");
    expect(await sort.locator("option:checked").innerText()).toBe("val/acc (last): high to low");
    // a click on the header (low to high) shows in the menu too
    await page.click('th[data-column="val/acc"] button:first-child');
    await expect.poll(() => page.locator('th[data-column="val/acc"]').getAttribute("aria-sort")).toBe("none");
    await expect.poll(() => sort.locator("option:checked").innerText()).toBe("newest first");
    await page.click('th[data-column="val/acc"] button:first-child');
    await expect.poll(names).toEqual(["r-low", "r-mid", "r-high"]);
    await expect.poll(() => sort.locator("option:checked").innerText()).toBe("val/acc (last): low to high");
    await sort.selectOption("name");
    await expect.poll(() => page.locator('th[data-column="val/acc"]').getAttribute("aria-sort")).toBe("none");
    await expect.poll(names).toEqual(["r-high", "r-low", "r-mid"]);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("the column picker lists the project's keys; chosen columns stay with the project across navigation", async () => {
    const id = await newRun("cols", "c1", { lr: 0.1, "batch size": 64 }, 0.7);
    await newRun("cols-other", "o1", { momentum: 0.9 }, 0.1);
    const { page, errors } = await env.browser.open(`${env.server.url}/?project=cols`);
    await page.click('[data-testid="column-picker"] summary');
    const picker = page.locator('[data-testid="column-picker"]');
    await expect
      .poll(() => picker.locator("[data-key-option]").evaluateAll((els) => els.map((e) => e.getAttribute("data-key-option"))))
      .toEqual(["batch size", "lr", "val/acc"]);
    await picker.getByLabel("column config lr").check();
    await picker.getByLabel("column metric val/acc max").check();
    const row = page.locator(`tr[data-run="${id}"]`);
    await expect.poll(() => row.locator('td[data-column="lr"]').innerText()).toBe("0.1");
    await expect.poll(() => row.locator('td[data-column="val/acc"]').innerText()).toBe("0.7");
    // a key logged since shows up when the picker is opened again
    const more = await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows: [{ step: 1, metrics: { "train/loss": 0.3 } }] });
    expect(more.status).toBe(200);
    await page.click('[data-testid="column-picker"] summary'); // closed
    await page.click('[data-testid="column-picker"] summary'); // opened again
    await expect.poll(() => picker.locator('[data-key-option="train/loss"]').count()).toBe(1);

    // to the run's page and back by the top bar's link (no columns in that URL): still there
    await page.click(`tr[data-run="${id}"] td.name a`);
    await page.waitForURL(`**/runs/${id}`);
    await page.goto(`${env.server.url}/?project=cols`);
    await expect.poll(() => page.locator(`tr[data-run="${id}"] td[data-column="lr"]`).innerText()).toBe("0.1");
    expect(await page.locator("th.col").count()).toBe(2);
    // another project has its own (none yet); coming back brings these again
    await page.selectOption('select[aria-label="project"]', "cols-other");
    await expect.poll(() => page.locator("th.col").count()).toBe(0);
    await page.selectOption('select[aria-label="project"]', "cols");
    await expect.poll(() => page.locator("th.col").count()).toBe(2);
    // removed: gone after a reload too
    await page.click('button[aria-label="remove column lr"]');
    await page.goto(`${env.server.url}/?project=cols`);
    await expect.poll(() => page.locator("th.col").count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("one picked run reads in the singular", async () => {
    const id = await newRun("one", "solo", {}, 0.5);
    const { page, errors } = await env.browser.open(`${env.server.url}/?project=one`);
    await page.click(`tr[data-run="${id}"] input[type="checkbox"]`);
    await page.click('[data-testid="bulk-delete"]');
    await expect.poll(() => page.locator('[aria-label="confirm delete"]').innerText()).toMatch(/^Delete 1 run and all its data\?/);
    expect(await page.locator("[data-total]").innerText()).toBe("1 run");
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("team mode: the account's one-time secrets, shared links, password change, first run", () => {
  let server: TeamServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startTeamServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    server?.db.close();
    await server?.stop();
  });

  test("curl with a key on the empty list, copy buttons, every shared link on /account, and a notice after a password change", async () => {
    const { page, errors } = await browser.open(`${server.url}/login`);
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill(server.adminPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${server.url}/`);
    const curl = page.locator('[data-testid="first-run-curl"]');
    await expect.poll(() => curl.innerText()).toContain('-H "Authorization: Bearer $BABYSIT_API_KEY"');
    expect(await page.locator(".empty a[href='/account']").count()).toBe(1);

    // a member's link and the admin's own, made over the API
    const adminApi = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
    const invited = await adminApi("POST", "/api/v1/users", { name: "mia" });
    const mia = as(server.url, { cookie: await login(server.url, "mia", invited.body.password) });
    const run = (await mia("POST", "/api/v1/runs", { project: "t", name: "shared-run" })).body.id;
    const link = (await mia("POST", `/api/v1/runs/${run}/shares`, {})).body;

    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.goto(`${server.url}/account`);
    const shared = page.getByRole("region", { name: "shared links" });
    await expect.poll(() => shared.locator(`tr[data-share="${link.id}"]`).innerText()).toMatch(/shared-run \(t\)\s+\S{6}…\s+mia/);
    expect(await shared.innerText()).not.toContain(link.token);

    // a new key: copied with one click
    const keys = page.getByRole("region", { name: "API keys" });
    await keys.getByLabel("Name").fill("laptop");
    await keys.getByRole("button", { name: "Make a key" }).click();
    const token = await (async () => {
      await expect.poll(() => page.getByLabel("new API key").count()).toBe(1);
      return page.getByLabel("new API key").inputValue();
    })();
    await keys.locator("[data-copy]").click();
    await expect.poll(() => keys.locator("[data-copy]").innerText()).toBe("copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    // the form's default expiry is the API's: 90 days
    expect(await keys.locator('select[name="expiry"]').inputValue()).toBe("90");

    // an invite's one-time password too
    const accounts = page.getByRole("region", { name: "accounts" });
    await accounts.getByLabel("User name").fill("bo");
    await accounts.getByRole("button", { name: "Invite" }).click();
    await expect.poll(() => page.getByLabel("one-time password").count()).toBe(1);
    const oneTime = await page.getByLabel("one-time password").inputValue();
    await accounts.locator("[data-copy]").click();
    await expect.poll(() => accounts.locator("[data-copy]").innerText()).toBe("copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(oneTime);

    // revoked from the list: gone, and the link answers 404
    await shared.getByRole("button", { name: `revoke link ${link.prefix}` }).click();
    await expect.poll(() => shared.locator(`tr[data-share="${link.id}"]`).count()).toBe(0);
    expect((await fetch(`${server.url}/api/v1/shares/${link.token}`)).status).toBe(404);

    // a password change lands on /login, which says why
    const pw = page.getByRole("region", { name: "password" });
    await pw.getByLabel("Current password").fill(server.adminPassword);
    await pw.getByLabel(/^New password/).fill("a-brand-new-password");
    await pw.getByRole("button", { name: "Change" }).click();
    await page.waitForURL(/\/login/);
    await expect.poll(() => page.getByRole("status").innerText()).toContain("Password changed");
    expect(errors).toEqual([]);
  });
});
