import { ImportData } from "./model";
import { readEventFile } from "./tensorboard/events";

// Whether a directory's event files record hyperparameters, as plan.ts decides it (their parse
// holds config), from bytes alone: what the dashboard asks of a small event directory under a run
// directory before it sends it as part of that run (lib/import/plan-paths.ts). Loaded by the page
// only when a drop has such a directory (it brings the protobuf code with it).
export function recordsHparams(files: readonly Uint8Array[]): boolean {
  return files.some((bytes) => {
    const data = new ImportData();
    readEventFile(bytes, data);
    return data.config.size > 0;
  });
}
