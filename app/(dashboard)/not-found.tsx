import NotFoundBody from "@/app/_components/NotFoundBody";

// notFound() in a dashboard page (an unknown run id): inside app/(dashboard)/layout.tsx, which
// already draws the top bar, so this draws none of its own.
export default function DashboardNotFound() {
  return <NotFoundBody />;
}
