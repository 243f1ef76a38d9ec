import RunsList from "@/app/_components/RunsList";
import { listRuns } from "@/lib/runs/list-runs";
import type { RunList } from "@/lib/ui/api-types";
import { parseColumns, parseListFilters, parseRunsQuery } from "@/lib/ui/runs-query";

export const dynamic = "force-dynamic";

type Search = { searchParams: Promise<Record<string, string | string[] | undefined>> };

// / – projects and runs, live
export default async function Home({ searchParams }: Search) {
  const params = await searchParams;
  const { project, status, sort } = parseRunsQuery(params);
  const filters = parseListFilters(params);
  // the search and archive filters apply on the server (project, status and order on the page, as
  // the client applies them); a filter the list's query refuses shows the unfiltered list instead
  const list = (await listRuns({
    sort: "-created",
    limit: 1000,
    archived: filters.archived,
    ...(filters.q ? { q: filters.q } : {}),
    ...(filters.tag ? { tag: filters.tag } : {}),
    ...(filters.owner ? { owner: filters.owner } : {}),
  }).catch(() => listRuns({ sort: "-created", limit: 1000 }))) as RunList;
  return (
    <RunsList
      initial={list}
      serverNow={Date.now() / 1000}
      initialProject={project}
      initialSort={sort}
      initialStatus={status}
      initialFilters={filters}
      initialColumns={parseColumns(params)}
    />
  );
}
