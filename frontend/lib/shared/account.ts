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
