import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { sendImportFile } from "@/lib/import/client";
import { importRunId } from "@/lib/import/import-file";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";
import { eventBytes, eventFile, tb } from "../helpers/tb-writer";

// A big import is stored in transactions of bounded size, and the server answers other requests
// between them (it used to store a whole file without answering anyone: 1-5 s for 1M points,
// bench/import-stall.ts). Meanwhile the run is held: a finish or a delete of it waits for the
// import, so no half-stored file is diagnosed as finished, and the import is never cut short.

const KEYS = 20;
const STEPS = 20_000;
const POINTS = KEYS * STEPS;
let server: TestServer;
let file: Uint8Array;
let n = 0;

beforeAll(async () => {
  server = await startServer();
  const records: Uint8Array[] = [];
  for (let s = 0; s < STEPS; s++) for (let k = 0; k < KEYS; k++) records.push(eventBytes(s, 1_700_000_000 + s, [tb.simple(`k${k}`, s + k)]));
  file = eventFile(records);
  expect((await api(server.url, "POST", "/api/v1/runs", { project: "other", id: "other-run" })).status).toBe(201);
});
afterAll(async () => {
  await server?.stop();
});

/** Starts an import of the big file under a fresh source: its run id, and its answer (or failure) once it comes. */
function startImport() {
  const source = `/logs/big${++n}`;
  const answer = sendImportFile({ url: server.url }, { project: "big", source, path: "events.out.tfevents.1.h" }, file);
  answer.catch(() => {});
  return { id: importRunId("big", source), answer };
}

/** Points the run holds, as GET /api/v1/runs/{id} says (0 before it exists). */
async function stored(id: string): Promise<number> {
  const r = await api(server.url, "GET", `/api/v1/runs/${id}`);
  if (r.status === 404) return 0;
  expect(r.status).toBe(200);
  return (r.body.keys as { count: number }[]).reduce((s, k) => s + k.count, 0);
}

/** Resolves once the run holds part of the file (0 < points < all): the import is between two of its transactions. */
const midway = (id: string) =>
  waitFor(
    async () => {
      const c = await stored(id);
      return c > 0 && c < POINTS;
    },
    60_000,
    "the import half stored",
  );

describe("a big import lets others in while it stores, and holds its run", () => {
  test("other requests are answered between its transactions; in the end every point is stored once", async () => {
    const imp = startImport();
    await midway(imp.id); // a GET answered while the import was storing
    let seq = 0;
    const batch = await api(server.url, "POST", "/api/v1/runs/other-run/log", { seq: seq++, rows: [{ step: 0, metrics: { loss: 1 } }] });
    expect(batch.status).toBe(200);
    expect(batch.body.accepted.points).toBe(1);
    expect((await imp.answer).points).toBe(POINTS);
    expect(await stored(imp.id)).toBe(POINTS);
  });

  test("a finish sent while it stores waits for it: the run is finished with the whole file", async () => {
    const imp = startImport();
    await midway(imp.id);
    const finished = await api(server.url, "POST", `/api/v1/runs/${imp.id}/finish`, {});
    expect(finished.status).toBe(200);
    // the finish was carried out (and answered) only once the whole file was stored
    expect(await stored(imp.id)).toBe(POINTS);
    expect((await imp.answer).points).toBe(POINTS);
    expect((await api(server.url, "GET", `/api/v1/runs/${imp.id}`)).body.run.status).toBe("finished");
  });

  test.each([
    ["DELETE /api/v1/runs/{id}", (id: string) => api(server.url, "DELETE", `/api/v1/runs/${id}`)],
    ["POST /api/v1/runs/bulk (delete)", (id: string) => api(server.url, "POST", "/api/v1/runs/bulk", { ids: [id], action: "delete" })],
  ])("%s sent while it stores waits for it: the import is answered whole, then the run goes", async (_what, remove) => {
    const imp = startImport();
    await midway(imp.id);
    const removed = remove(imp.id);
    // not cut short by the delete (which would leave it 404 halfway)
    expect((await imp.answer).points).toBe(POINTS);
    expect((await removed).status).toBe(200);
    expect((await api(server.url, "GET", `/api/v1/runs/${imp.id}`)).status).toBe(404);
  });
});
