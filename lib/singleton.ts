// Process-wide singletons. Next bundles each route handler separately, so a module-level variable
// can exist several times in one process; globalThis exists once.
const store = globalThis as unknown as { __babysit?: Map<string, unknown> };

export function singleton<T>(name: string, make: () => T): T {
  store.__babysit ??= new Map();
  if (!store.__babysit.has(name)) store.__babysit.set(name, make());
  return store.__babysit.get(name) as T;
}

/** Drops a singleton (tests, shutdown). */
export function forgetSingleton(name: string): void {
  store.__babysit?.delete(name);
}
