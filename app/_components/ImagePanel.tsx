"use client";

import { useEffect, useState } from "react";
import { UNREACHABLE, tryFetch, tryJson } from "@/lib/ui/api-error";
import type { LoggedImage } from "@/lib/ui/api-types";
import { liveReady } from "./live";
import { useRunAccess } from "./run-access";

// The latest image logged under one key, refreshed when the run logs a newer one.

export default function ImagePanel({ runId, ikey, version }: { runId: string; ikey: string; version: number }) {
  const [img, setImg] = useState<LoggedImage | null>(null);
  const [failed, setFailed] = useState("");
  const access = useRunAccess();
  // biome-ignore lint/correctness/useExhaustiveDependencies: version is a refresh token: the run logged a newer image
  useEffect(() => {
    let live = true;
    void (async () => {
      await liveReady();
      const res = await tryFetch(`${access.api(runId)}/images?key=${encodeURIComponent(ikey)}&limit=1`);
      if (!live) return;
      // no answer: the image shown stays, and says it could not be refreshed (the page reloads it on reconnecting)
      if (!res) return setFailed(UNREACHABLE);
      if (!res.ok) return setFailed(`HTTP ${res.status}`);
      const body = await tryJson<{ images: LoggedImage[] }>(res);
      if (!live) return;
      if (!body) return setFailed(UNREACHABLE);
      setFailed("");
      setImg(body.images[0] ?? null);
    })();
    return () => {
      live = false;
    };
  }, [runId, ikey, version, access]);

  return (
    <figure className="chart-card image-card" data-image={ikey} data-failed={failed || undefined}>
      <figcaption className="chart-head">
        <h3>{ikey}</h3>
        {img && <span className="muted small">step {img.step ?? "–"}</span>}
      </figcaption>
      {img?.png_base64 ? (
        // biome-ignore lint/performance/noImgElement: a data: URL from the API, nothing to optimise
        <img
          src={`data:image/png;base64,${img.png_base64}`}
          alt={`${ikey} at step ${img.step ?? "?"}`}
          width={img.width || undefined}
          height={img.height || undefined}
        />
      ) : (
        <div className="chart-overlay static">{img ? "no image data" : failed ? `could not load: ${failed}` : "loading…"}</div>
      )}
    </figure>
  );
}
