// The security headers of every page, made per request by proxy.ts (which only wires them).
// next.config.ts keeps the static ones that apply to every file too (X-Content-Type-Options,
// Referrer-Policy, X-Frame-Options).
import "server-only";

import { chatUi, chatkitScriptUrl } from "./config";
import { servedOverHttps } from "./session";

export type PolicyInputs = {
  /** This response's nonce: Next puts it on every script it renders into the page. */
  nonce: string;
  /** The ChatKit web component's script, or null when no page will load it. */
  chatkitScriptUrl: string | null;
  /** `next dev`, whose React needs eval (see script-src). */
  development: boolean;
};

/** The Content-Security-Policy for one page response. */
export function contentSecurityPolicy({ nonce, chatkitScriptUrl, development }: PolicyInputs): string {
  // The widget is a script from OpenAI's CDN that draws the chat in an iframe served from the
  // same CDN (openai/chatkit-js publishes only its types and React wrapper; the element's code
  // ships from the CDN). Every page allows it, not only /chat: signing in moves to /chat
  // without loading a new document, and a document keeps the policy it came with.
  const chatkit = chatkitScriptUrl === null ? null : new URL(chatkitScriptUrl).origin;
  const directives: string[][] = [
    // Whatever is not named below (images, fonts, media, workers, the manifest): this origin
    // only. So injected CSS has nowhere to send what it reads.
    ["default-src", "'self'"],
    // Next's bundles ('self': also the chunks its runtime adds while navigating), Next's inline
    // scripts (the nonce, which Next reads from this header on the request) and the ChatKit
    // script that lib/client/chatkitScript.ts adds (by its origin; it has no nonce). No
    // 'strict-dynamic': with it any script we run could add any other, and the CDN's origin
    // here would stop being what lets the widget in. Never 'unsafe-inline': an injected
    // <script> must not run.
    [
      "script-src",
      "'self'",
      `'nonce-${nonce}'`,
      ...(chatkit ? [chatkit] : []),
      // React uses eval in development only, to rebuild server error stacks in the browser.
      ...(development ? ["'unsafe-eval'"] : []),
    ],
    // 'unsafe-inline' rather than nonces: Next's own not-found page renders `style=` attributes
    // and a <style> tag without a nonce, and so may the ChatKit element (with a nonce listed,
    // browsers would ignore 'unsafe-inline'). Styles run no code, and default-src keeps what
    // they load to this origin, so injected CSS cannot send what it reads anywhere.
    ["style-src", "'self'", "'unsafe-inline'"],
    // The page's own calls only: the chat's requests go through our fetch to /api/chatkit (the
    // widget's `api.fetch`), and /api/tasks and /api/auth/* are ours. What the widget's iframe
    // fetches (OpenAI's own services) is governed by the iframe's policy, not this one.
    ["connect-src", "'self'"],
    // The ChatKit iframe, from the script's origin; no other frames.
    ["frame-src", chatkit ?? "'none'"],
    // No plugins, no <base> to re-point relative URLs, forms post only to us.
    ["object-src", "'none'"],
    ["base-uri", "'none'"],
    ["form-action", "'self'"],
    // No other site may frame us (clickjacking); X-Frame-Options says the same to old browsers.
    ["frame-ancestors", "'none'"],
  ];
  return directives.map((directive) => directive.join(" ")).join("; ");
}

// Browser features the app never uses, off for the page and any frame in it. The microphone
// too: the ChatKit composer has dictation, but it is off unless `composer.dictation` is set,
// which we do not. Only features Chromium knows: an unknown one is a console error.
export const PERMISSIONS_POLICY = [
  "accelerometer",
  "browsing-topics",
  "camera",
  "display-capture",
  "geolocation",
  "gyroscope",
  "hid",
  "idle-detection",
  "magnetometer",
  "microphone",
  "midi",
  "payment",
  "screen-wake-lock",
  "serial",
  "usb",
  "xr-spatial-tracking",
]
  .map((feature) => `${feature}=()`)
  .join(", ");

// A year, for this host only: includeSubDomains could break other sites under the same name
// that still serve plain HTTP, which are not ours to decide for.
export const STRICT_TRANSPORT_SECURITY = "max-age=31536000";

/** A fresh, unguessable nonce (128 random bits, base64). */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/** The headers for the page answering `request`, with a fresh nonce in its CSP. */
export function securityHeaders(request: Request): Headers {
  const headers = new Headers({
    "Content-Security-Policy": contentSecurityPolicy({
      nonce: newNonce(),
      // Every page may load the ChatKit script unless the built-in UI is the only one: then
      // no page names OpenAI's CDN at all.
      chatkitScriptUrl: chatUi() === "builtin" ? null : chatkitScriptUrl(),
      development: process.env.NODE_ENV === "development",
    }),
    "Permissions-Policy": PERMISSIONS_POLICY,
  });
  // Only when the browser came in over HTTPS (over plain HTTP browsers ignore it anyway), read
  // from the request the same way as the session cookie's Secure flag.
  if (servedOverHttps(request)) headers.set("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY);
  return headers;
}
