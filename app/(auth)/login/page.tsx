"use client";

import { useEffect, useState } from "react";
import { safeNextUrl } from "@/lib/auth/next-path";

// /login – team mode's sign-in form (the custom server sends every other page here until the
// browser has a session; docs/team-mode.md). `next` is where to go afterwards: a place on this
// server only (lib/auth/next-path.ts), so the page cannot be used to send someone elsewhere.
const nextUrl = () => safeNextUrl(new URLSearchParams(window.location.search).get("next"), window.location.origin);

export default function LoginPage() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [local, setLocal] = useState(false);
  useEffect(() => {
    fetch("/api/v1/auth/me")
      .then((r) => r.json())
      .then((me) => setLocal(me?.mode === "local"))
      .catch(() => setLocal(false));
  }, []);

  async function submit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: form.get("name"), password: form.get("password") }),
      });
      if (res.ok) {
        window.location.assign(nextUrl());
        return;
      }
      const body = await res.json().catch(() => null);
      setError(body?.error?.message ?? `login failed (${res.status})`);
    } catch {
      setError("the server cannot be reached");
    }
    setBusy(false);
  }

  return (
    <>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden>
            ◉
          </span>{" "}
          babysit
        </span>
      </header>
      <main>
        {local && (
          <p className="local-mode-note" style={{ maxWidth: 320, margin: "48px auto 0" }}>
            This server runs in local mode: there are no accounts and no login. <a href="/">Go to the runs</a>.
          </p>
        )}
        {/* a display set inline would override the hidden attribute: the form is left out instead */}
        {!local && (
          <form onSubmit={submit} style={{ maxWidth: 320, margin: "48px auto", display: "grid", gap: 12 }} aria-label="log in">
            <h1 style={{ fontSize: 20, margin: 0 }}>Log in</h1>
            <label style={{ display: "grid", gap: 4 }}>
              User name
              <input name="name" autoComplete="username" required />
            </label>
            <label style={{ display: "grid", gap: 4 }}>
              Password
              <input name="password" type="password" autoComplete="current-password" required />
            </label>
            <button type="submit" disabled={busy}>
              {busy ? "Logging in…" : "Log in"}
            </button>
            {error && (
              <p role="alert" style={{ color: "#991b1b", margin: 0 }}>
                {error}
              </p>
            )}
            <p style={{ color: "#6b7280", fontSize: 13, margin: 0 }}>No account? Ask this server&apos;s admin for an invite.</p>
          </form>
        )}
      </main>
    </>
  );
}
