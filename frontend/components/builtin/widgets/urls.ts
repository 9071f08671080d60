// Which addresses a widget may point at. Links open off-site in a new tab; images come only
// from http(s) or inline raster data (no SVG, no other scheme).

const LINK = /^(?:https?:\/\/|mailto:)/i;
const IMAGE = /^(?:https?:\/\/|data:image\/(?:png|jpeg|gif|webp|avif);base64,)/i;

export function safeHref(value: unknown): string | undefined {
  return typeof value === "string" && LINK.test(value.trim()) ? value.trim() : undefined;
}

export function safeImageSrc(value: unknown): string | undefined {
  return typeof value === "string" && IMAGE.test(value.trim()) ? value.trim() : undefined;
}
