import { describe, expect, test } from "vitest";
import { shareLink, shareLinkNote } from "@/lib/shares/share-url";

describe("shareLink: where a new link points", () => {
  test.each([
    ["nothing set: a path on this server", {}, "127.0.0.1:3000", "/share/T"],
    ["BABYSIT_SHARE_URL, trailing slash", { BABYSIT_SHARE_URL: "https://runs.lab.example/" }, "127.0.0.1:3000", "https://runs.lab.example/share/T"],
    ["BABYSIT_SHARE_URL with a path", { BABYSIT_SHARE_URL: "https://lab.example/babysit" }, null, "https://lab.example/babysit/share/T"],
    ["the share port on the dashboard's name", { BABYSIT_SHARE_PORT: "8443" }, "Gpu-Box.lab:3000", "http://gpu-box.lab:8443/share/T"],
    ["the share port on an IPv6 name", { BABYSIT_SHARE_PORT: "8443" }, "[::1]:3000", "http://[::1]:8443/share/T"],
    ["the share port, no Host: a path", { BABYSIT_SHARE_PORT: "8443" }, null, "/share/T"],
    ["the share port, a Host that is not a name: a path", { BABYSIT_SHARE_PORT: "8443" }, "a b", "/share/T"],
    [
      "BABYSIT_PUBLIC_URL: the published dashboard's address",
      { BABYSIT_PUBLIC_URL: "https://babysit.lab.example/" },
      "127.0.0.1:3000",
      "https://babysit.lab.example/share/T",
    ],
    [
      "BABYSIT_SHARE_URL before BABYSIT_PUBLIC_URL",
      { BABYSIT_SHARE_URL: "https://s.example", BABYSIT_PUBLIC_URL: "https://d.example" },
      null,
      "https://s.example/share/T",
    ],
  ])("%s", (_, env, host, want) => {
    expect(shareLink("T", host, env as NodeJS.ProcessEnv)).toBe(want);
  });
});

describe("shareLinkNote: where a link works, when nothing published says it", () => {
  test.each([
    ["a loopback address (an SSH tunnel)", {}, "127.0.0.1:3000", "works only on this machine"],
    ["localhost", {}, "localhost:3000", "works only on this machine"],
    ["IPv6 loopback", {}, "[::1]:3000", "works only on this machine"],
    ["the share port on a loopback name", { BABYSIT_SHARE_PORT: "8443" }, "127.0.0.1:3000", "works only on this machine"],
    ["a network name", {}, "gpu-box.lab:3000", "whoever can reach gpu-box.lab"],
    ["no Host", {}, null, "as the dashboard was opened"],
  ])("%s", (_, env, host, want) => {
    const note = shareLinkNote(host, env as NodeJS.ProcessEnv);
    expect(note).toContain(want);
    expect(note).toContain("Set BABYSIT_SHARE_URL");
  });
  test.each([
    ["BABYSIT_SHARE_URL", { BABYSIT_SHARE_URL: "https://s.example" }],
    ["BABYSIT_PUBLIC_URL", { BABYSIT_PUBLIC_URL: "https://d.example" }],
  ])("none with %s set", (_, env) => {
    expect(shareLinkNote("127.0.0.1:3000", env as unknown as NodeJS.ProcessEnv)).toBeNull();
  });
});
