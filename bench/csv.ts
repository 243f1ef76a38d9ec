// CSV import: 64 MiB hostile files (ragged rows, one-cell note rows, "1\n" rows) and the largest Keras CSVLogger
// file an import takes (950,000 points) read by the importer (Papa Parse, in parts with yields) against csv-parse as the
// importer called it before (relax_column_count, which builds an error object per ragged row; timed on
// a 100,000-row prefix and scaled to the rows the importer would read). Prints seconds and the
// longest time the event loop was held. Run: node --import tsx bench/csv.ts
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parse } from "csv-parse/sync";
import { MACHINE } from "./common";
import { parseFileAsync } from "../lib/import/parse-file";

const MiB = 2 ** 20;
const ROWS_READ = 1_000_001; // importPointsMax + the header: more is refused (413)
const fill = (head: string, row: string) => head + row.repeat(Math.floor((64 * MiB - head.length) / row.length));
function keras(): string {
  const parts = ["epoch,accuracy,loss,val_accuracy,val_loss,lr\n"];
  for (let i = 0; i < 190_000; i++) parts.push(`${i},${(0.5 + i * 1e-7).toFixed(9)},${(1 / (i + 1)).toFixed(12)},0.${i % 1000},1.${i % 997},0.001\n`);
  return parts.join("");
}

const cases: [string, string][] = [
  ["ragged: 3 cells under a 2-column header", fill("step,a\n", "1,2,3\n")],
  ["one-cell note rows under a 2-column header", fill("step,a\n", "note\n")],
  ['"1\\n" rows', fill("v\n", "1\n")],
  ["Keras CSVLogger, 190,000 epochs x 5 metrics (10 MiB)", keras()],
];

console.log(`csv import on ${MACHINE}`);
for (const [name, text] of cases) {
  const rows = text.split("\n").length - 1;
  const prefix = text.split("\n", 100_001).join("\n");
  let t = performance.now();
  parse(prefix, { bom: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true, max_record_size: MiB });
  const csvParse = ((performance.now() - t) / 100_000) * Math.min(rows, ROWS_READ);

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  t = performance.now();
  let outcome: string;
  try {
    const { data } = await parseFileAsync("m.csv", Buffer.from(text));
    outcome = `${data.pointCount} points`;
  } catch (e) {
    outcome = String((e as Error).cause ?? (e as Error).message).slice(0, 40);
  }
  const papa = performance.now() - t;
  loop.disable();
  console.log(`  ${name} (${rows.toLocaleString("en")} rows): ${outcome}`);
  console.log(`    before, csv-parse relax_column_count (one block): ~${(csvParse / 1000).toFixed(1)} s`);
  console.log(`    now, Papa Parse in parts of 256 KiB: ${(papa / 1000).toFixed(2)} s, event loop held at most ${(loop.max / 1e6).toFixed(0)} ms`);
}
