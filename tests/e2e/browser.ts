import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { type TestServer, startServer } from "../helpers/server";

// Real Chromium (Debian's) for end-to-end tests. Each page records what a user's devtools would
// show in red: console errors, uncaught exceptions, failed requests and HTTP errors.

export interface TrackedPage {
  page: Page;
  /** Everything that went wrong on the page so far, one line each. */
  errors: string[];
}

export interface Browser {
  open(url: string): Promise<TrackedPage>;
  close(): Promise<void>;
}

/** `extraArgs`: more Chromium switches (e.g. --host-resolver-rules to give a test a name of its own). */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-chromium-"));
  const context: BrowserContext = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
  // a Content-Security-Policy violation (lib/http/headers.ts) is an error of the page like any other
  await context.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`),
    ),
  );
  return {
    async open(url: string) {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error") errors.push(`console: ${msg.text()} (${msg.location().url})`);
      });
      page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
      page.on("requestfailed", (req) => {
        // navigating away aborts in-flight requests (socket.io polling): not an error of the page
        if (req.failure()?.errorText !== "net::ERR_ABORTED") errors.push(`requestfailed: ${req.url()} ${req.failure()?.errorText}`);
      });
      page.on("response", (res) => {
        if (res.status() >= 400) errors.push(`http ${res.status()}: ${res.url()}`);
      });
      await page.goto(url);
      return { page, errors };
    },
    async close() {
      await context.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A real server and a real Chromium for one test file: started before its tests, stopped after them. */
export function serverAndBrowser(opts?: Parameters<typeof startServer>[0]): { server: TestServer; browser: Browser } {
  const env = {} as { server: TestServer; browser: Browser };
  beforeAll(async () => {
    [env.server, env.browser] = await Promise.all([startServer(opts), launchBrowser()]);
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}
