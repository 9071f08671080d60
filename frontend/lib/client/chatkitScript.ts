// Loading the ChatKit web component from its CDN script, in the browser.
//
// The component is a custom element defined by a script that is not on npm, so the page
// adds the script itself and waits for the element's definition: that is the only sure
// sign it is usable. A failed or slow load rejects, so the page can say so and retry.
import "client-only";

export const CHATKIT_ELEMENT = "openai-chatkit";

const LOADER_ATTRIBUTE = "data-chatkit-loader";

/** Resolves once `<openai-chatkit>` is defined; rejects on a load error or after `timeoutMs`. */
export function loadChatKitScript(src: string, timeoutMs: number): Promise<void> {
  if (customElements.get(CHATKIT_ELEMENT)) return Promise.resolve();
  // A retry must really fetch again: drop the script tag of the attempt that failed.
  for (const stale of document.querySelectorAll(`script[${LOADER_ATTRIBUTE}="failed"]`)) {
    stale.remove();
  }
  let script = document.querySelector<HTMLScriptElement>(`script[${LOADER_ATTRIBUTE}]`);
  if (!script) {
    // No nonce: the page's Content-Security-Policy lets this script in by its origin
    // (lib/server/securityHeaders.ts).
    script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.setAttribute(LOADER_ATTRIBUTE, "loading");
    document.head.appendChild(script);
  }
  const tag = script;
  return new Promise<void>((resolve, reject) => {
    const fail = (reason: string): void => {
      window.clearTimeout(timer);
      tag.setAttribute(LOADER_ATTRIBUTE, "failed");
      reject(new Error(reason));
    };
    const timer = window.setTimeout(() => fail("took too long to load"), timeoutMs);
    tag.addEventListener("error", () => fail("could not be loaded"), { once: true });
    void customElements.whenDefined(CHATKIT_ELEMENT).then(() => {
      window.clearTimeout(timer);
      tag.setAttribute(LOADER_ATTRIBUTE, "loaded");
      resolve();
    });
  });
}
