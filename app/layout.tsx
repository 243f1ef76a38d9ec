import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import "./globals.css";

export const metadata: Metadata = { title: "babysit", description: "Babysits your training runs" };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

// The dashboard's pages add their top bar in app/(dashboard)/layout.tsx; a shared link's page
// (app/share) has one with no way into the dashboard.
export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // every page is rendered per request, none prerendered: its scripts carry that answer's CSP
  // nonce (lib/http/headers.ts), which a page built ahead of time could not know
  await connection();
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
