import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "../../lib/contract/limits";
import { png, pngBase64 } from "../helpers/png";
import { type TestServer, api, startServer } from "../helpers/server";

// Image events are drawn by every run page: only a PNG of the stated size, under a valid key, is stored.

let server: TestServer;
const call = (method: string, p: string, body?: unknown) => api(server.url, method, p, body);

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function newRun() {
  return (await call("POST", "/api/v1/runs", { project: "images" })).body.id as string;
}

const image = (data: Record<string, unknown>) => ({
  seq: 1,
  events: [
    { type: "note", data: {} },
    { type: "image", step: 3, data },
  ],
});
const ok = { key: "samples/digits", width: 3, height: 2, png_base64: pngBase64(3, 2) };

test("a PNG of the stated size is stored and read back", async () => {
  const id = await newRun();
  const r = await call("POST", `/api/v1/runs/${id}/log`, image(ok));
  expect(r).toMatchObject({ status: 200, body: { accepted: { events: 2 } } });
  const got = await call("GET", `/api/v1/runs/${id}/images?key=samples/digits`);
  expect(got.body.images).toEqual([{ step: 3, time: expect.any(Number), width: 3, height: 2, png_base64: ok.png_base64 }]);
});

test.each([
  ["a 1x1 image", 1, 1],
  [`the largest side, ${LIMITS.imageSideMax.value}x1`, LIMITS.imageSideMax.value, 1],
])("%s is accepted", async (_name, w, h) => {
  const id = await newRun();
  const r = await call("POST", `/api/v1/runs/${id}/log`, image({ key: "k", width: w, height: h, png_base64: pngBase64(w, h) }));
  expect(r.status).toBe(200);
});

describe("a bad image event -> 400 invalid_batch naming the field, nothing stored", () => {
  const side = LIMITS.imageSideMax.value;
  const notPng = Buffer.from("GIF89a and then some bytes to pass 24").toString("base64");
  const wrongIhdr = png(3, 2);
  wrongIhdr.write("IHDX", 12, "latin1");
  // a PNG header padded past the decoded size limit
  const huge = Buffer.concat([png(3, 2), Buffer.alloc(LIMITS.imageBytesMax.value)]).toString("base64");
  test.each([
    ["no key", { ...ok, key: undefined }, "events[1].data.key"],
    ["a numeric key", { ...ok, key: 5 }, "events[1].data.key"],
    ["an empty key", { ...ok, key: "" }, "events[1].data.key"],
    ["a key with a control character", { ...ok, key: "a\u0007b" }, "events[1].data.key"],
    ["a key with a lone surrogate", { ...ok, key: "a\ud800" }, "events[1].data.key"],
    [`a key over ${LIMITS.keyMaxLength.value} code points`, { ...ok, key: "🚀".repeat(LIMITS.keyMaxLength.value + 1) }, "events[1].data.key"],
    ["width 0", { ...ok, width: 0 }, "events[1].data.width"],
    ["negative height", { ...ok, height: -2 }, "events[1].data.height"],
    ["fractional width", { ...ok, width: 2.5 }, "events[1].data.width"],
    ["width as a string", { ...ok, width: "3" }, "events[1].data.width"],
    ["no height", { ...ok, height: undefined }, "events[1].data.height"],
    [`width ${side + 1}`, { ...ok, width: side + 1 }, "events[1].data.width"],
    ["height 1e300", { ...ok, height: 1e300 }, "events[1].data.height"],
    ["no data", { ...ok, png_base64: undefined }, "events[1].data.png_base64"],
    ["data as an array", { ...ok, png_base64: [1, 2] }, "events[1].data.png_base64"],
    ["data that is not base64", { ...ok, png_base64: "!!!!" }, "events[1].data.png_base64"],
    [
      "unpadded base64",
      { ...ok, png_base64: `${ok.png_base64.replace(/=+$/, "")}${ok.png_base64.endsWith("=") ? "" : "A"}` },
      "events[1].data.png_base64",
    ],
    ["base64url instead of base64", { ...ok, png_base64: `-_${ok.png_base64.slice(2)}` }, "events[1].data.png_base64"],
    ["a data: URL", { ...ok, png_base64: `data:image/png;base64,${ok.png_base64}` }, "events[1].data.png_base64"],
    ["an empty string", { ...ok, png_base64: "" }, "events[1].data.png_base64"],
    ["a GIF", { ...ok, png_base64: notPng }, "events[1].data.png_base64"],
    ["a PNG signature without IHDR", { ...ok, png_base64: wrongIhdr.toString("base64") }, "events[1].data.png_base64"],
    ["a size that is not the PNG's", { ...ok, width: 2, height: 3 }, "events[1]"],
    [`more than ${LIMITS.imageBytesMax.value} bytes decoded`, { ...ok, png_base64: huge }, "events[1].data.png_base64"],
  ])("%s", async (_name, data, field) => {
    const id = await newRun();
    const batch = { ...image(data), rows: [{ step: 0, metrics: { ok: 1 } }] };
    const r = await call("POST", `/api/v1/runs/${id}/log`, batch);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: "invalid_batch" });
    expect(r.body.error.message).toContain(field);
    const run = await call("GET", `/api/v1/runs/${id}`);
    expect(run.body.events).toEqual([]);
    expect(run.body.keys).toEqual([]);
  });
});
