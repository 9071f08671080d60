// Next calls register() once when the server starts, before it handles requests.
export async function register(): Promise<void> {
  // The hook needs Node's HTTP server; Next also evaluates this file for the edge runtime.
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { chatUi, maxMessageChars } = await import("./lib/server/config");
  // Read per request, but checked here too: a bad value stops the server when it starts,
  // with the variable's name, instead of failing every page.
  chatUi();
  maxMessageChars();
  const { startClientAddressHook } = await import("./lib/server/clientAddressHook");
  // Every request's X-Forwarded-For becomes the one client address the backend counts.
  startClientAddressHook();
}
