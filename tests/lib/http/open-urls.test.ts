import type os from "node:os";
import { describe, expect, test } from "vitest";
import { openUrls } from "@/lib/http/open-urls";

// What the start-up line tells people to open: never 0.0.0.0, which no colleague can use.

const nic = (address: string, family: "IPv4" | "IPv6", extra: Partial<os.NetworkInterfaceInfo> = {}) =>
  ({ address, family, internal: false, netmask: "", mac: "", cidr: null, ...extra }) as os.NetworkInterfaceInfo;

const machine = {
  hostname: "gpu-box",
  interfaces: {
    lo: [nic("127.0.0.1", "IPv4", { internal: true }), nic("::1", "IPv6", { internal: true })],
    eth0: [nic("192.168.1.5", "IPv4"), nic("fe80::1", "IPv6", { scopeid: 2 } as Partial<os.NetworkInterfaceInfo>), nic("2001:db8::5", "IPv6")],
  },
};

describe("openUrls", () => {
  test.each([
    ["0.0.0.0", undefined, ["http://gpu-box:4801/", "http://192.168.1.5:4801/"]],
    ["::", undefined, ["http://gpu-box:4801/", "http://192.168.1.5:4801/", "http://[2001:db8::5]:4801/"]],
    ["0.0.0.0", "https://babysit.lab.example", ["https://babysit.lab.example/"]],
    ["192.168.1.5", undefined, ["http://192.168.1.5:4801/"]],
    ["127.0.0.1", undefined, ["http://127.0.0.1:4801/"]],
    ["2001:db8::5", undefined, ["http://[2001:db8::5]:4801/"]],
  ])("bound to %j with BABYSIT_PUBLIC_URL %j: %j", (bind, publicUrl, urls) => {
    expect(openUrls(bind, 4801, publicUrl, machine)).toEqual(urls);
  });

  test("never prints the unspecified address or a loopback one for a server bound to every interface", () => {
    const urls = openUrls("0.0.0.0", 3000, undefined, machine);
    expect(urls.some((u) => u.includes("0.0.0.0") || u.includes("127.0.0.1") || u.includes("[::1]"))).toBe(false);
  });
});
