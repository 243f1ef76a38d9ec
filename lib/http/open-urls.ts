import os from "node:os";

// What the start-up line tells people to open. Bound to every interface (HOST=0.0.0.0 or ::), the
// bound address is no URL a colleague can use: BABYSIT_PUBLIC_URL is, when set (a proxy in front);
// otherwise the machine's name and its own addresses, loopback and link-local ones left out.

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]", ""]);

export interface Machine {
  hostname: string;
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

const hostPart = (h: string) => (h.includes(":") && !h.startsWith("[") ? `[${h}]` : h);

/** The URLs to print for a server bound to `bind` on `port`; the first is the one to try first. */
export function openUrls(
  bind: string,
  port: number,
  publicUrl: string | undefined,
  machine: Machine = { hostname: os.hostname(), interfaces: os.networkInterfaces() },
): string[] {
  if (publicUrl) return [new URL(publicUrl).href];
  if (!WILDCARDS.has(bind.toLowerCase())) return [`http://${hostPart(bind)}:${port}/`];
  const urls = new Set<string>();
  if (machine.hostname) urls.add(`http://${machine.hostname}:${port}/`);
  for (const list of Object.values(machine.interfaces)) {
    for (const a of list ?? []) {
      // another machine cannot reach a loopback address, nor a link-local one without its zone
      if (a.internal || a.scopeid || a.address.startsWith("fe80:")) continue;
      // bound to 0.0.0.0, the server takes IPv4 only
      if (a.family === "IPv6" && bind === "0.0.0.0") continue;
      urls.add(`http://${hostPart(a.address)}:${port}/`);
    }
  }
  return [...urls];
}
