// A shared link's page: the run and nothing else, so no link into the dashboard (a proxy may
// publish only /share/ and the API under /api/v1/shares/).
export default function SharedLayout({ children }: { children: React.ReactNode }) {
  return (
    <>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden>
            ◉
          </span>{" "}
          babysit
        </span>
        <span className="topbar-note">shared run</span>
      </header>
      <main>{children}</main>
    </>
  );
}
