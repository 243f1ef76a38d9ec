import type { Metadata, Viewport } from "next";
import "./globals.css";

export const metadata: Metadata = { title: "babysit", description: "Babysits your training runs" };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

// The dashboard's pages add their top bar in app/(dashboard)/layout.tsx; a shared link's page
// (app/share) has one with no way into the dashboard.
export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
