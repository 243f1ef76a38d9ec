import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";
import { frameRecord } from "@/lib/import/tensorboard/tfrecord";
import { ROOT, api, waitFor } from "../helpers/server";
import { eventBytes, fileVersion, tb } from "../helpers/tb-writer";
import { serverAndBrowser } from "./browser";

// `babysit watch DIR` in front of a real browser: someone who already writes TensorBoard files
// points babysit at the directory and opens the run's page, and the page follows the writer live,
// without a reload: points, a metric first written mid-run, and the run finished when watch stops.

const env = serverAndBrowser({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
const work = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-watch-e2e-"));
let watcher: ChildProcess | null = null;
afterAll(() => {
  if (watcher && watcher.exitCode === null) watcher.kill("SIGKILL");
  fs.rmSync(work, { recursive: true, force: true });
});

const record = (step: number, extra = false) =>
  frameRecord(eventBytes(step, 1_700_000_000 + step, [tb.simple("loss", 2 / (step + 1)), ...(extra ? [tb.scalar("acc", step / 10)] : [])]));

test("a run page follows `babysit watch` live while the writer appends to its event file", async () => {
  const run = path.join(work, "logs", "lr0.1");
  fs.mkdirSync(run, { recursive: true });
  const file = path.join(run, "events.out.tfevents.1700000000.host.1.0");
  fs.writeFileSync(file, Buffer.concat([frameRecord(fileVersion()), record(0), record(1)]));
  watcher = spawn(
    process.execPath,
    [path.join(ROOT, "scripts/babysit.mjs"), "watch", path.join(work, "logs"), "--url", env.server.url, "--project", "watched", "--interval", "0.1"],
    { cwd: work, stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  watcher.stderr!.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => watcher!.once("exit", (c) => resolve(c)));

  const id = await waitFor(
    async () => (await api(env.server.url, "GET", "/api/v1/runs?project=watched")).body.runs?.[0]?.id as string | undefined,
    30_000,
    "the watched run",
  );
  const { page, errors } = await env.browser.open(`${env.server.url}/runs/${id}`);
  await page.evaluate(() => {
    (window as unknown as { notReloaded: boolean }).notReloaded = true;
  });
  const loss = page.locator('[data-chart="m-loss"]');
  await expect.poll(() => loss.getAttribute("data-points"), { timeout: 20_000 }).toBe("2");
  expect(await page.locator(".run-title [data-status]").getAttribute("data-status")).toBe("running");

  // the writer goes on: the chart grows as the records are written
  fs.appendFileSync(file, Buffer.concat([record(2), record(3)]));
  await expect.poll(() => loss.getAttribute("data-points"), { timeout: 20_000 }).toBe("4");
  // a metric the writer starts logging mid-run gets its chart, live
  fs.appendFileSync(file, Buffer.concat([record(4, true), record(5, true)]));
  await expect.poll(() => loss.getAttribute("data-points"), { timeout: 20_000 }).toBe("6");
  await expect.poll(() => page.locator('[data-chart="m-acc"]').getAttribute("data-points"), { timeout: 20_000 }).toBe("2");

  // Ctrl-C: watch finishes the run, and the page says so
  watcher.kill("SIGINT");
  expect(await exited).toBe(0);
  await expect.poll(() => page.locator(".run-title [data-status]").getAttribute("data-status"), { timeout: 20_000 }).toBe("finished");
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  expect(err).not.toMatch(/refused|checksum|skipped/);
  expect(errors).toEqual([]);
  await page.close();
});
