import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AuthForm } from "@/components/AuthForm";
import { currentSession } from "@/lib/server/currentSession";

export const metadata: Metadata = { title: "Create an account · Taskchat" };

export default async function RegisterPage() {
  if (await currentSession()) redirect("/chat");
  return (
    <main className="auth-page">
      <AuthForm mode="register" notice={null} />
    </main>
  );
}
