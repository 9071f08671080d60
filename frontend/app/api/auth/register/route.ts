import type { NextRequest } from "next/server";

import { signIn } from "@/lib/server/signIn";

/** Create an account with `{name, email, password}` and sign it in. */
export function POST(request: NextRequest): Promise<Response> {
  return signIn(request, "/api/auth/register");
}
