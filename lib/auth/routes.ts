import type { ApiRoute } from "../http/routes";

// Team mode's API routes (accounts, sessions, API keys), listed into lib/http/routes.ts's table.
// In local mode they answer too: /auth/me says the mode, the others say accounts are off.
export const AUTH_ROUTES: readonly ApiRoute[] = [
  { path: "/api/v1/auth/login", methods: ["POST"] },
  { path: "/api/v1/auth/logout", methods: ["POST"] },
  { path: "/api/v1/auth/me", methods: ["GET"] },
  { path: "/api/v1/auth/password", methods: ["POST"] },
  { path: "/api/v1/keys", methods: ["GET", "POST"], body: "editBodyBytes" }, // up to 100 project names
  { path: "/api/v1/keys/[id]", methods: ["DELETE"] },
  { path: "/api/v1/users", methods: ["GET", "POST"] },
  // before /users/[id]: the first route that matches answers
  { path: "/api/v1/users/names", methods: ["GET"] },
  { path: "/api/v1/users/[id]", methods: ["PATCH", "DELETE"] },
];
