import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import SweepView from "@/app/_components/sweeps/SweepView";
import { AppError } from "@/lib/errors";
import { getSweep } from "@/lib/sweeps/get-sweep";
import type { SweepDetailView } from "@/lib/ui/sweep-view";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ id: string }> };

// one read per request, shared by the metadata and the page
const load = cache(async (id: string): Promise<SweepDetailView | null> => {
  try {
    // (the API's JSON: non-finite numbers leave as the wire strings, as the page reads them)
    return JSON.parse(JSON.stringify(getSweep(id).sweep)) as SweepDetailView;
  } catch (e) {
    if (e instanceof AppError && e.code === "not_found") return null;
    throw e;
  }
});

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const sweep = await load((await params).id);
  return { title: sweep ? `${sweep.name} · sweep · ${sweep.project} · babysit` : "sweep not found · babysit" };
}

// /sweeps/[id] – one hyperparameter search: alerts, next stage, trials, charts, live
export default async function SweepPage({ params }: Params) {
  const { id } = await params;
  const sweep = await load(id);
  if (!sweep) notFound();
  return <SweepView id={id} initial={sweep} />;
}
