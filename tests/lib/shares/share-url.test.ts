import { describe, expect, test } from "vitest";
import { shareLink } from "@/lib/shares/share-url";

describe("shareLink: where a new link points", () => {
  test.each([
    ["nothing set: a path on this server", {}, "127.0.0.1:3000", "/share/T"],
    ["BABYSIT_SHARE_URL, trailing slash", { BABYSIT_SHARE_URL: "https://runs.lab.example/" }, "127.0.0.1:3000", "https://runs.lab.example/share/T"],
    ["BABYSIT_SHARE_URL with a path", { BABYSIT_SHARE_URL: "https://lab.example/babysit" }, null, "https://lab.example/babysit/share/T"],
    ["the share port on the dashboard's name", { BABYSIT_SHARE_PORT: "8443" }, "Gpu-Box.lab:3000", "http://gpu-box.lab:8443/share/T"],
    ["the share port on an IPv6 name", { BABYSIT_SHARE_PORT: "8443" }, "[::1]:3000", "http://[::1]:8443/share/T"],
    ["the share port, no Host: a path", { BABYSIT_SHARE_PORT: "8443" }, null, "/share/T"],
    ["the share port, a Host that is not a name: a path", { BABYSIT_SHARE_PORT: "8443" }, "a b", "/share/T"],
  ])("%s", (_, env, host, want) => {
    expect(shareLink("T", host, env as NodeJS.ProcessEnv)).toBe(want);
  });
});
