// Next's proxy (Next 16's name for middleware): puts the security headers of
// lib/server/securityHeaders.ts on every page response.
import { NextResponse, type NextRequest } from "next/server";

import { securityHeaders } from "@/lib/server/securityHeaders";

export function proxy(request: NextRequest): NextResponse {
  const headers = securityHeaders(request);
  // Next takes the nonce for the scripts it renders from the request's CSP header: set it
  // here, replacing whatever the browser sent.
  const forwarded = new Headers(request.headers);
  forwarded.set("content-security-policy", headers.get("content-security-policy")!);
  const response = NextResponse.next({ request: { headers: forwarded } });
  headers.forEach((value, name) => response.headers.set(name, value));
  return response;
}

export const config = {
  // Pages only. Not static files (no document, no nonce to give), and not the API routes:
  // they answer JSON, and a route the proxy runs on gets its request body through a copy
  // Next makes for the proxy, cut at 10 MB.
  matcher: ["/((?!api/|_next/static/|_next/image|favicon\\.ico).*)"],
};
