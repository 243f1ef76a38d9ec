import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, startServer } from "../helpers/server";
import { type TeamServer, adminCli, as, login, startTeamServer } from "../helpers/team";
import { type Browser, launchBrowser } from "./browser";

// Team mode in a real browser: the dashboard sends you to /login, you log in and out from the top
// bar, an admin invites a member and makes an API key on /account (the key and the one-time
// password shown once), the key works for a script until revoked there, and the invited member
// logs in from another browser; then the admin disables, re-enables, promotes and deletes that
// account on /account (the last admin is kept), and the member's open dashboard says its session
// ended and leads to /login.

let server: TeamServer;
let browser: Browser;
let other: Browser;
beforeAll(async () => {
  [server, browser, other] = await Promise.all([startTeamServer(), launchBrowser(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await other?.close();
  server?.db.close();
  await server?.stop();
});

describe("team mode in the browser", () => {
  test("login, invite, API key made and revoked, logout; the invited member logs in elsewhere", async () => {
    const { page, errors } = await browser.open(`${server.url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.locator("form p[role=alert]").innerText()).toBe("wrong user name or password");
    errors.length = 0; // that 401 was the point
    await page.getByLabel("Password").fill(server.adminPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${server.url}/`);
    await expect.poll(() => page.locator(".topbar").innerText()).toMatch(/admin \(admin\)[\s\S]*Log out/);

    // /account: invite a member, make a key
    await page.locator(".account-link").click();
    await page.waitForURL(`${server.url}/account`);
    const accounts = page.getByRole("region", { name: "accounts" });
    await accounts.getByLabel("User name").fill("bob");
    await accounts.getByRole("button", { name: "Invite" }).click();
    const oneTime = await (async () => {
      await expect.poll(() => page.getByLabel("one-time password").count()).toBe(1);
      return page.getByLabel("one-time password").inputValue();
    })();
    expect(oneTime).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const bobRow = accounts.locator('.user-list tr[data-user="bob"]');
    await expect.poll(() => bobRow.innerText()).toMatch(/^bob\s+member\s+.+\s+admin\s+enabled\s+Make admin\s+Disable\s+Delete…$/);

    const keys = page.getByRole("region", { name: "API keys" });
    await keys.getByLabel("Name").fill("cluster jobs");
    await keys.getByLabel(/^Projects/).fill("vision");
    await keys.getByRole("button", { name: "Make a key" }).click();
    await expect.poll(() => page.getByLabel("new API key").count()).toBe(1);
    const token = await page.getByLabel("new API key").inputValue();
    expect(token).toMatch(/^bsk_[A-Za-z0-9_-]{43}$/);
    const row = keys.locator(".key-list tbody tr");
    await expect.poll(() => row.innerText()).toMatch(/cluster jobs\s+bsk_[\s\S]*…\s+admin\s+write: vision[\s\S]*never\s+Revoke/);
    expect(await row.innerText()).not.toContain(token);

    // the key works for a script, and after Revoke it does not
    const bearer = { authorization: `Bearer ${token}` };
    expect((await api(server.url, "POST", "/api/v1/runs", { project: "vision", name: "from-a-script" }, bearer)).status).toBe(201);
    await page.reload();
    await expect.poll(() => row.innerText()).not.toMatch(/last used\s+never/);
    await row.getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => row.innerText()).toMatch(/revoked$/);
    const refused = await api(server.url, "POST", "/api/v1/runs", { project: "vision" }, bearer);
    expect([refused.status, refused.body.error.code]).toEqual([401, "unauthenticated"]);

    // the run the key made is in the list; then log out: the dashboard is closed again
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator("body").innerText()).toContain("from-a-script");
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(`${server.url}/runs/x`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(errors).toEqual([]);

    // bob, in another browser, with the one-time password: a member sees no accounts section
    const bob = await other.open(`${server.url}/account`);
    expect(new URL(bob.page.url()).search).toBe("?next=%2Faccount");
    await bob.page.getByLabel("User name").fill("bob");
    await bob.page.getByLabel("Password").fill(oneTime);
    await bob.page.getByRole("button", { name: "Log in" }).click();
    await bob.page.waitForURL(`${server.url}/account`);
    await expect.poll(() => bob.page.locator("h1").innerText()).toMatch(/bob\s*member/);
    expect(await bob.page.getByRole("region", { name: "accounts" }).count()).toBe(0);
    expect(bob.errors).toEqual([]);

    // bob watches the runs list live; the admin, logged in again, disables bob on /account
    await bob.page.goto(`${server.url}/`);
    await expect.poll(() => bob.page.locator(".live-note").getAttribute("data-live")).toBe("live");
    await page.goto(`${server.url}/login`);
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill(server.adminPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${server.url}/`);
    await page.goto(`${server.url}/account`);
    await bobRow.getByRole("button", { name: "Disable" }).click();
    await expect.poll(() => bobRow.innerText()).toMatch(/\sdisabled\s+Make admin\s+Enable\s/);

    // bob's page says the session ended and leads to /login, back to where it was
    const note = bob.page.locator(".live-note");
    await expect.poll(() => note.getAttribute("data-live")).toBe("session-ended");
    expect(await note.innerText()).toMatch(/Your login session ended[\s\S]*Log in again$/);
    await note.getByRole("link", { name: "Log in again" }).click();
    await bob.page.waitForURL(`${server.url}/login?next=%2F`);
    await bob.page.getByLabel("User name").fill("bob");
    await bob.page.getByLabel("Password").fill(oneTime);
    await bob.page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => bob.page.locator("form p[role=alert]").innerText()).toBe("this account is disabled; ask an admin to enable it");
    bob.errors.length = 0; // that 403 was the point

    // enabled again and made an admin; the last admin cannot demote itself; then bob is deleted
    await bobRow.getByRole("button", { name: "Enable" }).click();
    await expect.poll(() => bobRow.innerText()).toMatch(/\senabled\s+Make admin\s+Disable\s/);
    await bobRow.getByRole("button", { name: "Make admin" }).click();
    await expect.poll(() => bobRow.innerText()).toMatch(/^bob\s+admin\s.*\sMake member\s/);
    // with bob an admin, admin may step down: the page reloads without the accounts section
    await accounts.locator('.user-list tr[data-user="admin"]').getByRole("button", { name: "Make member" }).click();
    await expect.poll(() => page.locator("h1").innerText()).toMatch(/admin\s*member/);
    expect(await accounts.count()).toBe(0);
    adminCli(server.dbPath, ["role", "admin", "admin"]);
    await page.reload();
    await expect.poll(() => bobRow.count()).toBe(1);
    await bobRow.getByRole("button", { name: "Make member" }).click();
    await expect.poll(() => bobRow.innerText()).toMatch(/^bob\s+member\s/);
    await accounts.locator('.user-list tr[data-user="admin"]').getByRole("button", { name: "Make member" }).click();
    await expect.poll(() => accounts.locator("p[role=alert]").innerText()).toMatch(/^admin is the last enabled admin and cannot be demoted/);
    expect(await accounts.locator('.user-list tr[data-user="admin"]').innerText()).toMatch(/^admin\s+admin\s/);
    await bobRow.getByRole("button", { name: "Delete…" }).click();
    await bobRow.getByRole("button", { name: "Delete bob for good" }).click();
    await expect.poll(() => bobRow.count()).toBe(0);
    // the one refusal, as the browser reports it
    const adminUrl = `${server.url}/api/v1/users/${(server.db.prepare("SELECT id FROM users WHERE name = 'admin'").get() as { id: number }).id}`;
    expect(errors).toEqual([
      `http 409: ${adminUrl}`,
      `console: Failed to load resource: the server responded with a status of 409 (Conflict) (${adminUrl})`,
    ]);
  });
});

describe("run ownership in the browser", () => {
  test("a member sees each run's owner, and Share and Delete only on the runs she owns", async () => {
    const admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
    const invite = await admin("POST", "/api/v1/users", { name: "carol" });
    expect(invite.status).toBe(201);
    const carolApi = as(server.url, { cookie: await login(server.url, "carol", invite.body.password) });
    const admins = (await admin("POST", "/api/v1/runs", { project: "own", name: "the-admins-run" })).body.id as string;
    const carols = (await carolApi("POST", "/api/v1/runs", { project: "own", name: "carols-run" })).body.id as string;

    const { page, errors } = await browser.open(`${server.url}/login`);
    await page.getByLabel("User name").fill("carol");
    await page.getByLabel("Password").fill(invite.body.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${server.url}/`);
    // the runs list has an owner column
    await expect.poll(() => page.locator(`tr[data-run="${admins}"] td.owner`).innerText()).toBe("admin");
    expect(await page.locator(`tr[data-run="${carols}"] td.owner`).innerText()).toBe("carol");
    // clicking an owner lists only that owner's runs (?owner=, kept in the URL)
    await page.locator(`tr[data-run="${admins}"] td.owner button`).click();
    await expect.poll(() => page.locator(`tr[data-run="${carols}"]`).count()).toBe(0);
    expect(await page.locator(`tr[data-run="${admins}"]`).count()).toBe(1);
    await expect.poll(() => new URL(page.url()).searchParams.get("owner")).toBe("admin");

    // another's run: its owner is shown; she may write (archive) but not share or delete it
    await page.goto(`${server.url}/runs/${admins}`);
    await expect.poll(() => page.locator(".run-meta [data-owner]").innerText()).toBe("owner admin");
    expect(await page.getByTestId("archive").count()).toBe(1);
    expect(await page.getByTestId("delete").count()).toBe(0);
    expect(await page.locator(".share-menu").count()).toBe(0);
    // (the server decides anyway)
    const refused = await page.evaluate(async (id) => {
      const r = await fetch(`/api/v1/runs/${id}`, { method: "DELETE", headers: { "content-type": "application/json" } });
      return [r.status, (await r.json()).error.code];
    }, admins);
    expect(refused).toEqual([403, "forbidden"]);
    errors.length = 0; // that 403 was the point

    // her own run: Share and Delete are there
    await page.goto(`${server.url}/runs/${carols}`);
    await expect.poll(() => page.locator(".run-meta [data-owner]").innerText()).toBe("owner carol");
    expect(await page.getByTestId("delete").count()).toBe(1);
    expect(await page.locator(".share-menu").count()).toBe(1);
    // she gives it to the admin: it is no longer hers to share or delete
    await page.getByLabel("give to").fill("admin");
    await page.getByLabel("give to").press("Enter");
    await expect.poll(() => page.locator(".run-meta [data-owner]").innerText()).toBe("owner admin");
    await expect.poll(() => page.getByTestId("delete").count()).toBe(0);
    expect(await page.locator(".share-menu").count()).toBe(0);
    expect(await page.getByLabel("give to").count()).toBe(0);
    expect((await admin("GET", `/api/v1/runs/${carols}`)).body.run.owner).toBe("admin");
    expect(errors).toEqual([]);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/login$/);
  });
});

describe("local mode in the browser", () => {
  test("/login says there is no login here, and the top bar has no account corner", async () => {
    const local = await startServer();
    try {
      const { page, errors } = await browser.open(`${local.url}/login`);
      await expect.poll(() => page.locator(".local-mode-note").innerText()).toMatch(/local mode: there are no accounts/);
      expect(await page.locator("form").isVisible()).toBe(false);
      await page.goto(`${local.url}/`);
      await expect.poll(() => page.locator(".topbar").innerText()).toMatch(/runs/);
      expect(await page.getByRole("button", { name: "Log out" }).count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await local.stop();
    }
  });
});
