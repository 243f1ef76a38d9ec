// Where the login page goes after a successful login: the `next` it was given, when that is a
// place on this server, else the runs list. The check is done on what the browser would really
// open: URL parsing drops tabs and newlines and reads `\` as `/`, so `/\t/evil.example` or
// `/\\evil.example` become `//evil.example` (another site) although the raw string starts with
// one `/`. Hence: resolve it against this origin, require the same origin, and refuse outright
// what only a forged link holds (no leading `/`, `//`, backslashes, control characters).

// C0 controls, DEL and C1 controls (what URL parsers strip or choke on)
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The absolute URL to go to after login for a `next` parameter (null: none), on `origin` only. */
export function safeNextUrl(next: string | null, origin: string): string {
  const home = new URL("/", origin).href;
  if (next === null || !next.startsWith("/") || next.startsWith("//") || next.includes("\\") || CONTROL.test(next)) return home;
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return home;
  }
  // the href, not the path: a path such as `/.//evil.example` resolves to pathname `//evil.example`,
  // which handed back to the browser as a path would be read as another host
  return url.origin === new URL(origin).origin && url.pathname.startsWith("/") ? url.href : home;
}
