import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FIXTURES, metricsJsonl } from "../helpers/fixtures";
import { unpackTb } from "../helpers/import-fixtures";
import { api } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";
import { type Browser, launchBrowser, serverAndBrowser } from "./browser";

// Importing logs from the runs list in Chromium: a real TensorBoard folder (torch's, with its
// hparams sub-run) chosen with the folder picker and a Keras CSV dropped on the list become runs
// as `babysit import` makes them, with progress per file and overall and a summary with links; the
// imported run's page draws its charts. A damaged event file is refused with its reason and leaves
// nothing behind.

const env = serverAndBrowser();

const KERAS_CSV = "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.2,0.45,1.3\n1,0.6,0.9,0.55,1.0\n2,0.7,0.7,0.6,0.9\n";

function scalarCount(run: string): number {
  return metricsJsonl(run)
    .split("\n")
    .filter((l) => l.includes('"kind": "scalar"') || l.includes('"kind":"scalar"')).length;
}

async function runsNamed(name: string) {
  const r = await api(env.server.url, "GET", "/api/v1/runs?limit=1000");
  expect(r.status).toBe(200);
  return (r.body.runs as { id: string; name: string; project: string; status: string }[]).filter((x) => x.name === name);
}

describe("importing logs from the runs list", () => {
  // a folder named by its hyperparameters past runNameMaxLength had every file refused (the run's
  // name is its path); a file name that is markup is text; an empty file is a run with no points
  test("odd folders and file names: every file imported, names as the API takes them, markup shown as text", async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-odd-"));
    const root = path.join(top, "odd");
    const long = "lr_0.001_bs_128_wd_".repeat(10);
    fs.mkdirSync(path.join(root, long, long), { recursive: true });
    fs.writeFileSync(path.join(root, long, long, "m.csv"), "step,loss\n0,1\n");
    const markup = `<img src=x onerror="document.title='pwned'">.csv`;
    fs.writeFileSync(path.join(root, markup), "step,loss\n0,1\n");
    fs.writeFileSync(path.join(root, "empty.csv"), "");
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, `m${i}.csv`), `step,loss\n0,${i}\n`);
    const { page, errors } = await env.browser.open(env.server.url);
    await page.getByTestId("import-open").click();
    await page.locator('input[aria-label="import project"]').fill("uploads-odd");
    await page.getByTestId("import-folder").setInputFiles(root);
    const progress = page.getByTestId("import-progress");
    await expect.poll(() => progress.getAttribute("data-finished"), { timeout: 120_000 }).toBe("true");
    const states = await progress.locator("li[data-file]").evaluateAll((els) => els.map((e) => e.getAttribute("data-state")));
    expect(states).toEqual(Array(23).fill("done"));
    expect(await page.getByTestId("import-summary").innerText()).toContain(markup);
    expect(await page.title()).not.toBe("pwned");
    const names = ((await api(env.server.url, "GET", "/api/v1/runs?project=uploads-odd&limit=100")).body.runs as { name: string }[]).map(
      (r) => r.name,
    );
    expect(names).toHaveLength(23);
    const cut = names.find((n) => n.startsWith("…"))!;
    expect(cut.endsWith(`${long}/m.csv`)).toBe(true);
    expect([...cut]).toHaveLength(200);
    expect(errors).toEqual([]);
  });

  test("a TensorBoard folder and a dropped CSV become runs, with progress and a summary; the run's page has charts", async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-upload-"));
    unpackTb("healthy", top); // <top>/healthy/tb/{events…, hparams/events…}
    fs.copyFileSync(path.join(FIXTURES, "healthy", "log.txt"), path.join(top, "healthy", "log.txt"));
    const { page, errors } = await env.browser.open(env.server.url);

    await page.getByTestId("import-open").click();
    await page.locator('input[aria-label="import project"]').fill("uploads");
    // the first file's request is held until the page has shown it being sent
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let first = true;
    await page.route("**/api/v1/import?**", async (route) => {
      if (first) {
        first = false;
        await held;
      }
      await route.continue();
    });
    await page.getByTestId("import-folder").setInputFiles(path.join(top, "healthy"));
    const fileState = (p: string) => page.locator(`li[data-file^="${p}"]`).first().getAttribute("data-state");
    await expect.poll(() => fileState("healthy/tb/events"), { timeout: 30_000 }).toBe("sending");
    expect(await fileState("healthy/tb/hparams/")).toBe("waiting");
    expect(await fileState("healthy/log.txt")).toBe("waiting");
    expect(await page.getByTestId("import-counts").innerText()).toMatch(/^0 of 3 files · /);
    release();

    const progress = page.getByTestId("import-progress");
    await expect.poll(() => progress.getAttribute("data-finished"), { timeout: 60_000 }).toBe("true");
    // every file is listed with what it added; the counts say all files and all bytes went
    const files = await progress
      .locator("li[data-file]")
      .evaluateAll((els) => els.map((e) => [e.getAttribute("data-file"), e.getAttribute("data-state")]));
    expect(files).toEqual([
      [expect.stringMatching(/^healthy\/tb\/events\.out\.tfevents\./), "done"],
      [expect.stringMatching(/^healthy\/tb\/hparams\/events\.out\.tfevents\./), "done"],
      ["healthy/log.txt", "done"],
    ]);
    const total = fs.statSync(path.join(top, "healthy", "log.txt")).size + dirBytes(path.join(top, "healthy", "tb"));
    expect(await page.getByTestId("import-bytes").evaluate((e: HTMLProgressElement) => [e.value, e.max])).toEqual([total, total]);
    expect(await page.getByTestId("import-counts").innerText()).toMatch(/^3 of 3 files · /);

    // one run per run directory (the hparams sub-run merged, as the CLI does) and one for the log
    const summary = page.getByTestId("import-summary");
    expect(await summary.locator("p").first().innerText()).toMatch(/^Imported 2 runs: /);
    const links = await page
      .getByTestId("import-runs")
      .locator("a")
      .evaluateAll((els) => els.map((a) => [a.textContent, a.getAttribute("href")]));
    expect(links.map((l) => l[0])).toEqual(["tb", "log.txt"]);
    const [tbRun] = await runsNamed("tb");
    expect(tbRun.project).toBe("uploads");
    expect(tbRun.status).toBe("finished");
    expect(links[0][1]).toBe(`/runs/${tbRun.id}`);
    // exactly the run's scalars, as metrics.jsonl holds them, and the hparams sub-run's metrics
    const detail = await api(env.server.url, "GET", `/api/v1/runs/${tbRun.id}`);
    const keys = detail.body.keys as { key: string; count: number }[];
    const hparamPoints = keys.filter((k) => k.key.startsWith("hparam/")).reduce((n, k) => n + k.count, 0);
    expect(keys.filter((k) => !k.key.startsWith("hparam/")).reduce((n, k) => n + k.count, 0)).toBe(scalarCount("healthy"));
    expect(await summary.locator(`li[data-run="${tbRun.id}"] .muted`).innerText()).toMatch(
      new RegExp(`^${scalarCount("healthy") + hparamPoints} points, \\d+ histograms`),
    );
    // the hparams became the run's config
    expect(detail.body.run.config.optimizer).toBeDefined();
    // the run spans the training (the log's times), not the upload
    const lastWall = Math.max(
      ...metricsJsonl("healthy")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).wall_time ?? 0),
    );
    expect(Math.abs(detail.body.run.finishedAt - lastWall)).toBeLessThan(60);

    // a CSV dropped on the list: the drop overlay shows while dragging, then it is imported
    await page.evaluate((csv) => {
      const dt = new DataTransfer();
      dt.items.add(new File([csv], "keras_history.csv", { type: "text/csv" }));
      const zone = document.querySelector(".runs-page")!;
      zone.dispatchEvent(new DragEvent("dragenter", { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, KERAS_CSV);
    await expect.poll(() => page.getByTestId("import-drop-overlay").count()).toBe(1);
    await page.evaluate((csv) => {
      const dt = new DataTransfer();
      dt.items.add(new File([csv], "keras_history.csv", { type: "text/csv" }));
      document.querySelector(".runs-page")!.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, KERAS_CSV);
    expect(await page.getByTestId("import-drop-overlay").count()).toBe(0);
    await expect.poll(() => page.locator('li[data-file="keras_history.csv"]').getAttribute("data-state"), { timeout: 30_000 }).toBe("done");
    await expect.poll(() => progress.getAttribute("data-finished"), { timeout: 30_000 }).toBe("true");
    expect(await summary.locator("p").first().innerText()).toMatch(/^Imported 1 run: 12 points/); // 3 epochs x 4 metrics
    const [csvRun] = await runsNamed("keras_history.csv");
    const series = await api(env.server.url, "GET", `/api/v1/runs/${csvRun.id}/series?key=val_loss`);
    expect(series.body.buckets.map((b: { step: number; last: unknown }) => [b.step, b.last])).toEqual([
      [0, 1.3],
      [1, 1.0],
      [2, 0.9],
    ]);

    // the imported TensorBoard run's page draws its charts
    await page.getByTestId("import-runs").locator("a").first().click();
    await page.waitForURL(`**/runs/${csvRun.id}`);
    await page.goto(`${env.server.url}/runs/${tbRun.id}`);
    await expect.poll(() => page.locator("h1").innerText()).toBe("tb");
    await expect.poll(() => page.locator("[data-chart] canvas").count(), { timeout: 20_000 }).toBeGreaterThan(1);
    await expect.poll(() => page.locator('[data-chart="m-loss"]').getAttribute("data-points"), { timeout: 20_000 }).not.toBe(null);
    expect(errors).toEqual([]);
  });

  test("a damaged event file is refused with its reason, and nothing of it is stored", async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-upload-bad-"));
    const tb = unpackTb("overfit", top);
    const name = fs.readdirSync(tb).find((n) => n.includes("tfevents"))!;
    const bytes = fs.readFileSync(path.join(tb, name));
    bytes[bytes.length - 100] ^= 0xff; // inside a record's data: its checksum no longer matches
    const bad = path.join(top, name);
    fs.writeFileSync(bad, bytes);
    const before = await api(env.server.url, "GET", "/api/v1/runs?limit=1000");

    const { page, errors } = await env.browser.open(env.server.url);
    await page.getByTestId("import-open").click();
    await page.getByTestId("import-files").setInputFiles(bad);
    const progress = page.getByTestId("import-progress");
    await expect.poll(() => progress.getAttribute("data-finished"), { timeout: 30_000 }).toBe("true");
    expect(await page.locator(`li[data-file="${name}"]`).getAttribute("data-state")).toBe("refused");
    const failed = page.getByTestId("import-failed");
    expect(await failed.innerText()).toMatch(/checksum/);
    expect(await failed.innerText()).toContain("nothing of this file was imported");
    expect(await page.getByTestId("import-summary").locator("p").first().innerText()).toMatch(/^Imported 0 runs: 0 points/);
    const after = await api(env.server.url, "GET", "/api/v1/runs?limit=1000");
    expect(after.body.runs.length).toBe(before.body.runs.length);
    // the refused request is the page's only error (as the network panel and the console show it)
    expect(errors).toEqual([
      expect.stringMatching(/^http 400: .*\/api\/v1\/import\?/),
      expect.stringMatching(/^console: Failed to load resource: .* 400 .*\/api\/v1\/import\?/),
    ]);
  });
});

