// The chat's handle, for the page around it. Its own module so that both chat UIs (the
// web component's, in ChatPanel, and the built-in one) and the Workspace holding the
// handle can name it without importing one another.

/** What the rest of the page may do with the chat once it is up. */
export type ChatHandle = {
  /** Put a quote of `text` in the composer and focus it, ready for a question. */
  askAbout: (text: string) => void;
};
