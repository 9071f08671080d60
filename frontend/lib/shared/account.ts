// The signed-in person's account as /api/account answers it: shared by the route, which
// checks the backend's answer, and the account menu, which reads it.

export type Account = {
  id: string;
  /** Null when an identity provider holds the account (nothing about it is kept here). */
  email: string | null;
  name: string | null;
  created_at: string | null;
  /** Deleting asks for the password (a Taskchat account), else for the typed confirmation. */
  has_password: boolean;
};

/** What a person without a password here types to delete their data (as the backend asks). */
export const DELETE_CONFIRMATION = "delete my data";

/**
 * What a person is told when their deletion was sent but not confirmed in time (by the route's
 * 504, and on the sign-in page the account menu then goes to): it may have happened.
 */
export const DELETION_UNCONFIRMED =
  "Taskchat did not confirm the deletion in time; it may still have happened. " +
  "Sign in again to see whether it did.";

export function isAccount(value: unknown): value is Account {
  if (typeof value !== "object" || value === null) return false;
  const account = value as Record<string, unknown>;
  const textOrNull = (field: unknown) => field === null || typeof field === "string";
  return (
    typeof account.id === "string" &&
    textOrNull(account.email) &&
    textOrNull(account.name) &&
    textOrNull(account.created_at) &&
    typeof account.has_password === "boolean"
  );
}
