import { hostOf } from "../http/origin";

// Where a new link points. A link made on the dashboard must open where outsiders can reach it:
// BABYSIT_SHARE_URL (the address a proxy publishes the share-only listener under) when set; else,
// with BABYSIT_SHARE_PORT, that port on the name the dashboard was reached by; else this server
// itself (a path, which the page completes with its own origin).

/** The link's address for `token`, from the creating request's Host header. */
export function shareLink(token: string, hostHeader: string | null, env: NodeJS.ProcessEnv = process.env): string {
  const path = `/share/${token}`;
  const url = env.BABYSIT_SHARE_URL;
  if (url) return `${url.replace(/\/+$/, "")}${path}`;
  const port = env.BABYSIT_SHARE_PORT;
  const host = hostHeader ? hostOf(hostHeader) : null;
  if (port && host) return `http://${host}:${port}${path}`;
  return path;
}
