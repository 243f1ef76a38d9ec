/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // npm test builds into its own folder (BABYSIT_DIST_DIR=.next-test, see scripts/test.mjs) so that
  // it never replaces the build a running `npm start` serves.
  distDir: process.env.BABYSIT_DIST_DIR || ".next",
  // Route handlers read bodies themselves (8 MiB limit, 413 beyond).
};

export default nextConfig;
