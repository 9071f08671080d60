// Reading a failed answer from this app's routes, in the browser: they send problems as
// `{"error": <code>, "detail": <sentence>}` (lib/server/backend.ts), and the sentence is
// what a person should see.
import "client-only";

/** The answer's `detail` sentence; `fallback` when there is none (not JSON, or no detail). */
export async function errorDetail(response: Response, fallback: string): Promise<string> {
  const body: unknown = await response.json().catch(() => null);
  const detail = (body as { detail?: unknown } | null)?.detail;
  return typeof detail === "string" && detail ? detail : fallback;
}
