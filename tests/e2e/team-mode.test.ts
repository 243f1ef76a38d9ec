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
    // when it was revoked, not only that it was
    await expect.poll(() => row.innerText()).toMatch(/revoked \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
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

    // bob, in another browser, with the one-time password: it works once. Any page he asks for
    // sends him to /account, which only asks for his own password
    const bob = await other.open(`${server.url}/`);
    expect(new URL(bob.page.url()).search).toBe("?next=%2F");
    await bob.page.getByLabel("User name").fill("bob");
    await bob.page.getByLabel("Password").fill(oneTime);
    await bob.page.getByRole("button", { name: "Log in" }).click();
    await bob.page.waitForURL(`${server.url}/account?password=required`);
    await expect.poll(() => bob.page.locator(".password-required").innerText()).toMatch(/^You logged in with a one-time password\. Choose your own/);
    expect(await bob.page.getByRole("region", { name: "API keys" }).count()).toBe(0);
    await bob.page.goto(`${server.url}/runs/anything`);
    await bob.page.waitForURL(`${server.url}/account?password=required`);
    await bob.page.getByLabel("One-time password").fill(oneTime);
    await bob.page.getByLabel(/^New password/).fill("bob's own password");
    await bob.page.getByRole("button", { name: "Set my password" }).click();
    await bob.page.waitForURL(`${server.url}/login?changed=password`);
    await bob.page.getByLabel("User name").fill("bob");
    await bob.page.getByLabel("Password").fill(oneTime);
    await bob.page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => bob.page.locator("form p[role=alert]").innerText()).toBe("wrong user name or password");
    bob.errors.length = 0; // that 401 was the point: the one-time password is spent
    await bob.page.getByLabel("Password").fill("bob's own password");
    await bob.page.getByRole("button", { name: "Log in" }).click();
    await bob.page.waitForURL(`${server.url}/`);
    // a member sees no accounts section
    await bob.page.goto(`${server.url}/account`);
    await expect.poll(() => bob.page.locator("h1").innerText()).toMatch(/bob\s*member/);
    await expect.poll(() => bob.page.getByRole("region", { name: "API keys" }).count()).toBe(1);
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
    await bob.page.getByLabel("Password").fill("bob's own password");
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
  test("a member sees each run's owner; Share and Delete greyed out on others' runs, saying who may; give-to asks first", async () => {
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
    expect(await page.getByTestId("delete").isDisabled()).toBe(true);
    expect(await page.getByTestId("share-disabled").isDisabled()).toBe(true);
    expect(await page.getByTestId("share-disabled").getAttribute("title")).toBe("only the run's owner (admin) or an admin can share this run");
    expect(await page.locator("[data-owner-only]").innerText()).toBe("only the run's owner (admin) or an admin can share or delete this run");
    expect(await page.locator(".share-menu").count()).toBe(0);
    expect(await page.getByLabel("give to").count()).toBe(0);
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
    expect(await page.getByTestId("delete").isEnabled()).toBe(true);
    expect(await page.locator(".share-menu").count()).toBe(1);
    // give to: a picker of the account names (no guessing), a Give button, and a confirmation
    const picker = page.getByLabel("give to");
    await expect.poll(() => picker.locator("option").allInnerTexts()).toEqual(["give to…", "admin"]);
    expect(await page.getByTestId("give").isDisabled()).toBe(true);
    await picker.selectOption("admin");
    await page.getByTestId("give").click();
    const confirm = page.getByRole("alertdialog", { name: "confirm give" });
    expect((await confirm.textContent())?.replace(/\s+/g, " ")).toMatch(
      /^Give this run to admin\? You will no longer be able to share, give or delete it: only admin and admins will/,
    );
    // cancel changes nothing
    await confirm.getByRole("button", { name: "cancel" }).click();
    expect((await admin("GET", `/api/v1/runs/${carols}`)).body.run.owner).toBe("carol");
    await picker.selectOption("admin");
    await page.getByTestId("give").click();
    await page.getByTestId("confirm-give").click();
    // it is no longer hers to share or delete
    await expect.poll(() => page.locator(".run-meta [data-owner]").innerText()).toBe("owner admin");
    await expect.poll(() => page.getByTestId("delete").isDisabled()).toBe(true);
    expect(await page.locator(".share-menu").count()).toBe(0);
    expect(await page.getByLabel("give to").count()).toBe(0);
    expect((await admin("GET", `/api/v1/runs/${carols}`)).body.run.owner).toBe("admin");
    expect(errors).toEqual([]);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/login$/);
  });
});

