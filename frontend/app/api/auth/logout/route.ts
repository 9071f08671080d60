import { NextResponse, type NextRequest } from "next/server";

import { refuseForeignOrigin } from "@/lib/server/backend";
import { clearedSessionCookie } from "@/lib/server/session";

/** Sign out: clear the cookie, then go to the sign-in page (a plain form post works too). */
export function POST(request: NextRequest): Response {
  const refused = refuseForeignOrigin(request);
  if (refused) return refused;
  // A relative Location, so the redirect stays on the host the browser used, proxy or not.
  const response = new NextResponse(null, { status: 303, headers: { location: "/login" } });
  response.cookies.set(clearedSessionCookie(request));
  return response;
}
