import { describe, expect, test } from "vitest";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// Run management in a real browser: the runs list's search, tag and archived filters, chosen config
// and metric columns sorted by a click, bulk archive / tag / delete (delete asks first), all live;
// the run page's inline rename, tags, notes (shown as text, never HTML), archive and delete, and a
// page open on a run deleted elsewhere saying so.

const env = serverAndBrowser();
let seq = 0;
const JSON_TYPE = { "content-type": "application/json" };

async function newRun(project: string, name: string, config: Record<string, unknown> = {}) {
  const r = await api(env.server.url, "POST", "/api/v1/runs", { project, name, config });
  expect(r.status).toBe(201);
  return r.body.id as string;
}
async function log(id: string, values: number[]) {
  const rows = values.map((v, step) => ({ step, metrics: { "val/acc": v } }));
  expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows })).status).toBe(200);
}

describe("runs list management", () => {
  test("search, filter, sort by chosen columns, and act on picked runs, live", async () => {
    const a = await newRun("mgmt", "sweep-a", { lr: 0.1 });
    const b = await newRun("mgmt", "sweep-b", { lr: 0.001 });
    const c = await newRun("mgmt", "baseline", { lr: 0.01 });
    await log(a, [0.5, 0.9, 0.6]);
    await log(b, [0.7, 0.8]);
    await log(c, [0.2]);
    const { page, errors } = await env.browser.open(`${env.server.url}/?project=mgmt`);
    const names = () => page.locator("tbody tr td.name a").allInnerTexts();
    const row = (id: string) => page.locator(`tr[data-run="${id}"]`);
    await expect.poll(names).toEqual(["baseline", "sweep-b", "sweep-a"]);

    // search by name, as the user types
    await page.fill('input[aria-label="search runs"]', "SWEEP");
    await expect.poll(names).toEqual(["sweep-b", "sweep-a"]);
    await expect.poll(() => new URL(page.url()).searchParams.get("q")).toBe("SWEEP");
    await page.fill('input[aria-label="search runs"]', "");
    await expect.poll(names).toEqual(["baseline", "sweep-b", "sweep-a"]);

    // a config column and a metric column, sorted by a click (again: the other way)
    // (typed into the column picker's "other key" form: the picker opens first)
    const addColumn = async (kind: string, key: string) => {
      const picker = page.locator('[data-testid="column-picker"]');
      if (!(await picker.evaluate((d) => (d as HTMLDetailsElement).open))) await page.click('[data-testid="column-picker"] summary');
      await page.selectOption('select[aria-label="column kind"]', kind);
      await page.fill('input[aria-label="column key"]', key);
      await page.click('form:has(input[aria-label="column key"]) button[type="submit"]');
    };
    await addColumn("config", "lr");
    await addColumn("metric:max", "val/acc");
    // the picker lies over the list: Escape closes it, as a person would before sorting
    await page.keyboard.press("Escape");
    await expect.poll(() => page.locator('[data-testid="column-picker"]').evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await expect.poll(() => row(a).locator('td[data-column="lr"]').innerText()).toBe("0.1");
    await expect.poll(() => row(a).locator('td[data-column="val/acc"]').innerText()).toBe("0.9");
    await page.click('th[data-column="lr"] button:first-child');
    await expect.poll(names).toEqual(["sweep-b", "baseline", "sweep-a"]);
    await page.click('th[data-column="val/acc"] button:first-child');
    await page.click('th[data-column="val/acc"] button:first-child'); // descending: best first
    await expect.poll(names).toEqual(["sweep-a", "sweep-b", "baseline"]);
    expect(await page.locator('th[data-column="val/acc"]').getAttribute("aria-sort")).toBe("descending");
    // the chosen columns and their order survive a reload (they are in the URL)
    await page.reload();
    await expect.poll(() => row(a).locator('td[data-column="lr"]').innerText()).toBe("0.1");
    await expect.poll(names).toEqual(["sweep-a", "sweep-b", "baseline"]);
    expect(await page.locator('th[data-column="val/acc"]').getAttribute("aria-sort")).toBe("descending");

    // bulk: tag two runs, filter by the tag, archive them (they leave the default list), show archived
    await row(a).locator('input[type="checkbox"]').check();
    await row(b).locator('input[type="checkbox"]').check();
    await page.fill('input[aria-label="bulk tag"]', "sweep");
    await page.click('[data-testid="bulk"] button[type="submit"]');
    await expect.poll(() => row(a).locator('[data-tag="sweep"]').count()).toBe(1);
    await page.selectOption('select[aria-label="tag"]', "sweep");
    await expect.poll(() => names().then((n) => n.sort())).toEqual(["sweep-a", "sweep-b"]);
    await page.click('[data-testid="bulk"] button:has-text("archive") >> nth=0');
    await expect.poll(names).toEqual([]);
    await expect.poll(() => page.locator(".empty").innerText()).toContain("No runs match these filters");
    await page.selectOption('select[aria-label="archived"]', "true");
    await expect.poll(() => names().then((n) => n.sort())).toEqual(["sweep-a", "sweep-b"]);
    await page.selectOption('select[aria-label="archived"]', "false");
    await page.selectOption('select[aria-label="tag"]', "");
    await expect.poll(names).toEqual(["baseline"]);

    // a change made elsewhere shows at once: an API rename, an archive from another client
    const d = await newRun("mgmt", "late-comer", { lr: 0.5 });
    await expect.poll(() => row(d).count(), { timeout: 10_000 }).toBe(1);
    await api(env.server.url, "PATCH", `/api/v1/runs/${d}`, { name: "renamed elsewhere" });
    await expect.poll(() => row(d).locator("td.name a").innerText(), { timeout: 10_000 }).toBe("renamed elsewhere");

    // bulk delete asks first; cancel keeps the runs, confirm deletes them
    await page.selectOption('select[aria-label="archived"]', "all");
    await expect.poll(() => page.locator("tbody tr").count()).toBe(4);
    await page.click('input[aria-label="pick all shown runs"]');
    await row(c).locator('input[type="checkbox"]').uncheck();
    await page.click('[data-testid="bulk-delete"]');
    await page.click('[role="alertdialog"] button:has-text("cancel")');
    expect(await page.locator("tbody tr").count()).toBe(4);
    await page.click('[data-testid="bulk-delete"]');
    await page.click('[data-testid="confirm-delete"]');
    await expect.poll(names).toEqual(["baseline"]);
    for (const id of [a, b, d]) expect((await api(env.server.url, "GET", `/api/v1/runs/${id}`)).status).toBe(404);

    // a run deleted elsewhere leaves the list live
    await api(env.server.url, "DELETE", `/api/v1/runs/${c}`, undefined, JSON_TYPE);
    await expect.poll(() => row(c).count(), { timeout: 10_000 }).toBe(0);
    expect(errors.filter((e) => !e.includes("/api/v1/runs/"))).toEqual([]);
    await page.close();
  });
});

describe("run page header", () => {
  test("rename inline, tags, notes as plain text, archive, delete with confirmation", async () => {
    const id = await newRun("mgmt-page", "before");
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    await page.click('button[aria-label="rename run"]');
    await page.fill('input[aria-label="run name"]', "  after  ");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator(".run-title h1 bdi").innerText()).toBe("after");
    expect((await api(env.server.url, "GET", `/api/v1/runs/${id}`)).body.run.name).toBe("after");

    // a name the server refuses: its reason is shown, nothing changes
    await page.click('button[aria-label="rename run"]');
    await page.fill('input[aria-label="run name"]', "x".repeat(201));
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator('.rename [role="alert"]').innerText()).toContain("name must be at most 200 code points");
    await page.keyboard.press("Escape");
    expect((await api(env.server.url, "GET", `/api/v1/runs/${id}`)).body.run.name).toBe("after");

    await page.fill('input[aria-label="add tag"]', "keep");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator('.run-admin [data-tag="keep"]').count()).toBe(1);
    await page.fill('input[aria-label="add tag"]', "drop");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator('.run-admin [data-tag="drop"]').count()).toBe(1);
    await page.click('button[aria-label="remove tag drop"]');
    await expect.poll(() => page.locator(".run-admin [data-tag]").count()).toBe(1);
    expect((await api(env.server.url, "GET", `/api/v1/runs/${id}`)).body.run.tags).toEqual(["keep"]);

    // notes: markup stays text
    await page.click(".notes summary");
    await page.click('button:has-text("edit notes")');
    await page.fill('textarea[aria-label="notes"]', "lr too high?\n<img src=x onerror=alert(1)><b>bold</b>");
    await page.click('button:has-text("save notes")');
    await expect.poll(() => page.locator(".notes-text").innerText()).toBe("lr too high?\n<img src=x onerror=alert(1)><b>bold</b>");
    expect(await page.locator(".notes-text img, .notes-text b").count()).toBe(0);

    await page.click('[data-testid="archive"]');
    await expect.poll(() => page.locator("[data-archived]").count()).toBe(1);
    expect((await api(env.server.url, "GET", `/api/v1/runs/${id}`)).body.run.archived).toBe(true);
    await page.click('[data-testid="archive"]');
    await expect.poll(() => page.locator("[data-archived]").count()).toBe(0);

    // delete asks first
    await page.click('[data-testid="delete"]');
    await page.click('[role="alertdialog"] button:has-text("cancel")');
    expect((await api(env.server.url, "GET", `/api/v1/runs/${id}`)).status).toBe(200);
    await page.click('[data-testid="delete"]');
    await page.click('[data-testid="confirm-delete"]');
    await expect.poll(() => page.locator("[data-deleted]").innerText()).toContain("This run was deleted");
    expect((await api(env.server.url, "GET", `/api/v1/runs/${id}`)).status).toBe(404);
    // the refused rename's 400 is the one error the page met
    expect(errors.filter((e) => !e.includes(`400`))).toEqual([]);
    await page.close();
  });

  test("a page open on a run deleted elsewhere says so, live", async () => {
    const id = await newRun("mgmt-page", "doomed");
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    await expect.poll(() => page.locator(".run-title h1 bdi").innerText()).toBe("doomed");
    // whether the socket joined the run's room before the delete or after (then its refetch finds
    // the run gone), the page says it was deleted
    await api(env.server.url, "DELETE", `/api/v1/runs/${id}`, undefined, JSON_TYPE);
    await expect.poll(() => page.locator("[data-deleted]").count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('[data-testid="delete"]').count()).toBe(0);
    // (when the delete came first, the page's refetches of the run answered 404: that is how it knew)
    expect(errors.filter((e) => !e.includes(`/api/v1/runs/${id}`))).toEqual([]);
    await page.close();
  });
});
