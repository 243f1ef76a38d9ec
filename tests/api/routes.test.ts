import fs from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { API_ROUTES } from "../../lib/http/routes";
import { ROOT } from "../helpers/server";

// The front gate answers 404 and 405 from lib/http/routes.ts before Next.js sees a request, so
// that list must be exactly the route handlers under app/api: a route missing from it would be
// unreachable, a method missing would be refused.

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

function handlers(dir: string, url: string, out: Map<string, string[]>): Map<string, string[]> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && !e.name.startsWith("[...")) handlers(path.join(dir, e.name), `${url}/${e.name}`, out);
    if (e.isFile() && e.name === "route.ts") {
      const src = fs.readFileSync(path.join(dir, e.name), "utf8");
      out.set(
        url,
        METHODS.filter((m) => new RegExp(`export (const|async function|function) ${m}\\b`).test(src)),
      );
    }
  }
  return out;
}

test("lib/http/routes.ts lists every route handler under app/api with its methods", () => {
  const found = handlers(path.join(ROOT, "app/api"), "/api", new Map());
  const listed = new Map(API_ROUTES.filter((r) => !r.server).map((r) => [r.path, [...r.methods]]));
  expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(found));
});

test("the routes server.ts answers itself are the ones it hands on", () => {
  const src = fs.readFileSync(path.join(ROOT, "server.ts"), "utf8");
  for (const r of API_ROUTES.filter((x) => x.server)) {
    expect(src).toContain(`"${r.path}"`);
    expect(fs.existsSync(path.join(ROOT, "app", r.path.replace(/^\//, ""), "route.ts"))).toBe(false);
  }
});
