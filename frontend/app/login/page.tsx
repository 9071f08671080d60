import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AuthForm } from "@/components/AuthForm";
import { currentSession } from "@/lib/server/currentSession";

export const metadata: Metadata = { title: "Sign in · Taskchat" };

type Props = { searchParams: Promise<{ expired?: string }> };

export default async function LoginPage({ searchParams }: Props) {
  if (await currentSession()) redirect("/chat");
  const { expired } = await searchParams;
  return (
    <main className="auth-page">
      <AuthForm mode="login" notice={expired ? "Your session ended. Please sign in again." : null} />
    </main>
  );
}
