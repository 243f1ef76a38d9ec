import type { IncomingMessage } from "node:http";
import os from "node:os";
import { afterEach, describe, expect, test } from "vitest";
import { pageCsp } from "@/lib/http/headers";
import { configureOwnNames, crossOriginRefusal, hostOf, hostRefusal, isLoopbackName, writeRefusal } from "@/lib/http/origin";

// Who the server answers (lib/http/origin.ts): Host names for DNS rebinding, Origin and
// Sec-Fetch-Site for pages of other sites, Content-Type for writes.

function req(headers: Record<string, string | string[]>, method = "POST"): IncomingMessage {
  const single: Record<string, string> = Object.create(null);
  const distinct: Record<string, string[]> = Object.create(null);
  for (const [k, v] of Object.entries(headers)) {
    single[k] = Array.isArray(v) ? v[0] : v;
    distinct[k] = Array.isArray(v) ? v : [v];
  }
  return { method, headers: single, headersDistinct: distinct } as unknown as IncomingMessage;
}

afterEach(() => configureOwnNames("127.0.0.1", undefined));

describe("hostOf", () => {
  test.each<[string, string | null]>([
    ["localhost:3000", "localhost"],
    ["LocalHost", "localhost"],
    ["localhost.:3000", "localhost"],
    ["127.0.0.1", "127.0.0.1"],
    ["[::1]:3000", "[::1]"],
    ["evil.example@localhost", null],
    ["localhost/x", null],
    ["localhost:3000:1", null],
    ["", null],
    ["[::1", null],
  ])("%j -> %j", (header, want) => {
    expect(hostOf(header)).toBe(want);
  });
});

describe("isLoopbackName", () => {
  test.each<[string, boolean]>([
    ["localhost", true],
    ["babysit.localhost", true],
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["[::1]", true],
    ["localhost.evil.example", false],
    ["evillocalhost", false],
    ["127.0.0.1.evil.example", false],
    ["127.0.0.256", false],
    ["128.0.0.1", false],
    ["0.0.0.0", false],
  ])("%s -> %s", (host, want) => {
    expect(isLoopbackName(host)).toBe(want);
  });
});

describe("Host check", () => {
  test.each([["localhost:3000"], ["127.0.0.1:49152"], ["[::1]:3000"], ["app.localhost:3000"], ["LOCALHOST"], ["0.0.0.0:3000"], ["[::]:3000"]])(
    "loopback or unspecified %s is served",
    (host) => {
      expect(hostRefusal(req({ host }))).toBeNull();
    },
  );

  test.each([
    ["evil.example"],
    ["evil.example:3000"],
    ["localhost.evil.example"],
    ["192.168.1.5:3000"],
    ["evil.example@localhost"],
    ["0.0.0.1:3000"],
  ])("%s -> unknown_host", (host) => {
    expect(hostRefusal(req({ host }))?.code).toBe("unknown_host");
  });

  test("two Host headers -> unknown_host (a proxy may have routed by the other one)", () => {
    expect(hostRefusal(req({ host: ["localhost", "evil.example"] }))?.code).toBe("unknown_host");
  });

  test("no Host (HTTP/1.0) passes: there is no name to check", () => {
    expect(hostRefusal(req({}))).toBeNull();
  });

  test("BABYSIT_PUBLIC_URL's host is served, with any port", () => {
    configureOwnNames("127.0.0.1", "https://Babysit.Lab.example/base");
    expect(hostRefusal(req({ host: "babysit.lab.example" }))).toBeNull();
    expect(hostRefusal(req({ host: "babysit.lab.example:8443" }))).toBeNull();
    expect(hostRefusal(req({ host: "lab.example" }))?.code).toBe("unknown_host");
  });

  test("a specific bound address is served, other addresses are not", () => {
    configureOwnNames("192.168.1.5", undefined);
    expect(hostRefusal(req({ host: "192.168.1.5:3000" }))).toBeNull();
    expect(hostRefusal(req({ host: "192.168.1.6:3000" }))?.code).toBe("unknown_host");
    configureOwnNames("fd00::5", undefined);
    expect(hostRefusal(req({ host: "[fd00::5]:3000" }))).toBeNull();
  });

  test("HOST=0.0.0.0: the machine's own addresses and hostname are served, other names are not", () => {
    configureOwnNames("0.0.0.0", undefined);
    expect(hostRefusal(req({ host: `${os.hostname()}:3000` }))).toBeNull();
    const addresses = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && !a.scopeid);
    for (const a of addresses) {
      expect(hostRefusal(req({ host: a!.family === "IPv6" ? `[${a!.address}]:3000` : `${a!.address}:3000` }))).toBeNull();
    }
    expect(hostRefusal(req({ host: "evil.example:3000" }))?.code).toBe("unknown_host");
  });

  test.each([["ftp://x.example"], ["not a url"], ["x.example"]])("BABYSIT_PUBLIC_URL=%s is refused at start", (url) => {
    expect(() => configureOwnNames("127.0.0.1", url)).toThrow(/BABYSIT_PUBLIC_URL/);
  });
});

