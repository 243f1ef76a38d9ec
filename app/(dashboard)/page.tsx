import RunsList from "@/app/_components/RunsList";
import { listRuns } from "@/lib/runs/list-runs";
import type { RunList } from "@/lib/ui/api-types";
import { parseRunsQuery } from "@/lib/ui/runs-query";

export const dynamic = "force-dynamic";

type Search = { searchParams: Promise<Record<string, string | string[] | undefined>> };

// / – projects and runs, live
export default async function Home({ searchParams }: Search) {
  const { project, status, sort } = parseRunsQuery(await searchParams);
  const list = (await listRuns({ sort: "-created", limit: 1000 })) as RunList;
  return <RunsList initial={list} serverNow={Date.now() / 1000} initialProject={project} initialSort={sort} initialStatus={status} />;
}
