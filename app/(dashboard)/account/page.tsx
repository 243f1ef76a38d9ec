"use client";

import { useCallback, useEffect, useState } from "react";
import { UNREACHABLE, tryFetch } from "@/lib/ui/api-error";
import { LocalTime } from "@/app/_components/bits";
import CopyButton from "@/app/_components/CopyButton";
import SharedLinks from "@/app/_components/SharedLinks";
import { KEY_DEFAULT_EXPIRY_DAYS } from "@/lib/auth/config";

// /account – team mode's own page: your password, your API keys (made here, the key shown once),
// and for an admin the accounts and invites. On a local server there are no accounts.

interface Me {
  mode: "local" | "team";
  user: { name: string; role: "admin" | "member" | null; passwordChangeRequired?: boolean } | null;
}
interface Key {
  id: number;
  name: string;
  prefix: string;
  user: string;
  access: "read" | "write";
  projects: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}
interface User {
  id: number;
  name: string;
  role: string;
  createdAt: number;
  createdBy: string | null;
  disabledAt: number | null;
}

async function call(method: string, path: string, body?: unknown): Promise<{ ok: boolean; body: any }> {
  const res = await tryFetch(path, {
    method,
    // every write says it is JSON, a bodiless DELETE too: the server refuses an untyped write (415)
    headers: method === "GET" ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res) return { ok: false, body: { error: { message: UNREACHABLE } } };
  const text = await res.text().catch(() => "");
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { ok: res.ok, body: parsed };
}

const errorOf = (r: { body: any }) => r.body?.error?.message ?? "the server refused";

export default function AccountPage() {
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    call("GET", "/api/v1/auth/me").then((r) => setMe(r.body));
  }, []);
  if (!me) return null;
  if (me.mode === "local" || !me.user) {
    return <p>This server runs in local mode: there are no accounts (see docs/team-mode.md).</p>;
  }
  if (me.user.passwordChangeRequired) {
    // the server answers nothing else until then (403 password_change_required): only the form shows
    return (
      <div style={{ display: "grid", gap: 28, maxWidth: 900 }}>
        <h1 style={{ margin: 0 }}>
          <bdi>{me.user.name}</bdi> <span className="badge">{me.user.role}</span>
        </h1>
        <p role="status" className="password-required">
          You logged in with a one-time password. Choose your own password to continue: the one-time password no longer works after this.
        </p>
        <Password oneTime />
      </div>
    );
  }
  return (
    <div style={{ display: "grid", gap: 28, maxWidth: 900 }}>
      <h1 style={{ margin: 0 }}>
        <bdi>{me.user.name}</bdi> <span className="badge">{me.user.role}</span>
      </h1>
      <Keys />
      {me.user.role === "admin" && <Accounts me={me.user.name} />}
      <SharedLinks admin={me.user.role === "admin"} />
      <Password />
    </div>
  );
}

