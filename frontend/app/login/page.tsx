import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AuthForm } from "@/components/AuthForm";
import { currentSession } from "@/lib/server/currentSession";

export const metadata: Metadata = { title: "Sign in · Taskchat" };

type Props = { searchParams: Promise<{ expired?: string; deleted?: string }> };

/** What the sign-in page says to someone sent there (an ended session, a deletion). */
function noticeFor(expired?: string, deleted?: string): string | null {
  if (deleted === "account") return "Your account and everything in it were deleted.";
  if (deleted === "data") return "Your data was deleted. Signing in again starts with nothing.";
  return expired ? "Your session ended. Please sign in again." : null;
}

export default async function LoginPage({ searchParams }: Props) {
  if (await currentSession()) redirect("/chat");
  const { expired, deleted } = await searchParams;
  return (
    <main className="auth-page">
      <AuthForm mode="login" notice={noticeFor(expired, deleted)} />
    </main>
  );
}
