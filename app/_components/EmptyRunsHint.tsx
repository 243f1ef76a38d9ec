"use client";

import Link from "next/link";
import { useSyncExternalStore } from "react";

// The empty runs list's first-run hint: a curl that creates a run. On a team server every API call
// needs a key (without one the server answers 401), so there the example sends one and says where
// keys are made.

// The address this page was loaded from (the server renders a placeholder; the browser fills in its own).
const noSubscription = () => () => {};
const useOrigin = () =>
  useSyncExternalStore(
    noSubscription,
    () => window.location.origin,
    () => "http://<this server>",
  );

export default function EmptyRunsHint({ team }: { team: boolean }) {
  const origin = useOrigin();
  const auth = team ? ` -H "Authorization: Bearer $BABYSIT_API_KEY"` : "";
  return (
    <>
      <p>No runs yet. Log one from a training script with the Python or TypeScript SDK, or straight over HTTP:</p>
      <pre data-testid="first-run-curl">{`curl -X POST ${origin}/api/v1/runs -H 'content-type: application/json'${auth} -d '{"project":"demo"}'`}</pre>
      {team && (
        <p className="muted small">
          This server needs an API key: make one on <Link href="/account">your account page</Link> and set <code>BABYSIT_API_KEY</code> to it (both
          SDKs read it too).
        </p>
      )}
    </>
  );
}
