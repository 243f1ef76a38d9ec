import { execFile } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ROOT, type TestServer, api, freePort, startServer } from "../helpers/server";

// npm run demo streams into the server at BABYSIT_URL, else at HOST:PORT, like npm start reads them.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

function demo(env: Record<string, string>): Promise<{ code: number; output: string }> {
  const clean = { ...process.env };
  delete clean.BABYSIT_URL;
  delete clean.HOST;
  delete clean.PORT;
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/demo.ts"],
      { cwd: ROOT, env: { ...clean, DEMO_DELAY_MS: "0", ...env } },
      (err, stdout, stderr) => resolve({ code: typeof err?.code === "number" ? err.code : 0, output: stdout + stderr }),
    ),
  );
}

test("with PORT (and a wildcard HOST) it streams both runs into that server", async () => {
  const { code, output } = await demo({ PORT: String(server.port), HOST: "0.0.0.0" });
  expect(code, output).toBe(0);
  expect(output).toContain(`streaming into http://127.0.0.1:${server.port}`);
  const { body } = await api(server.url, "GET", "/api/v1/runs?project=demo");
  expect(body.runs.map((r: { status: string }) => r.status)).toEqual(["finished", "finished"]);
});

test("with BABYSIT_URL and no server there it says where it looked", async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const { code, output } = await demo({ BABYSIT_URL: `${url}/`, PORT: String(server.port) });
  expect(code).toBe(1);
  expect(output).toContain(`no server answers at ${url}.`);
});
