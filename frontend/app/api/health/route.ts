// For load balancers and people: is the backend ready (database reachable and migrated)?
import { callBackend } from "@/lib/server/backend";

// Asked on every request, never answered at build: since Next 15 a GET handler is not
// prerendered unless it opts in, so this one needs no `dynamic` export.

/** 200 when the backend's /readyz is ready, 503 with the reason otherwise. */
export async function GET(): Promise<Response> {
  const upstream = await callBackend("/readyz", { headers: new Headers() });
  const backend: unknown = await upstream.json().catch(() => null);
  const ready = upstream.ok;
  return Response.json(
    { status: ready ? "ok" : "unavailable", backend },
    { status: ready ? 200 : 503, headers: { "cache-control": "no-store" } },
  );
}
