import type { Metadata } from "next";
import CompareView from "@/app/_components/CompareView";
import { AppError } from "@/lib/errors";
import { getRun, pageDetail } from "@/lib/runs/get-run";
import type { PageRunDetail, RunDetail } from "@/lib/ui/api-types";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "compare runs · babysit" };

type Search = { searchParams: Promise<Record<string, string | string[] | undefined>> };

// /compare?runs=a,b,c&key=train/loss – one metric of several runs overlaid
export default async function ComparePage({ searchParams }: Search) {
  const q = await searchParams;
  const ids = [
    ...new Set(
      (typeof q.runs === "string" ? q.runs : "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ].slice(0, 20);
  const found: PageRunDetail[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    try {
      const detail = pageDetail((await getRun(id)) as RunDetail);
      // the compare view shows no config: leave it out of the page (a config can be 1 MiB)
      found.push({ ...detail, run: { ...detail.run, config: undefined } });
    } catch (e) {
      if (!(e instanceof AppError && e.code === "not_found")) throw e;
      missing.push(id);
    }
  }
  return <CompareView initial={found} missing={missing} initialKey={typeof q.key === "string" ? q.key : undefined} />;
}
