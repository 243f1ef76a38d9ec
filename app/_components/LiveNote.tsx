"use client";

import type { LinkState } from "./live";

// What a live page says about its connection: nothing while it follows the server, a note while it
// is cut off (a server outage, a revoked shared link), and that it caught up after reconnecting.
// data-live carries the state for tests and styles.

const TEXT: ReadonlyMap<LinkState | "revoked" | "expired", string> = new Map([
  ["session-ended", "Your login session ended (logged out elsewhere, expired, or the account changed): this page is not updating."],
  [
    "offline",
    "Disconnected from the server: reconnecting. This page is not updating; what is logged meanwhile is fetched once the connection is back.",
  ],
  ["catching-up", "Reconnected: fetching what was logged while disconnected…"],
  ["caught-up", "Reconnected and caught up: everything logged while disconnected is shown."],
  ["revoked", "This shared link was revoked: the page no longer follows the run and shows it as it was."],
  ["expired", "This shared link has expired: the page no longer follows the run and shows it as it was."],
]);

export default function LiveNote({ state }: { state: LinkState | "revoked" | "expired" }) {
  const text = TEXT.get(state);
  const alarm = state === "offline" || state === "revoked" || state === "expired" || state === "session-ended";
  return (
    <p className={`live-note live-${state}`} data-live={state} role={alarm ? "alert" : "status"} hidden={!text}>
      {text}
      {state === "session-ended" && (
        <>
          {" "}
          <a className="login-again" href={`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`}>
            Log in again
          </a>
        </>
      )}
    </p>
  );
}
