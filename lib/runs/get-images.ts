import { sqlite } from "../db";
import { AppError } from "../errors";
import type { LoggedImage } from "../ui/api-types";

/** The latest `limit` images logged under `key` (image events), newest first. */
export function getImages(runId: string, key: string, limit: number): { key: string; images: LoggedImage[] } {
  const db = sqlite();
  if (!db.prepare("SELECT 1 FROM runs WHERE id = ?").get(runId)) throw new AppError("not_found", `run ${runId} does not exist`);
  const rows = db
    .prepare(
      "SELECT step, time, data FROM events WHERE run_id = ? AND type = 'image' AND json_extract(data, '$.key') = ? ORDER BY step DESC, id DESC LIMIT ?",
    )
    .all(runId, key, limit) as { step: number | null; time: number; data: string }[];
  if (!rows.length) throw new AppError("not_found", `run ${runId} has no images "${key}"`);
  return {
    key,
    images: rows.map((r) => {
      const d = JSON.parse(r.data) as { width?: unknown; height?: unknown; png_base64?: unknown };
      return {
        step: r.step,
        time: r.time,
        width: Number(d.width) || 0,
        height: Number(d.height) || 0,
        // only base64 goes into a data: URL in the dashboard
        png_base64: typeof d.png_base64 === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(d.png_base64) ? d.png_base64 : "",
      };
    }),
  };
}