describe("importing logs on a team server", () => {
  let team: TeamServer;
  let browser: Browser;
  beforeAll(async () => {
    [team, browser] = await Promise.all([startTeamServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    team?.db.close();
    await team?.stop();
  });

  test("a logged-in person imports as who they are; a page whose session is gone is refused and stores nothing", async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-upload-team-"));
    const csv = path.join(top, "history.csv");
    fs.writeFileSync(csv, KERAS_CSV);
    const { page, errors } = await browser.open(`${team.url}/`);
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill(team.adminPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${team.url}/`);

    await page.getByTestId("import-open").click();
    await page.getByTestId("import-files").setInputFiles(csv);
    await expect.poll(() => page.getByTestId("import-progress").getAttribute("data-finished"), { timeout: 30_000 }).toBe("true");
    expect(await page.getByTestId("import-summary").locator("p").first().innerText()).toMatch(/^Imported 1 run: 12 points/);
    const admin = as(team.url, { cookie: await login(team.url, "admin", team.adminPassword) });
    const runs = (await admin("GET", "/api/v1/runs?limit=100")).body.runs as { name: string; owner: string | null }[];
    expect(runs.map((r) => [r.name, r.owner])).toEqual([["history.csv", "admin"]]);

    // the session ends (cookie gone): the page's next import is refused, with the server's words
    await page.context().clearCookies();
    fs.writeFileSync(path.join(top, "other.csv"), KERAS_CSV);
    await page.getByTestId("import-files").setInputFiles(path.join(top, "other.csv"));
    await expect.poll(() => page.getByTestId("import-progress").getAttribute("data-finished"), { timeout: 30_000 }).toBe("true");
    expect(await page.locator('li[data-file="other.csv"]').getAttribute("data-state")).toBe("refused");
    expect(await page.getByTestId("import-failed").innerText()).toMatch(/other\.csv: .*log in|other\.csv: .*authenticat/i);
    expect(((await admin("GET", "/api/v1/runs?limit=100")).body.runs as unknown[]).length).toBe(1);
    expect(
      errors.every((e) => /\b401\b.*\/api\/v1\/import\?/.test(e)),
      JSON.stringify(errors),
    ).toBe(true);
  });
});

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? dirBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size;
  return n;
}
