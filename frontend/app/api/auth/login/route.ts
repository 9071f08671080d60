import type { NextRequest } from "next/server";

import { signIn } from "@/lib/server/signIn";

/** Sign in with `{email, password}`; sets the session cookie. */
export function POST(request: NextRequest): Promise<Response> {
  return signIn(request, "/api/auth/login");
}
