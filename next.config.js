/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Route handlers read bodies themselves (8 MiB limit, 413 beyond).
};

export default nextConfig;