describe("runs without an owner, bulk refusals and shared links in the browser", () => {
  test("a deleted account's run says who manages it; a refused bulk delete names the runs and keeps them picked; a shared page tells its expiry and its revocation", async () => {
    const admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
    const invite = await admin("POST", "/api/v1/users", { name: "dave" });
    const daveApi = as(server.url, { cookie: await login(server.url, "dave", invite.body.password) });
    const orphan = (await daveApi("POST", "/api/v1/runs", { project: "gone", name: "daves-run" })).body.id as string;
    expect((await admin("DELETE", `/api/v1/users/${invite.body.user.id}`)).status).toBe(204);
    const erin = await admin("POST", "/api/v1/users", { name: "erin" });
    const erinApi = as(server.url, { cookie: await login(server.url, "erin", erin.body.password) });
    const erins = (await erinApi("POST", "/api/v1/runs", { project: "gone", name: "erins-run" })).body.id as string;

    const { page, errors } = await browser.open(`${server.url}/login`);
    await page.getByLabel("User name").fill("erin");
    await page.getByLabel("Password").fill(erin.body.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${server.url}/`);
    await page.goto(`${server.url}/?project=gone`);
    const orphanOwner = page.locator(`tr[data-run="${orphan}"] td.owner`);
    await expect.poll(() => orphanOwner.innerText()).toBe("no owner (admins manage it)");
    expect(await orphanOwner.locator("span").getAttribute("title")).toMatch(/owner's account was deleted: only admins share, give or delete it$/);

    // a bulk delete of her run and the ownerless one: refused whole, named by name, nothing unpicked
    await page.getByLabel("pick daves-run").check();
    await page.getByLabel("pick erins-run").check();
    await page.click('[data-testid="bulk-delete"]');
    await page.click('[data-testid="confirm-delete"]');
    const alert = page.locator('[data-testid="bulk"] [role=alert]');
    await expect
      .poll(() => alert.innerText())
      .toBe(
        `Nothing was changed: 1 of the 2 runs are refused (only a run's owner or an admin deletes it): "daves-run" (no owner). They are still selected: unselect them to go on with the others.`,
      );
    expect(await alert.innerText()).not.toContain(orphan);
    expect(await page.getByLabel("pick daves-run").isChecked()).toBe(true);
    expect(await page.getByLabel("pick erins-run").isChecked()).toBe(true);
    expect((await admin("GET", `/api/v1/runs/${erins}`)).status).toBe(200);
    errors.length = 0; // that 403 was the point

    // the run page: the same words, and Delete greyed out saying only an admin may
    await page.goto(`${server.url}/runs/${orphan}`);
    await expect.poll(() => page.locator(".run-meta [data-owner]").innerText()).toBe("no owner (admins manage it)");
    expect(await page.getByTestId("delete").getAttribute("title")).toBe("only an admin can delete this run (it has no owner)");

    // a shared link says when it stops opening; revoked (by an admin), it says it was revoked
    const made = await erinApi("POST", `/api/v1/runs/${erins}/shares`, { expiresIn: "7d" });
    expect(made.status).toBe(201);
    const shared = await other.open(`${server.url}/share/${made.body.token}`);
    const expires = shared.page.locator("[data-share-expires]");
    await expect.poll(() => expires.innerText()).toMatch(/^This link expires on \d{4}-\d{2}-\d{2} \d{2}:\d{2}\.$/);
    expect(Number(await expires.getAttribute("data-share-expires"))).toBeCloseTo(made.body.expiresAt, 0);
    const forever = await erinApi("POST", `/api/v1/runs/${erins}/shares`, { expiresIn: "never" });
    await shared.page.goto(`${server.url}/share/${forever.body.token}`);
    await expect.poll(() => expires.innerText()).toBe("This link does not expire.");
    expect((await admin("DELETE", `/api/v1/runs/${erins}/shares/${forever.body.id}`)).status).toBe(204);
    await shared.page.goto(`${server.url}/share/${forever.body.token}`);
    await expect.poll(() => shared.page.locator("[data-share-missing] p").innerText()).toMatch(/^This link was revoked, or it never existed\./);
    expect(await shared.page.locator("body").innerText()).not.toContain("run's owner");
    shared.errors.length = 0; // the 404 was the point
    expect(errors).toEqual([]);
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
