import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ROOT, api, waitFor } from "../helpers/server";
import { serverAndBrowser } from "./browser";

// The run page's Logs tab in Chromium: a `babysit run` child's lines appear live as it prints them,
// the search filters by plain text (any case; regex characters and markup are only text), hostile
// text shows as text, 100k lines load and scroll without drawing 100k rows, and a shared page has
// no Logs tab.

const env = serverAndBrowser({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
const work = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-e2e-logs-"));
let child: ChildProcess | null = null;
afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  fs.rmSync(work, { recursive: true, force: true });
});

const HOSTILE = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script> (a+)+$ .* café`;

describe("Logs tab", () => {
  test("a babysit run child's output appears live; search filters; hostile text stays text", async () => {
    const flag = path.join(work, "go");
    const train = path.join(work, "train.py");
    fs.writeFileSync(
      train,
      [
        "import os, sys, time",
        'print("(Iteration 1 / 10) loss: 2.30", flush=True)',
        'print("Epoch warmup: READY", flush=True)',
        `while not os.path.exists(${JSON.stringify(flag)}):`,
        "    time.sleep(0.05)",
        'print("(Iteration 2 / 10) loss: 1.90", flush=True)',
        `print(${JSON.stringify(HOSTILE)}, flush=True)`,
        'print("the end is near", file=sys.stderr, flush=True)',
        `while os.path.exists(${JSON.stringify(flag)}):`,
        "    time.sleep(0.05)",
        "sys.exit(1)",
      ].join("\n"),
    );
    child = spawn(
      process.execPath,
      [path.join(ROOT, "scripts/babysit.mjs"), "run", "--url", env.server.url, "--project", "e2e-logs", "--", "/usr/bin/python3", train],
      {
        cwd: work,
        env: { ...process.env, BABYSIT_RUN_LOG_DIR: path.join(work, "run-logs") },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (c) => resolve(c)));
    const id = await waitFor(
      async () => (await api(env.server.url, "GET", "/api/v1/runs?project=e2e-logs")).body.runs?.[0]?.id as string,
      30_000,
      "the run",
    );

    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}#logs`);
    const view = page.getByTestId("logs-view");
    await expect
      .poll(() => view.locator(".log-line").allInnerTexts(), { timeout: 20_000 })
      .toEqual(["1(Iteration 1 / 10) loss: 2.30", "2Epoch warmup: READY"]);
    expect(await page.getByRole("tab", { name: "Logs" }).getAttribute("aria-selected")).toBe("true");

    fs.writeFileSync(flag, ""); // the child goes on: its next lines reach the open page live
    await expect.poll(() => view.locator(".log-line").count(), { timeout: 20_000 }).toBe(5);
    expect(await view.locator('.log-line[data-n="3"]').innerText()).toBe(`4${HOSTILE}`);
    expect(await view.locator(".log-line.stderr").innerText()).toBe("5the end is near");
    expect(await view.locator("img, script").count()).toBe(0);
    expect(await page.title()).not.toBe("pwned");
    await page.screenshot({ path: "/tmp/babysit-logs-tab.png" });

    const search = page.getByLabel("search the console output");
    for (const [q, want] of [
      ["ITERATION", ["(Iteration 1 / 10) loss: 2.30", "(Iteration 2 / 10) loss: 1.90"]],
      ["(a+)+$", [HOSTILE]],
      [".*", [HOSTILE]],
      ["<SCRIPT>", [HOSTILE]],
      ["Café", [HOSTILE]],
    ] as const) {
      await search.fill(q);
      await expect.poll(async () => (await view.locator(".log-line").allInnerTexts()).map((t) => t.replace(/^\d+/, ""))).toEqual(want);
    }
    await search.fill("no such text");
    await expect.poll(() => page.locator("[data-logs-none]").count()).toBe(1);
    await search.fill("");

    // the charts are a click away, and the line parsed live is on them
    await page.getByRole("tab", { name: "Charts" }).click();
    await expect.poll(() => page.locator("[data-chart]").count(), { timeout: 20_000 }).toBeGreaterThan(0);

    fs.rmSync(flag);
    expect(await exited).toBe(1);
    await expect.poll(() => page.locator(".run-head [data-status]").getAttribute("data-status"), { timeout: 20_000 }).toBe("crashed");
    expect(errors).toEqual([]);
  });

  test("100k lines: the tab loads them all, draws only what is in view, and searches them", async () => {
    const id = (await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-logs-big" })).body.id as string;
    const total = 100_000;
    for (let start = 0; start < total; start += 2000) {
      const lines = Array.from({ length: 2000 }, (_, i) => {
        const n = start + i;
        return { n, stream: "stdout", text: n % 10_000 === 1234 ? `needle at ${n}` : `step ${n} loss: ${(1 / (n + 1)).toFixed(6)}` };
      });
      expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/logs`, { lines })).status).toBe(200);
    }
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}#logs`);
    const count = page.locator("[data-logs-count]");
    await expect.poll(() => count.innerText(), { timeout: 60_000 }).toBe("100000 lines");
    const view = page.getByTestId("logs-view");
    expect(await view.locator(".log-line").count()).toBeLessThan(200); // virtual: only the rows in view
    // following the end: the last line is in view
    await expect.poll(() => view.locator(`.log-line[data-n="${total - 1}"]`).count()).toBe(1);
    await page.getByLabel("search the console output").fill("NEEDLE");
    await expect
      .poll(async () => (await view.locator(".log-line").allInnerTexts()).map((t) => t.replace(/^\d+/, "")), { timeout: 20_000 })
      .toEqual(Array.from({ length: 10 }, (_, k) => `needle at ${k * 10_000 + 1234}`));
    expect(await count.innerText()).toBe("10 lines of 100000 contain it");
    expect(errors).toEqual([]);
  });

  // a run may hold runLogLinesPerRun lines: the tab loaded every one (gigabytes at the limits) and
  // froze or killed the page; it keeps the last KEEP_LINES, says so, and follows the end live
  test("more lines than the tab keeps: the last 200,000 are loaded, the tab says the first are not, live lines still come", async () => {
    const id = (await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-logs-huge" })).body.id as string;
    const total = 230_000;
    for (let start = 0; start < total; start += 2000) {
      const lines = Array.from({ length: 2000 }, (_, i) => ({ n: start + i, stream: "stdout", text: `line ${start + i}` }));
      expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/logs`, { lines })).status).toBe(200);
    }
    const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}#logs`);
    const count = page.locator("[data-logs-count]");
    await expect.poll(() => count.innerText(), { timeout: 60_000 }).toBe("200000 lines");
    expect(await page.locator("[data-logs-cut]").innerText()).toContain("lines 1 to 30000 are not loaded here");
    const view = page.getByTestId("logs-view");
    await expect.poll(() => view.locator(`.log-line[data-n="${total - 1}"]`).count()).toBe(1);
    const more = Array.from({ length: 3 }, (_, i) => ({ n: total + i, stream: "stdout", text: `live ${i}` }));
    expect((await api(env.server.url, "POST", `/api/v1/runs/${id}/logs`, { lines: more })).status).toBe(200);
    await expect.poll(() => view.locator(`.log-line[data-n="${total + 2}"]`).count(), { timeout: 20_000 }).toBe(1);
    expect(await count.innerText()).toBe("200000 lines");
    expect(await page.locator("[data-logs-cut]").innerText()).toContain("lines 1 to 30003 are not loaded here");
    expect(errors).toEqual([]);
  });

  test("a shared link's page has no Logs tab", async () => {
    const id = (await api(env.server.url, "POST", "/api/v1/runs", { project: "e2e-logs-share" })).body.id as string;
    await api(env.server.url, "POST", `/api/v1/runs/${id}/logs`, { lines: [{ n: 0, stream: "stdout", text: "secret" }] });
    const share = await api(env.server.url, "POST", `/api/v1/runs/${id}/shares`, { expiresIn: "1d" });
    const { page, errors } = await env.browser.open(`${env.server.url}${share.body.url}`);
    await expect.poll(() => page.locator(".run-head").count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByRole("tab", { name: "Logs" }).count()).toBe(0);
    expect(await page.locator("body").innerText()).not.toContain("secret");
    expect(errors).toEqual([]);
  });
});
