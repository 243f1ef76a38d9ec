"use client";

import { useEffect, useState } from "react";
import { closeLive } from "./live";

// The top bar's account corner: on a team server, who is logged in and a logout button; on a
// local server, nothing (there are no accounts).
export default function AccountMenu() {
  const [user, setUser] = useState<{ name: string; role: string | null } | null>(null);

  useEffect(() => {
    fetch("/api/v1/auth/me")
      .then((r) => (r.ok ? r.json() : null))
      .then((me) => setUser(me?.mode === "team" ? me.user : null))
      .catch(() => setUser(null));
  }, []);

  if (!user) return null;
  async function logout() {
    closeLive();
    await fetch("/api/v1/auth/logout", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }).catch(() => null);
    window.location.assign("/login");
  }
  return (
    <span className="topbar-note" style={{ marginLeft: "auto", display: "flex", gap: 12, alignItems: "center" }}>
      <a href="/account" className="account-link">
        <bdi>{user.name}</bdi>
        {user.role === "admin" ? " (admin)" : ""}
      </a>
      <button type="button" onClick={logout}>
        Log out
      </button>
    </span>
  );
}
