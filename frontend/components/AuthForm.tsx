"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { errorDetail } from "@/lib/client/errorDetail";

type Mode = "login" | "register";

const COPY: Record<Mode, { title: string; submit: string; busy: string }> = {
  login: { title: "Sign in to Taskchat", submit: "Sign in", busy: "Signing in…" },
  register: { title: "Create your Taskchat account", submit: "Create account", busy: "Creating…" },
};

/** The sign-in and registration form; the session cookie is set by the route handler. */
export function AuthForm({ mode, notice }: { mode: Mode; notice: string | null }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const copy = COPY[mode];

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const fields = Object.fromEntries(new FormData(event.currentTarget)) as Record<string, string>;
    try {
      const response = await fetch(`/api/auth/${mode}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(fields),
      });
      if (!response.ok) {
        setError(
          await errorDetail(response, `Something went wrong (${response.status}). Please try again.`),
        );
        return;
      }
      router.replace("/chat");
      router.refresh();
    } catch {
      setError("Taskchat could not be reached. Check your connection and try again.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="auth-card" onSubmit={submit} aria-labelledby="auth-title">
      <h1 id="auth-title">{copy.title}</h1>
      {notice ? <p className="notice">{notice}</p> : null}
      {mode === "register" ? (
        <label>
          Name
          <input name="name" autoComplete="name" required maxLength={80} />
        </label>
      ) : null}
      <label>
        Email
        <input name="email" type="email" autoComplete="email" required maxLength={254} />
      </label>
      {mode === "register" ? (
        // The hint sits outside the label, so the field's name stays "Password", and is
        // tied to the field for screen readers. The backend holds the rules (and says
        // which one a refused password broke); this only says them up front.
        <div className="field">
          <label>
            Password
            <input
              name="password"
              type="password"
              autoComplete="new-password"
              required
              minLength={8}
              maxLength={256}
              aria-describedby="password-hint"
            />
          </label>
          <p id="password-hint" className="field-hint">
            At least 8 characters; not a common password or your email.
          </p>
        </div>
      ) : (
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required maxLength={256} />
        </label>
      )}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={busy}>
        {busy ? copy.busy : copy.submit}
      </button>
      <p className="switch">
        {mode === "login" ? (
          <>
            New here? <Link href="/register">Create an account</Link>
          </>
        ) : (
          <>
            Already have an account? <Link href="/login">Sign in</Link>
          </>
        )}
      </p>
    </form>
  );
}
