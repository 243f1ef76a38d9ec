import type { Metadata, Viewport } from "next";
import Link from "next/link";
import "./globals.css";

export const metadata: Metadata = { title: "babysit", description: "Babysits your training runs" };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <Link href="/" className="brand">
            <span className="brand-mark" aria-hidden>◉</span> babysit
          </Link>
          <nav>
            <Link href="/">runs</Link>
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
