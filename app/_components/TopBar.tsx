import Link from "next/link";
import AccountMenu from "./AccountMenu";

// The dashboard's top bar (a shared link's page has its own, with no way in: app/share/layout.tsx).
export default function TopBar() {
  return (
    <header className="topbar">
      <Link href="/" className="brand">
        <span className="brand-mark" aria-hidden>
          ◉
        </span>{" "}
        babysit
      </Link>
      <nav>
        <Link href="/">runs</Link>
      </nav>
      <AccountMenu />
    </header>
  );
}