describe("Origin check", () => {
  test.each<[string, Record<string, string>]>([
    ["no Origin (SDKs, curl)", { host: "localhost:3000" }],
    ["its own origin", { host: "localhost:3000", origin: "http://localhost:3000" }],
    ["its own origin, IPv6", { host: "[::1]:3000", origin: "http://[::1]:3000" }],
    ["port 80 written out in Host", { host: "localhost:80", origin: "http://localhost" }],
    ["Sec-Fetch-Site same-origin", { host: "localhost:3000", origin: "http://localhost:3000", "sec-fetch-site": "same-origin" }],
    ["Sec-Fetch-Site none (typed by the user)", { host: "localhost:3000", "sec-fetch-site": "none" }],
  ])("%s passes", (_what, headers) => {
    expect(crossOriginRefusal(req(headers))).toBeNull();
  });

  test.each<[string, Record<string, string>]>([
    ["another port", { host: "localhost:3000", origin: "http://localhost:4000" }],
    ["another host", { host: "localhost:3000", origin: "http://evil.example" }],
    ["another loopback name", { host: "localhost:3000", origin: "http://127.0.0.1:3000" }],
    ["https on the same host (another origin unless BABYSIT_PUBLIC_URL says so)", { host: "localhost:3000", origin: "https://localhost:3000" }],
    ["Origin: null (sandboxed frame, file://)", { host: "localhost:3000", origin: "null" }],
    ["Sec-Fetch-Site cross-site, no Origin", { host: "localhost:3000", "sec-fetch-site": "cross-site" }],
    ["Sec-Fetch-Site same-site (another port or subdomain)", { host: "localhost:3000", "sec-fetch-site": "same-site" }],
    [
      "Sec-Fetch-Site cross-site with a forged own Origin",
      { host: "localhost:3000", origin: "http://localhost:3000", "sec-fetch-site": "cross-site" },
    ],
  ])("%s -> cross_origin", (_what, headers) => {
    expect(crossOriginRefusal(req(headers))?.code).toBe("cross_origin");
  });

  test("behind a proxy: BABYSIT_PUBLIC_URL's origin passes whatever Host the proxy sends", () => {
    configureOwnNames("127.0.0.1", "https://babysit.lab.example");
    expect(crossOriginRefusal(req({ host: "127.0.0.1:3000", origin: "https://babysit.lab.example" }))).toBeNull();
    expect(crossOriginRefusal(req({ host: "127.0.0.1:3000", origin: "http://babysit.lab.example" }))?.code).toBe("cross_origin");
  });
});

describe("writes", () => {
  const own = { host: "localhost:3000", origin: "http://localhost:3000" };
  test.each(["POST", "PUT", "PATCH", "DELETE"])("%s with no Content-Type -> unsupported_media_type", (method) => {
    expect(writeRefusal(req(own, method))?.code).toBe("unsupported_media_type");
  });
  test.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""])(
    "POST with %j -> unsupported_media_type",
    (type) => {
      expect(writeRefusal(req({ ...own, "content-type": type }))?.code).toBe("unsupported_media_type");
    },
  );
  test.each(["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"])("POST with %j passes", (type) => {
    expect(writeRefusal(req({ ...own, "content-type": type }))).toBeNull();
  });
  test("another origin is refused before its type is looked at", () => {
    expect(writeRefusal(req({ host: "localhost:3000", origin: "http://evil.example", "content-type": "text/plain" }))?.code).toBe("cross_origin");
  });
  test.each(["GET", "HEAD", "OPTIONS"])("%s is not a write: no type needed, any origin (no CORS headers let it be read)", (method) => {
    expect(writeRefusal(req({ host: "localhost:3000", origin: "http://evil.example" }, method))).toBeNull();
  });
});

describe("page CSP", () => {
  test("scripts from the server and the nonce only; eval only under `npm run dev`", () => {
    expect(pageCsp("abc")).toContain("script-src 'self' 'nonce-abc';");
    expect(pageCsp("abc")).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    expect(pageCsp("abc", true)).toContain("script-src 'self' 'nonce-abc' 'unsafe-eval';");
    expect(pageCsp("abc")).toContain("style-src 'self' 'nonce-abc';");
    expect(pageCsp("abc")).toContain("frame-ancestors 'none'");
  });
});

describe("BABYSIT_SHARE_URL", () => {
  test("its host is served and its origin may write like the server's own", () => {
    configureOwnNames("127.0.0.1", undefined, "https://runs.lab.example");
    expect(hostRefusal(req({ host: "runs.lab.example" }))).toBeNull();
    expect(crossOriginRefusal(req({ host: "127.0.0.1:3000", origin: "https://runs.lab.example" }))).toBeNull();
    expect(crossOriginRefusal(req({ host: "127.0.0.1:3000", origin: "https://lab.example" }))?.code).toBe("cross_origin");
  });

  test("a value that is not an http(s) URL throws naming the variable", () => {
    expect(() => configureOwnNames("127.0.0.1", undefined, "runs.lab.example")).toThrow(/BABYSIT_SHARE_URL/);
  });
});
