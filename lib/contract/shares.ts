// Shared links as they cross the wire (lib/shares on the server, the Share menu and the shared
// page in the browser): the expiry a link is made with, and the shape of a token.

/** How long a new link stays open, chosen when it is made; `never` keeps it until it is revoked. */
export const SHARE_EXPIRIES = new Map<string, number | null>([
  ["1d", 86_400],
  ["7d", 7 * 86_400],
  ["30d", 30 * 86_400],
  ["never", null],
]);

export const DEFAULT_SHARE_EXPIRY = "7d";

/** The labels the Share menu shows for each choice, in its order. */
export const SHARE_EXPIRY_LABELS: readonly (readonly [string, string])[] = [
  ["1d", "1 day"],
  ["7d", "7 days"],
  ["30d", "30 days"],
  ["never", "never"],
];

/** Characters of a token that lists show, so that the owner can tell links apart (the rest stays secret). */
export const SHARE_PREFIX_LENGTH = 6;
