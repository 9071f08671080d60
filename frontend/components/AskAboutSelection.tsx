"use client";

import { useEffect, useState } from "react";

const MAX_QUOTE_CHARS = 500;

type Selected = { text: string; top: number; left: number };

function currentSelection(): Selected | null {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || selection.rangeCount === 0) return null;
  const text = selection.toString().replace(/\s+/g, " ").trim();
  if (!text) return null;
  const anchor = selection.anchorNode?.parentElement;
  // Text being typed into a field is not something to ask about.
  if (anchor?.closest("input, textarea, [contenteditable], .ask-about")) return null;
  const rect = selection.getRangeAt(0).getBoundingClientRect();
  return {
    text: text.slice(0, MAX_QUOTE_CHARS),
    top: rect.bottom + 8,
    left: Math.max(8, Math.min(rect.left, window.innerWidth - 180)),
  };
}

/** "Ask about this" beside any text selected on the page (the chat itself is a frame). */
export function AskAboutSelection({ onAsk }: { onAsk: (text: string) => void }) {
  const [selected, setSelected] = useState<Selected | null>(null);

  useEffect(() => {
    const update = (): void => setSelected(currentSelection());
    document.addEventListener("mouseup", update);
    document.addEventListener("keyup", update);
    document.addEventListener("selectionchange", update);
    return () => {
      document.removeEventListener("mouseup", update);
      document.removeEventListener("keyup", update);
      document.removeEventListener("selectionchange", update);
    };
  }, []);

  if (!selected) return null;
  return (
    <button
      type="button"
      className="ask-about"
      style={{ top: selected.top, left: selected.left }}
      // Keep the selection while the button is pressed.
      onMouseDown={(event) => event.preventDefault()}
      onClick={() => {
        onAsk(selected.text);
        window.getSelection()?.removeAllRanges();
        setSelected(null);
      }}
    >
      Ask about this
    </button>
  );
}
