import { hostOf, isLoopbackName } from "../http/origin";

// Where a new link points. A link made on the dashboard must open where outsiders can reach it:
// BABYSIT_SHARE_URL (the address a proxy publishes the share-only listener under) when set; else,
// with BABYSIT_SHARE_PORT, that port on the name the dashboard was reached by; else
// BABYSIT_PUBLIC_URL (the dashboard's published address); else this server itself (a path, which
// the page completes with its own origin: the address the dashboard was opened with).

/** The link's address for `token`, from the creating request's Host header. */
export function shareLink(token: string, hostHeader: string | null, env: NodeJS.ProcessEnv = process.env): string {
  const path = `/share/${token}`;
  const url = env.BABYSIT_SHARE_URL;
  if (url) return `${url.replace(/\/+$/, "")}${path}`;
  const port = env.BABYSIT_SHARE_PORT;
  const host = hostHeader ? hostOf(hostHeader) : null;
  if (port && host) return `http://${host}:${port}${path}`;
  const pub = env.BABYSIT_PUBLIC_URL;
  if (pub) return `${pub.replace(/\/+$/, "")}${path}`;
  return path;
}

const PUBLISH = "Set BABYSIT_SHARE_URL to the address others reach to publish links there.";

/**
 * Where a new link works, for the share dialog, when no published address was configured (null
 * when BABYSIT_SHARE_URL, or BABYSIT_PUBLIC_URL without a share port, says where): a link on a
 * loopback name (a dashboard opened through an SSH tunnel, or on this machine) opens nowhere else.
 */
export function shareLinkNote(hostHeader: string | null, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.BABYSIT_SHARE_URL) return null;
  if (env.BABYSIT_PUBLIC_URL && !env.BABYSIT_SHARE_PORT) return null;
  const host = hostHeader ? hostOf(hostHeader) : null;
  if (host === null) return `This link points at this server's address as the dashboard was opened. ${PUBLISH}`;
  if (isLoopbackName(host)) {
    return `This link works only on this machine: ${host} is a loopback address (through an SSH tunnel, your own machine's). ${PUBLISH}`;
  }
  return `This link works for whoever can reach ${host} (the address the dashboard was opened with). ${PUBLISH}`;
}
