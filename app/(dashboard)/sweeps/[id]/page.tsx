import type { Metadata } from "next";
import SweepView from "@/app/_components/sweeps/SweepView";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ id: string }> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: "sweep · babysit" };
}

// /sweeps/[id] – one hyperparameter search: alerts, next stage, trials, charts, live
export default async function SweepPage({ params }: Params) {
  const { id } = await params;
  return <SweepView id={id} initial={null} />;
}
