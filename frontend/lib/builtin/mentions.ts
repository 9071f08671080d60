// @-mentions in the built-in composer: finding the "@query" being typed, and turning the
// text with its picked tasks into the message's parts (text, and a tag per mention, where
// it was written). Pure functions, so node tests run them.
import type { UserMessageInput } from "@/lib/protocol";

/** A task picked from the "@" menu: shown in the text as `@title`. */
export type Mention = { id: string; title: string };

export type MessageContent = UserMessageInput["content"];

/** The "@query" that ends at `caret` (after a space or at the start), if one is typed. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const match = /(^|\s)@([^\s@]{0,40})$/.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: caret - match[2]!.length - 1, query: match[2]! };
}

/** `text` with the "@query" at `start..caret` replaced by `@title `; and the new caret. */
export function withMention(
  text: string,
  start: number,
  caret: number,
  title: string,
): { text: string; caret: number } {
  const inserted = `@${title} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

/** The message's parts: text, with a tag wherever a picked task's `@title` still is. */
export function messageContent(text: string, mentions: readonly Mention[]): MessageContent {
  const kept = [...mentions].sort((a, b) => b.title.length - a.title.length);
  const parts: MessageContent = [];
  let rest = text;
  let plain = "";
  while (rest) {
    const mention = rest.startsWith("@") ? kept.find((each) => rest.startsWith(`@${each.title}`)) : undefined;
    if (mention) {
      if (plain) parts.push({ type: "input_text", text: plain });
      plain = "";
      // The id is what the server uses (it looks the task up itself); the text is shown.
      parts.push({ type: "input_tag", id: mention.id, text: mention.title, data: {}, interactive: true });
      rest = rest.slice(mention.title.length + 1);
    } else {
      plain += rest[0];
      rest = rest.slice(1);
    }
  }
  if (plain) parts.push({ type: "input_text", text: plain });
  return parts;
}
