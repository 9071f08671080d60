import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AuthForm } from "@/components/AuthForm";
import { currentSession } from "@/lib/server/currentSession";
import { DELETION_UNCONFIRMED } from "@/lib/shared/account";

export const metadata: Metadata = { title: "Sign in · Taskchat" };

type Props = { searchParams: Promise<{ expired?: string; deleted?: string }> };

/** What the sign-in page says to someone sent there (an ended session, a deletion). */
function noticeFor(expired?: string, deleted?: string): string | null {
  if (deleted === "account") return "Your account and everything in it were deleted.";
  if (deleted === "data") return "Your data was deleted. Signing in again starts with nothing.";
  if (deleted === "unconfirmed") return DELETION_UNCONFIRMED;
  return expired ? "Your session ended. Please sign in again." : null;
}

export default async function LoginPage({ searchParams }: Props) {
  const { expired, deleted } = await searchParams;
  const notice = noticeFor(expired, deleted);
  // Sent here with a notice, the person stays: the backend has refused their session (or
  // may have deleted it), and the cookie, of which this page can read only the expiry, is
  // no proof otherwise. Sending them back to the chat on its word would loop: the chat's
  // next call is refused and brings them straight back here. Signing in again is harmless.
  if (!notice && (await currentSession())) redirect("/chat");
  return (
    <main className="auth-page">
      <AuthForm mode="login" notice={notice} />
    </main>
  );
}
