// Which chat UI the page shows (CHAT_UI): OpenAI's ChatKit web component, Taskchat's
// built-in one, or the web component with the built-in one when its script cannot load.

export const CHAT_UIS = ["auto", "chatkit", "builtin"] as const;

export type ChatUi = (typeof CHAT_UIS)[number];

export function isChatUi(value: string): value is ChatUi {
  return (CHAT_UIS as readonly string[]).includes(value);
}
