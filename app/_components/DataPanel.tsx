"use client";

import { useMemo } from "react";
import { plural, formatValue } from "@/lib/ui/format";
import {
  type DataStats,
  type InputComparison,
  type InputStats,
  type LabelStats,
  type NonFinite,
  type OutputStats,
  type StatsEvent,
  type Unreadable,
  WHOLE_SPLITS,
  dataStats,
  itemLabel,
  summarizeInputs,
} from "@/lib/ui/data-stats";

// The Data section of a run page: the input, label and output statistics the run logged
// (watch()'s input_stats, log_input_stats / log_label_stats / log_output_stats), per split, with
// training and validation inputs side by side and the features where they disagree most — the
// numbers train_val_mismatch reads. Derived from the page's events, so it follows the run live
// (socket event messages append to them) and shows on shared links alike. Names are text nodes.

const TOP_FEATURES = 10;
const TOP_CLASSES = 20;

const f = formatValue;
const x = (v: number) => (Number.isFinite(v) ? `${formatValue(v)}×` : formatValue(v));
const at = (step: number | null) => (step === null ? "" : ` at step ${step}`);

export default function DataPanel({ events }: { events: readonly StatsEvent[] }) {
  const d = useMemo(() => dataStats(events, TOP_FEATURES), [events]);
  if (d.empty) return null;
  const parts = [d.inputs.size ? "inputs" : null, d.labels.size ? "labels" : null, d.outputs.size ? "outputs" : null].filter(Boolean);
  if (!parts.length) parts.push("nothing readable");
  return (
    <section className="chart-section data-panel" id="data" aria-label="Data">
      <h2>
        Data <span className="muted">· {parts.join(", ")} as logged</span>
      </h2>
      {d.inputs.size > 0 && <Inputs d={d} />}
      {d.labels.size > 0 && <Labels labels={d.labels} counts={d.labelCounts} />}
      {d.outputs.size > 0 && <Outputs outputs={d.outputs} counts={d.outputCounts} />}
      {d.unreadable.length > 0 && <UnreadableList items={d.unreadable} />}
      {d.hiddenSplits.length > 0 && (
        <p className="muted" data-hidden-splits={d.hiddenSplits.length}>
          {plural(d.hiddenSplits.length, "more split")} logged statistics not shown here (a page carries the first {WHOLE_SPLITS}; the run&apos;s API
          lists them with ?events=full):{" "}
          {d.hiddenSplits.slice(0, UNREADABLE_SHOWN).map((h, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list, in order
            <bdi key={i}>{i ? `, ${h}` : h}</bdi>
          ))}
          {d.hiddenSplits.length > UNREADABLE_SHOWN ? " …" : ""}
        </p>
      )}
    </section>
  );
}

const UNREADABLE_SHOWN = 5;
const SHAPE_CHARS = 60;

// shape is free-form JSON: a long or nested one is cut, not drawn whole
function shapeText(shape: unknown[]): string {
  const t = JSON.stringify(shape);
  return t.length > SHAPE_CHARS ? `${t.slice(0, SHAPE_CHARS)}…` : t;
}

/** Statistics events the section could not read: said, with the first few reasons. */
function UnreadableList({ items }: { items: Unreadable[] }) {
  return (
    <div className="data-block warn" data-block="unreadable">
      <p>
        {plural(items.length, "statistics event")} could not be read and {items.length === 1 ? "is" : "are"} not shown here (listed under Events):
      </p>
      <ul className="data-facts">
        {items.slice(0, UNREADABLE_SHOWN).map((u, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list, in event order
          <li key={i}>
            {u.type} (<bdi>{u.split}</bdi>
            {at(u.step)}): {u.reason}
          </li>
        ))}
        {items.length > UNREADABLE_SHOWN && <li>and {items.length - UNREADABLE_SHOWN} more</li>}
      </ul>
    </div>
  );
}

function nonFiniteText(c: NonFinite): string {
  const parts = [c.nan ? `${c.nan} NaN` : "", c.posInf ? `${c.posInf} +Inf` : "", c.negInf ? `${c.negInf} -Inf` : ""].filter(Boolean);
  return parts.length ? parts.join(", ") : "none";
}

