import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TeamServer, startTeamServer } from "../helpers/team";
import { type Browser, launchBrowser } from "./browser";

// After a login the page goes to its `next` parameter only when that is a place on this server
// (lib/auth/next-path.ts). In a real browser, because the attack is what the browser's URL parser
// makes of the string: it drops tabs and newlines and reads `\` as `/`, so `/%09/evil.example`
// passed a check of the raw string and then opened http://evil.example/.

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

describe("where the login page goes afterwards", () => {
  test.each([
    // [what, the `next` query value exactly as a forged link carries it, the path the browser must end on]
    ["a tab between the slashes (the reported attack)", "/%09/evil.example/phish", "/"],
    ["a newline between the slashes", "/%0A/evil.example", "/"],
    ["a carriage return between the slashes", "/%0D/evil.example", "/"],
    ["a tab before two slashes", "%09//evil.example", "/"],
    ["scheme-relative", "//evil.example/x", "/"],
    ["a backslash after the slash", "/%5Cevil.example", "/"],
    ["two backslashes", "%5C%5Cevil.example", "/"],
    ["an absolute URL of another site", "http://evil.example/", "/"],
    ["javascript:", "javascript:alert(document.domain)", "/"],
    ["a place on this server", "/account", "/account"],
    ["no next at all", null, "/"],
  ])("%s (next=%s) ends on %s of this server", async (_what, next, path) => {
    const { page, errors } = await browser.open(`${server.url}/login${next === null ? "" : `?next=${next}`}`);
    const elsewhere: string[] = [];
    await page.route(/^(?!http:\/\/127\.0\.0\.1)/, (route) => {
      elsewhere.push(route.request().url());
      return route.fulfill({ status: 200, contentType: "text/html", body: "<h1>attacker page</h1>" });
    });
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill(server.adminPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((u) => u.origin !== server.url || u.pathname !== "/login");
    expect([page.url(), elsewhere]).toEqual([`${server.url}${path}`, []]);
    await expect.poll(() => page.locator(".topbar").innerText()).toMatch(/admin \(admin\)/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
