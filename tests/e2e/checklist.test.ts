import { describe, expect, test } from "vitest";
import { replayOf } from "../helpers/fixtures";
import { api } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The babysitting checklist on a run page in a real browser: a healthy run says what was checked,
// an overfitting one links its raised item to the alert, and a shared link shows the same list.

const env = serverAndBrowser({ env: { BABYSIT_EVAL_INTERVAL_MS: "200" } });

async function replayed(name: string): Promise<string> {
  const { config, batches } = replayOf(name);
  const created = await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-checklist", name, config });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  for (const [seq, b] of batches.entries()) expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/log`, { seq, ...b })).status).toBe(200);
  expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/finish`, { status: "finished" })).status).toBe(200);
  return id;
}

describe("checklist panel", () => {
  test("a healthy run shows what was checked: each item with an icon and its state in words, evidence, and the call for what is not checkable", async () => {
    const id = await replayed("healthy");
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const panel = page.locator('section[aria-label="checklist"]');
    await expect.poll(() => panel.count(), { timeout: 15_000 }).toBe(1);
    expect(await panel.getAttribute("data-checklist")).toBe("7/0/3");
    expect(await panel.locator("summary").innerText()).toBe("Checklist 7 passed, 0 raised, 3 not checkable");
    expect(await panel.locator("li[data-item]").count()).toBe(10);
    const initial = panel.locator('li[data-item="initial_loss"]');
    expect(await initial.getAttribute("data-state")).toBe("passed");
    expect(await initial.locator(".check-icon").innerText()).toBe("✓");
    expect(await initial.locator(".check-state").innerText()).toBe("passed"); // not colour alone
    expect(await initial.locator(".check-evidence").innerText()).toMatch(/^initial loss [\d.]+ vs ln 10 = 2\.3/);
    const filters = panel.locator('li[data-item="first_layer_filters"]');
    expect(await filters.getAttribute("data-state")).toBe("unknown");
    expect(await filters.locator(".check-state").innerText()).toBe("not checkable yet");
    expect(await filters.locator(".check-how code").innerText()).toBe('log_image("filters/conv1", filters_grid(model.conv1.weight))');
    expect(await panel.isVisible()).toBe(true);
    await page.screenshot({ path: "/tmp/babysit-checklist.png" });
    // no alert at all on this run, and the checklist still says something
    expect(await page.locator('section[aria-label="alerts"]').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  test("an overfitting run's raised item names its alert and leads to it; a shared link shows the same checklist", async () => {
    const id = await replayed("overfit");
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
    const item = page.locator('section[aria-label="checklist"] li[data-item="train_val"]');
    await expect.poll(() => item.getAttribute("data-state"), { timeout: 15_000 }).toBe("raised");
    expect(await item.locator(".check-icon").innerText()).toBe("!");
    expect(await item.locator(".check-state").innerText()).toBe("raised");
    const link = item.locator("button.check-alert");
    expect(await link.innerText()).toBe("overfitting");
    await link.click();
    const card = page.locator('section[aria-label="alerts"] article[data-code="overfitting"]');
    await expect
      .poll(() =>
        card.evaluate((el) => {
          const r = el.getBoundingClientRect();
          return r.top >= 0 && r.bottom <= window.innerHeight;
        }),
      )
      .toBe(true);
    expect(errors).toEqual([]);

    const made = await api(env.server.url, "POST", `/api/v1/runs/${id}/shares`, {});
    expect(made.status).toBe(201);
    const shared = await env.browser.open(`${env.server.url}/share/${made.body.token}`);
    const panel = shared.page.locator('section[aria-label="checklist"]');
    await expect.poll(() => panel.count(), { timeout: 15_000 }).toBe(1);
    expect(await panel.locator("summary").innerText()).toBe("Checklist 6 passed, 1 raised (overfitting), 3 not checkable");
    expect(await panel.locator('li[data-item="train_val"]').getAttribute("data-state")).toBe("raised");
    expect(shared.errors).toEqual([]);
  });
});
