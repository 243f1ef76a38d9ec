// npm test builds into its own folder (BABYSIT_DIST_DIR=.next-test, see scripts/test.mjs) so that
// it never replaces the build a running `npm start` serves. Each build type-checks with a tsconfig
// that names only its own folder's generated types: the other folder's may be stale.
const distDir = process.env.BABYSIT_DIST_DIR || ".next";

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  distDir,
  typescript: { tsconfigPath: distDir === ".next" ? "tsconfig.json" : "tsconfig.test.json" },
  // Route handlers read bodies themselves (8 MiB limit, 413 beyond).
};

export default nextConfig;
