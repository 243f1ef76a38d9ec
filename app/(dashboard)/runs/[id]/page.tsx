import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import RunView from "@/app/_components/RunView";
import { runPageAccess } from "@/lib/auth/page-access";
import { AppError } from "@/lib/errors";
import { getRun, pageDetail } from "@/lib/runs/get-run";
import type { PageRunDetail, RunDetail } from "@/lib/ui/api-types";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ id: string }> };

// one read per request, shared by the metadata and the page
const load = cache(async (id: string): Promise<PageRunDetail | null> => {
  try {
    return pageDetail((await getRun(id, { owner: true })) as RunDetail);
  } catch (e) {
    if (e instanceof AppError && e.code === "not_found") return null;
    throw e;
  }
});

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const run = await load((await params).id);
  return { title: run ? `${run.run.name} · ${run.run.project} · babysit` : "run not found · babysit" };
}

// /runs/[id] – one run: alerts, charts per metric group, histograms, live
export default async function RunPage({ params }: Params) {
  const { id } = await params;
  const detail = await load(id);
  if (!detail) notFound();
  return <RunView initial={detail} serverNow={Date.now() / 1000} can={await runPageAccess(id)} />;
}
