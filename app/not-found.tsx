import NotFoundBody from "./_components/NotFoundBody";
import TopBar from "./_components/TopBar";

// A URL that matches no page: only the root layout is around it, so it brings the top bar itself
// (a dashboard page's notFound() is app/(dashboard)/not-found.tsx, inside the dashboard's bar).
export default function NotFound() {
  return (
    <>
      <TopBar />
      <main>
        <NotFoundBody />
      </main>
    </>
  );
}
