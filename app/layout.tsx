import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = { title: "babysit", description: "Babysits your training runs" };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <a href="/" className="brand">babysit</a>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
