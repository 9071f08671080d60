// What a message may carry, as the backend decides it (src/taskchat/files/kinds.py and
// chat/store/attachments.py; tests/test_frontend_protocol.py checks both lists agree). Both chat
// UIs offer only these, so a person is told before uploading rather than after.

/** The most attachments one message may carry. */
export const ATTACHMENTS_PER_MESSAGE = 5;

/** The accepted MIME types, each with its file name endings (the web component's `accept`). */
export const ATTACHMENT_TYPES: Record<string, string[]> = {
  "image/png": [".png"],
  "image/jpeg": [".jpg", ".jpeg"],
  "image/webp": [".webp"],
  "image/gif": [".gif"],
  "text/plain": [".txt", ".text", ".log"],
  "text/markdown": [".md", ".markdown"],
  "text/csv": [".csv"],
  "application/json": [".json"],
};

/** The same, as a file input's `accept` attribute. */
export const ATTACHMENT_ACCEPT = Object.entries(ATTACHMENT_TYPES)
  .flatMap(([type, endings]) => [type, ...endings])
  .join(",");

/** A size in words, as the backend says it: "512 bytes", "40 KB", "5 MB", "4.5 MB". */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MB`;
}

/** The backend's sentence for a file over the limit (its 413), word for word. */
export function tooLargeDetail(maxBytes: number): string {
  return (
    `The file is larger than the ${sizeText(maxBytes)} (${maxBytes.toLocaleString("en-US")} bytes) ` +
    "an attachment may have; attach a smaller one."
  );
}
