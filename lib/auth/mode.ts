// Which of babysit's two modes the server runs in (docs/team-mode.md).
// Local mode (the default: a loopback HOST) has no accounts, like TensorBoard. Team mode has
// accounts, sessions and API keys, and is on whenever the server listens beyond the machine
// (HOST is not a loopback address) or BABYSIT_MODE=team says so. A non-loopback HOST cannot be
// talked back into local mode: a server others can reach always asks who is asking.

export type Mode = "local" | "team";

/** True for the names and addresses that only the machine itself can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost") || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h.replace(/^::ffff:/, ""));
  return v4?.slice(1).every((x) => Number(x) <= 255) ?? false;
}

/** The SDKs' values of BABYSIT_MODE (sdk READMEs): a shell that exports one for its training script
 *  may start the server too, which then decides its mode as if the variable were unset. */
const SDK_MODES = new Set(["online", "offline", "disabled"]);

export function modeFrom(env: Record<string, string | undefined> = process.env): Mode {
  const given = env.BABYSIT_MODE?.trim().toLowerCase();
  const requested = given && SDK_MODES.has(given) ? undefined : given;
  if (requested && requested !== "team" && requested !== "local") {
    throw new Error(`BABYSIT_MODE must be "team" or "local", got ${JSON.stringify(env.BABYSIT_MODE?.slice(0, 40))}`);
  }
  if (requested === "team") return "team";
  return isLoopbackHost(env.HOST ?? "127.0.0.1") ? "local" : "team";
}

/** True when X-Forwarded-For / X-Forwarded-Proto may be believed (a reverse proxy in front sets them). */
export function trustProxy(env: Record<string, string | undefined> = process.env): boolean {
  return env.BABYSIT_TRUST_PROXY === "1";
}