function Keys() {
  const [keys, setKeys] = useState<Key[]>([]);
  const [fresh, setFresh] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    call("GET", "/api/v1/keys").then((r) => r.ok && setKeys(r.body.keys));
  }, []);
  useEffect(load, [load]);

  async function create(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const projects = String(f.get("projects") ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const access = String(f.get("access"));
    const days = String(f.get("expiry"));
    const r = await call("POST", "/api/v1/keys", {
      name: f.get("name"),
      access,
      projects: access === "write" && projects.length ? projects : null,
      expiresInDays: days === "never" ? null : Number(days),
    });
    if (!r.ok) return setError(errorOf(r));
    setError(null);
    setFresh(r.body.token);
    load();
  }

  async function revoke(id: number) {
    const r = await call("DELETE", `/api/v1/keys/${id}`);
    if (!r.ok) setError(errorOf(r));
    load();
  }

  return (
    <section aria-label="API keys">
      <h2>API keys</h2>
      <p style={{ color: "#6b7280" }}>
        For training scripts: set <code>BABYSIT_API_KEY</code> to a key and both SDKs send it.
      </p>
      <form onSubmit={create} style={{ display: "flex", gap: 8, flexWrap: "wrap", alignItems: "end" }}>
        <label style={{ display: "grid" }}>
          Name
          <input name="name" required maxLength={100} />
        </label>
        <label style={{ display: "grid" }}>
          Access
          <select name="access" defaultValue="write">
            <option value="write">write</option>
            <option value="read">read-only</option>
          </select>
        </label>
        <label style={{ display: "grid" }}>
          Projects (comma-separated; empty: all)
          <input name="projects" />
        </label>
        <label style={{ display: "grid" }}>
          Expires
          <select name="expiry" defaultValue={String(KEY_DEFAULT_EXPIRY_DAYS)}>
            <option value="30">in 30 days</option>
            <option value="90">in 90 days</option>
            <option value="365">in a year</option>
            <option value="never">never</option>
          </select>
        </label>
        <button type="submit">Make a key</button>
      </form>
      {fresh && (
        <p className="key-fresh">
          Your new key, shown only now: <input readOnly value={fresh} size={52} aria-label="new API key" onFocus={(e) => e.currentTarget.select()} />{" "}
          <CopyButton text={fresh} />
        </p>
      )}
      {error && <p role="alert">{error}</p>}
      <table className="key-list" style={{ marginTop: 12 }}>
        <thead>
          <tr>
            <th>name</th>
            <th>key</th>
            <th>owner</th>
            <th>access</th>
            <th>made</th>
            <th>expires</th>
            <th>last used</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <td>
                <bdi>{k.name}</bdi>
              </td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>
                <bdi>{k.user}</bdi>
              </td>
              <td>{k.access === "read" ? "read-only" : k.projects ? `write: ${k.projects.join(", ")}` : "write: all projects"}</td>
              <td>
                <LocalTime t={k.createdAt} />
              </td>
              <td>{k.expiresAt === null ? "never" : <LocalTime t={k.expiresAt} />}</td>
              <td>{k.lastUsedAt === null ? "never" : <LocalTime t={k.lastUsedAt} />}</td>
              <td>
                {k.revokedAt === null ? (
                  <button type="button" onClick={() => revoke(k.id)}>
                    Revoke
                  </button>
                ) : (
                  <span data-revoked-at={k.revokedAt}>
                    revoked <LocalTime t={k.revokedAt} />
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Accounts({ me }: { me: string }) {
  const [users, setUsers] = useState<User[]>([]);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [invited, setInvited] = useState<{ name: string; password: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    call("GET", "/api/v1/users").then((r) => r.ok && setUsers(r.body.users));
  }, []);
  useEffect(load, [load]);

  async function invite(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const r = await call("POST", "/api/v1/users", { name: f.get("name"), role: f.get("role") });
    if (!r.ok) return setError(errorOf(r));
    setError(null);
    setInvited({ name: r.body.user.name, password: r.body.password });
    load();
  }

  // each change goes through the API, which refuses to leave no enabled admin (409 last_admin)
  async function change(u: User, method: "PATCH" | "DELETE", body?: object) {
    const r = await call(method, `/api/v1/users/${u.id}`, body);
    setConfirming(null);
    if (!r.ok) setError(errorOf(r));
    else setError(null);
    if (r.ok && u.name === me) {
      // disabling or deleting oneself ends this session; a demoted admin no longer sees this section
      if (method === "DELETE" || (body as { disabled?: boolean }).disabled) return window.location.assign("/login");
      return window.location.reload();
    }
    load();
  }

  return (
    <section aria-label="accounts">
      <h2>Accounts</h2>
      <form onSubmit={invite} style={{ display: "flex", gap: 8, alignItems: "end" }}>
        <label style={{ display: "grid" }}>
          User name
          <input name="name" required maxLength={64} />
        </label>
        <label style={{ display: "grid" }}>
          Role
          <select name="role" defaultValue="member">
            <option value="member">member</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button type="submit">Invite</button>
      </form>
      {invited && (
        <p className="invite-fresh">
          <bdi>{invited.name}</bdi> can log in with this one-time password, shown only now:{" "}
          <input readOnly value={invited.password} aria-label="one-time password" onFocus={(e) => e.currentTarget.select()} />{" "}
          <CopyButton text={invited.password} /> It works once: right after logging in with it, they must choose their own password (their /account
          page asks for it) before they can do anything else.
        </p>
      )}
      {error && <p role="alert">{error}</p>}
      <table className="user-list" style={{ marginTop: 12 }}>
        <thead>
          <tr>
            <th>name</th>
            <th>role</th>
            <th>made</th>
            <th>invited by</th>
            <th>state</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-user={u.name} data-disabled={u.disabledAt !== null}>
              <td>
                <bdi>{u.name}</bdi>
              </td>
              <td>{u.role}</td>
              <td>
                <LocalTime t={u.createdAt} />
              </td>
              <td>{u.createdBy ? <bdi>{u.createdBy}</bdi> : "–"}</td>
              <td>{u.disabledAt === null ? "enabled" : "disabled"}</td>
              <td style={{ display: "flex", gap: 6 }}>
                <button type="button" onClick={() => change(u, "PATCH", { role: u.role === "admin" ? "member" : "admin" })}>
                  {u.role === "admin" ? "Make member" : "Make admin"}
                </button>
                <button type="button" onClick={() => change(u, "PATCH", { disabled: u.disabledAt === null })}>
                  {u.disabledAt === null ? "Disable" : "Enable"}
                </button>
                {confirming === u.id ? (
                  <>
                    <button type="button" onClick={() => change(u, "DELETE")}>
                      Delete <bdi>{u.name}</bdi> for good
                    </button>
                    <button type="button" onClick={() => setConfirming(null)}>
                      Cancel
                    </button>
                  </>
                ) : (
                  <button type="button" onClick={() => setConfirming(u.id)}>
                    Delete…
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Password({ oneTime = false }: { oneTime?: boolean }) {
  const [note, setNote] = useState<string | null>(null);
  async function change(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const r = await call("POST", "/api/v1/auth/password", { current: f.get("current"), password: f.get("password") });
    if (!r.ok) return setNote(errorOf(r));
    // every session of the account ended, this one too: the login page says why it is shown
    window.location.assign("/login?changed=password");
  }
  return (
    <section aria-label="password">
      <h2>Password</h2>
      <form onSubmit={change} style={{ display: "flex", gap: 8, alignItems: "end" }}>
        <label style={{ display: "grid" }}>
          {oneTime ? "One-time password" : "Current password"}
          <input name="current" type="password" autoComplete="current-password" required />
        </label>
        <label style={{ display: "grid" }}>
          New password (10 characters or more)
          <input name="password" type="password" autoComplete="new-password" required minLength={10} />
        </label>
        <button type="submit">{oneTime ? "Set my password" : "Change"}</button>
      </form>
      {note && <p role="alert">{note}</p>}
    </section>
  );
}
