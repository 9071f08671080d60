import type { NextConfig } from "next";

const config: NextConfig = {
  // A self-contained server (.next/standalone/server.js) with only the files it needs:
  // what `npm start` and the frontend image run.
  output: "standalone",
  poweredByHeader: false,
  reactStrictMode: true,
  // The app is always served behind its own origin; these apply to every page and route.
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
};

export default config;