function Inputs({ d }: { d: DataStats }) {
  const splits = [...d.inputs.values()];
  const sums = splits.map(summarizeInputs);
  const anyMinMax = splits.some((s) => s.min || s.max);
  const row = (label: string, cell: (i: number) => string, bad?: (i: number) => boolean) => (
    <tr>
      <th scope="row">{label}</th>
      {splits.map((s, i) => (
        <td key={s.split} className={bad?.(i) ? "bad" : undefined}>
          {cell(i)}
        </td>
      ))}
    </tr>
  );
  const r = (p: [number, number] | null) => (p ? `${f(p[0])} … ${f(p[1])}` : "–");
  return (
    <div className="data-block" data-block="inputs">
      <h3>Inputs</h3>
      <div className="table-wrap">
        <table className="data-table" data-table="input-splits">
          <thead>
            <tr>
              <th scope="col">per split, latest</th>
              {splits.map((s) => (
                <th key={s.split} scope="col" data-split={s.split}>
                  <bdi>{s.split}</bdi>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {row("step", (i) => (splits[i].step === null ? "–" : String(splits[i].step)))}
            {row("logged", (i) => `${plural(d.inputCounts.get(splits[i].split) ?? 0, "time")}${splits[i].source === "watch" ? " by watch()" : ""}`)}
            {row("examples (n)", (i) => (splits[i].n === null ? "–" : String(splits[i].n)))}
            {row("features", (i) => String(sums[i].features) + (splits[i].shape ? ` (shape ${shapeText(splits[i].shape!)})` : ""))}
            {row("typical |mean|", (i) => f(sums[i].typicalAbsMean))}
            {row("typical std", (i) => f(sums[i].typicalStd))}
            {row("means from … to", (i) => r(sums[i].meanRange))}
            {row("stds from … to", (i) => r(sums[i].stdRange))}
            {anyMinMax && row("min / max", (i) => `${f(sums[i].minOfMin)} / ${f(sums[i].maxOfMax)}`)}
            {row("constant features (std 0)", (i) => String(sums[i].constant))}
            {row(
              "non-finite values",
              (i) => nonFiniteText(sums[i].nonFinite) + (sums[i].nonFiniteFeatures ? ` (${plural(sums[i].nonFiniteFeatures, "feature")})` : ""),
              (i) => sums[i].nonFiniteFeatures > 0,
            )}
          </tbody>
        </table>
      </div>
      {d.comparison ? (
        <Comparison c={d.comparison} train={d.train!} val={d.val!} />
      ) : d.train && d.val ? (
        <p className="muted" data-compare="none">
          Training inputs have {plural(d.train.mean.length, "feature")}, validation inputs {d.val.mean.length}: not comparable feature by feature.
        </p>
      ) : d.train ? (
        <p className="muted" data-compare="none">
          No validation inputs logged, so training and validation preprocessing are not compared: evaluate after <code>model.eval()</code> with{" "}
          <code>watch(model, optimizer)</code>, or call <code>log_input_stats(x_val, split=&quot;val&quot;)</code>.
        </p>
      ) : null}
      <History d={d} />
    </div>
  );
}

function Comparison({ c, train, val }: { c: InputComparison; train: InputStats; val: InputStats }) {
  const names = train.names ?? val.names;
  const worst = c.worstFinite;
  return (
    <div className="data-compare" data-compare={c.mismatch ? "mismatch" : "agree"}>
      <p className={c.mismatch || c.notFinite ? "warn" : undefined} data-compare-summary>
        <strong>
          <bdi>{train.split}</bdi> vs <bdi>{val.split}</bdi>
        </strong>
        {at(val.step)}: {c.offCount} of {plural(c.compared, "feature")} off by {c.factor}× or more (std ratio either way, or mean shift in training
        stds)
        {worst ? (
          <>
            ; the worst, <bdi>{itemLabel("feature", worst.index, names)}</bdi>, by {x(worst.off)}
          </>
        ) : null}
        {c.notFinite ? `; ${plural(c.notFinite, "feature")} not comparable (NaN or infinite on a side)` : ""}.{" "}
        {c.mismatch
          ? `By train_val_mismatch's thresholds, validation data processed differently (${
              (worst?.off ?? 0) >= c.extreme ? `a feature off by ${c.extreme}× or more` : `${f(Math.round(c.share * 1000) / 10)}% of the features off`
            }).`
          : `Within train_val_mismatch's thresholds (${c.extreme}× on one feature, or a quarter of them at ${c.factor}×).`}
      </p>
      <div className="table-wrap">
        <table className="data-table" data-table="worst-features">
          <caption className="muted">
            {c.features > c.worst.length
              ? `the ${c.worst.length} most different of ${plural(c.features, "feature")}`
              : `all ${plural(c.features, "feature")}, most different first`}
            ; each side&apos;s std taken as at least its typical feature std
          </caption>
          <thead>
            <tr>
              <th scope="col">feature</th>
              <th scope="col">train mean</th>
              <th scope="col">train std</th>
              <th scope="col">val mean</th>
              <th scope="col">val std</th>
              <th scope="col" title="|val mean - train mean| in training stds">
                mean shift
              </th>
              <th scope="col" title="val std / train std">
                std ratio
              </th>
              <th scope="col">off by</th>
            </tr>
          </thead>
          <tbody>
            {c.worst.map((w) => {
              const off = !Number.isFinite(w.off) || w.off >= c.factor;
              return (
                <tr key={w.index} data-feature={w.index} data-off={off ? "" : undefined} className={off ? "off" : undefined}>
                  <th scope="row">
                    <bdi>{itemLabel("feature", w.index, names)}</bdi>
                    {names ? <span className="muted"> #{w.index}</span> : null}
                  </th>
                  <td>{f(w.trainMean)}</td>
                  <td>{f(w.trainStd)}</td>
                  <td>{f(w.valMean)}</td>
                  <td>{f(w.valStd)}</td>
                  <td>{Number.isFinite(w.shift) ? f(w.shift) : "–"}</td>
                  <td>{Number.isFinite(w.ratio) ? f(w.ratio) : "–"}</td>
                  <td>{Number.isFinite(w.off) ? x(w.off) : "not finite"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function History({ d }: { d: DataStats }) {
  const h = d.history;
  const finite = h.filter((p) => Number.isFinite(p.off) && p.off > 0);
  return (
    <>
      {finite.length >= 2 && (
        <div className="data-history" data-history={h.length}>
          <Spark points={h.map((p) => p.off)} factor={d.comparison?.factor ?? 5} />
          <span className="muted">
            worst feature off, {d.train?.split ?? "train"} vs {d.val?.split ?? "val"}, at each of {plural(h.length, "validation log")}: {x(h[0].off)}
            {at(h[0].step)}, {x(h[h.length - 1].off)}
            {at(h[h.length - 1].step)}
          </span>
        </div>
      )}
      {d.changes.map((c) => (
        <p key={c.split} className="muted" data-change={c.split}>
          <bdi>{c.split}</bdi> inputs changed{at(c.step)}: <bdi>{itemLabel("feature", c.index, d.inputs.get(c.split)?.names ?? null)}</bdi>{" "}
          {Number.isFinite(c.off) ? `off by ${x(c.off)}` : "not finite"} from the ones logged{at(c.previousStep)}.
        </p>
      ))}
    </>
  );
}

/** A tiny log-scale line of values (NaN leaves a gap), with the mismatch factor as a dashed line. */
function Spark({ points, factor }: { points: number[]; factor: number }) {
  const W = 160;
  const H = 32;
  const logs = points.map((p) => (Number.isFinite(p) && p > 0 ? Math.log10(p) : Number.NaN));
  const fin = logs.filter(Number.isFinite);
  const lf = Math.log10(factor);
  const lo = Math.min(0, ...fin);
  const hi = Math.max(lf, ...fin);
  const y = (v: number) => H - 2 - ((v - lo) / (hi - lo || 1)) * (H - 4);
  const xAt = (i: number) => (points.length === 1 ? W / 2 : (i / (points.length - 1)) * (W - 4) + 2);
  const segs: string[] = [];
  let cur = "";
  logs.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      if (cur) segs.push(cur);
      cur = "";
      return;
    }
    cur += `${cur ? "L" : "M"}${xAt(i).toFixed(1)},${y(v).toFixed(1)}`;
  });
  if (cur) segs.push(cur);
  return (
    <svg className="spark" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label="worst feature off at each validation log">
      <line x1={0} x2={W} y1={y(lf)} y2={y(lf)} className="spark-ref" />
      {segs.map((s, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the segments of one line, in order
        <path key={i} d={s} className="spark-line" />
      ))}
    </svg>
  );
}

function Labels({ labels, counts }: { labels: Map<string, LabelStats>; counts: Map<string, number> }) {
  const splits = [...labels.values()];
  const first = splits[0];
  const C = Math.max(...splits.map((s) => s.counts.length));
  const names = splits.find((s) => s.names)?.names ?? null;
  // classes ordered by the first split's counts, largest first; beyond TOP_CLASSES a summary
  const order = Array.from({ length: C }, (_, i) => i).sort((a, b) => (first.counts[b] ?? 0) - (first.counts[a] ?? 0) || a - b);
  const shown = order.slice(0, TOP_CLASSES);
  return (
    <div className="data-block" data-block="labels">
      <h3>Labels</h3>
      <ul className="data-facts">
        {splits.map((s) => (
          <li key={s.split} data-split={s.split}>
            <strong>
              <bdi>{s.split}</bdi>
            </strong>
            {at(s.step)}: {plural(s.n, "label")} in {plural(s.counts.length, "class", "classes")}; majority{" "}
            <bdi>{itemLabel("class", s.majority, s.names ?? names)}</bdi> with {f(Math.round(s.majorityShare * 1000) / 10)}% (a model answering only
            it scores that accuracy){s.empty ? `; ${plural(s.empty, "class", "classes")} with no example` : ""}
            {(counts.get(s.split) ?? 0) > 1 ? ` (logged ${counts.get(s.split)} times)` : ""}
          </li>
        ))}
      </ul>
      <div className="table-wrap">
        <table className="data-table" data-table="classes">
          {C > shown.length && (
            <caption className="muted">
              the {shown.length} largest of {C} classes
            </caption>
          )}
          <thead>
            <tr>
              <th scope="col">class</th>
              {splits.map((s) => (
                <th key={s.split} scope="col">
                  <bdi>{s.split}</bdi>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((k) => (
              <tr key={k} data-class={k}>
                <th scope="row">
                  <bdi>{itemLabel("class", k, names)}</bdi>
                </th>
                {splits.map((s) => {
                  const n = s.counts[k];
                  const share = n !== undefined && s.n > 0 ? n / s.n : null;
                  // bars scaled to the split's largest class: ten balanced classes still read apart
                  return (
                    <td key={s.split}>
                      {n === undefined ? (
                        "–"
                      ) : (
                        <>
                          <span
                            className="share-bar"
                            style={{ width: `${Math.round(((share ?? 0) / (s.majorityShare || 1)) * 60)}px` }}
                            aria-hidden="true"
                          />
                          {n} <span className="muted">({f(Math.round((share ?? 0) * 1000) / 10)}%)</span>
                        </>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Outputs({ outputs, counts }: { outputs: Map<string, OutputStats>; counts: Map<string, number> }) {
  const splits = [...outputs.values()];
  return (
    <div className="data-block" data-block="outputs">
      <h3>Outputs</h3>
      <div className="table-wrap">
        <table className="data-table" data-table="outputs">
          <thead>
            <tr>
              <th scope="col">split</th>
              <th scope="col" />
              <th scope="col">min</th>
              <th scope="col">max</th>
              <th scope="col">mean</th>
              <th scope="col">std</th>
            </tr>
          </thead>
          <tbody>
            {splits.flatMap((s) =>
              (["pred", "target"] as const).map((side) => (
                <tr key={`${s.split}\u0000${side}`} data-split={s.split} data-side={side}>
                  {side === "pred" && (
                    <th scope="row" rowSpan={2}>
                      <bdi>{s.split}</bdi>
                      <span className="muted">
                        {at(s.step)}
                        {s.n !== null ? `, n ${s.n}` : ""}
                        {(counts.get(s.split) ?? 0) > 1 ? `, logged ${counts.get(s.split)} times` : ""}
                      </span>
                    </th>
                  )}
                  <td>{side === "pred" ? "predictions" : "targets"}</td>
                  <td>{f(s[side].min)}</td>
                  <td>{f(s[side].max)}</td>
                  <td>{f(s[side].mean)}</td>
                  <td>{f(s[side].std)}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
      {splits
        .filter((s) => s.note)
        .map((s) => (
          <p key={s.split} className="warn" data-output-note={s.split}>
            <bdi>{s.split}</bdi>: {s.note}
          </p>
        ))}
    </div>
  );
}
