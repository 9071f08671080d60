"use client";

import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type RefObject } from "react";

import { errorDetail } from "@/lib/client/errorDetail";
import { goToSignIn } from "@/lib/client/goToSignIn";
import { DELETE_CONFIRMATION, isAccount, type Account } from "@/lib/shared/account";

const FALLBACK_FILENAME = "taskchat-data.json";

/** The file name in a `Content-Disposition: attachment; filename="..."` header. */
function filenameOf(disposition: string | null): string {
  const match = disposition?.match(/filename="([^"]+)"/);
  return match?.[1] ?? FALLBACK_FILENAME;
}

/** Save `blob` as a download named `filename`. */
function save(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // After the click has handed the file to the browser's download.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The account menu beside "Sign out": who is signed in, "Export my data" (a JSON file of
 * everything kept for them) and deleting it all. A Taskchat account is deleted with its
 * password; where an identity provider holds the account, the person's data is deleted
 * after a typed confirmation, and the account stays the provider's.
 */
export function AccountMenu() {
  const [open, setOpen] = useState(false);
  const [account, setAccount] = useState<Account | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const menu = useRef<HTMLDivElement | null>(null);
  const dialog = useRef<HTMLDialogElement | null>(null);
  const panelId = useId();

  // What deleting asks for depends on who holds the account: asked once, on first open.
  useEffect(() => {
    if (!open || account) return;
    const controller = new AbortController();
    void (async () => {
      try {
        const response = await fetch("/api/account", { signal: controller.signal, cache: "no-store" });
        if (response.status === 401) return goToSignIn();
        const body: unknown = await response.json().catch(() => null);
        if (response.ok && isAccount(body)) setAccount(body);
        else setProblem("Your account could not be loaded; try again.");
      } catch {
        if (!controller.signal.aborted) setProblem("Taskchat could not be reached; try again.");
      }
    })();
    return () => controller.abort();
  }, [open, account]);

  // A click elsewhere or Escape closes the menu (not the dialog, which closes itself).
  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (dialog.current?.open) return;
      if (menu.current && !menu.current.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape" && !dialog.current?.open) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const exportData = useCallback(async () => {
    setExporting(true);
    setProblem(null);
    try {
      const response = await fetch("/api/account/export", { cache: "no-store" });
      if (response.status === 401) return goToSignIn();
      if (!response.ok) {
        setProblem(await errorDetail(response, `The export failed (${response.status}); try again.`));
        return;
      }
      save(await response.blob(), filenameOf(response.headers.get("content-disposition")));
    } catch {
      setProblem("The export was interrupted; try again.");
    } finally {
      setExporting(false);
    }
  }, []);

  const ownAccount = account?.has_password ?? true;
  return (
    <div className="account-menu" ref={menu}>
      <button
        type="button"
        className="link-button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((now) => !now)}
      >
        Account
      </button>
      {open ? (
        <div className="account-panel" id={panelId} role="group" aria-label="Account">
          {account?.email ? <p className="muted account-who">{account.email}</p> : null}
          <button type="button" className="link-button" onClick={exportData} disabled={exporting}>
            {exporting ? "Preparing your data…" : "Export my data"}
          </button>
          <button
            type="button"
            className="link-button danger"
            disabled={!account}
            onClick={() => dialog.current?.showModal()}
          >
            {ownAccount ? "Delete my account…" : "Delete my data…"}
          </button>
          {problem ? (
            <p className="error" role="alert">
              {problem}
            </p>
          ) : null}
        </div>
      ) : null}
      <dialog ref={dialog} className="account-dialog" aria-labelledby={`${panelId}-title`}>
        {account ? <DeleteForm account={account} titleId={`${panelId}-title`} dialog={dialog} /> : null}
      </dialog>
    </div>
  );
}

type DeleteFormProps = {
  account: Account;
  titleId: string;
  dialog: RefObject<HTMLDialogElement | null>;
};

/** The deletion's last question: the password, or the typed confirmation. */
function DeleteForm({ account, titleId, dialog }: DeleteFormProps) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [typed, setTyped] = useState("");
  const own = account.has_password;

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const fields = new FormData(event.currentTarget);
    const proof = own
      ? { password: String(fields.get("password") ?? "") }
      : { confirmation: String(fields.get("confirmation") ?? "") };
    try {
      const response = await fetch("/api/account", {
        method: "DELETE",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(proof),
      });
      if (response.ok) {
        // The session cookie is gone with the answer: a full load of the sign-in page, so
        // nothing the page holds for this person outlives it.
        window.location.assign(own ? "/login?deleted=account" : "/login?deleted=data");
        return;
      }
      if (response.status === 401) return goToSignIn();
      if (response.status === 504) {
        // Sent but not confirmed in time (ours, or a reverse proxy's): it may have happened,
        // and our route has cleared the session. Not "nothing was deleted", then: the
        // sign-in page says so, and signing in again shows which it was. A full load, as above.
        // eslint-disable-next-line @next/next/no-location-assign-relative-destination
        window.location.assign("/login?deleted=unconfirmed");
        return;
      }
      setError(await errorDetail(response, `Nothing was deleted (${response.status}); try again.`));
    } catch {
      // Perhaps never sent, perhaps cut off after the backend had it: it cannot say which.
      setError("Taskchat could not be reached, so the deletion was not confirmed; reload the page to see.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="auth-card" onSubmit={submit}>
      <h2 id={titleId}>{own ? "Delete your account?" : "Delete your data?"}</h2>
      <p>
        {own
          ? "Your account, conversations and tasks will be deleted for good, and you will be signed out everywhere."
          : "Your conversations and tasks will be deleted for good, and you will be signed out. Your sign-in stays with your identity provider; signing in again starts with nothing."}{" "}
        Export your data first if you want a copy.
      </p>
      {own ? (
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
      ) : (
        <label>
          Type “{DELETE_CONFIRMATION}” to confirm
          <input
            name="confirmation"
            autoComplete="off"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            required
          />
        </label>
      )}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="link-button" onClick={() => dialog.current?.close()}>
          Cancel
        </button>
        <button
          type="submit"
          className="danger-button"
          disabled={busy || (!own && typed.trim().toLowerCase() !== DELETE_CONFIRMATION)}
        >
          {busy ? "Deleting…" : own ? "Delete my account" : "Delete my data"}
        </button>
      </div>
    </form>
  );
}
