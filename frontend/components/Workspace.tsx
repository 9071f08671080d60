"use client";

import { useCallback, useRef, useState } from "react";

import type { ChatUi } from "@/lib/shared/chatUi";
import { TASKS_CHANGED } from "@/lib/shared/tasks";

import { AskAboutSelection } from "./AskAboutSelection";
import type { ChatHandle } from "./chatHandle";
import { ChatPanel } from "./ChatPanel";
import { TasksPanel } from "./TasksPanel";

type Props = {
  chatUi: ChatUi;
  userId: string;
  domainKey: string;
  scriptUrl: string;
  loadTimeoutMs: number;
  maxMessageChars: number;
  attachmentMaxBytes: number;
};

/** The signed-in page: the chat, the tasks it changes, and "Ask about this". */
export function Workspace(props: Props) {
  const [tasksVersion, setTasksVersion] = useState(0);
  const chat = useRef<ChatHandle | null>(null);
  const onResponseEnd = useCallback(() => setTasksVersion((n) => n + 1), []);
  // The server's word that tasks changed (after a tool call or a widget button): the panel
  // reloads at once, not only when the answer ends.
  const onEffect = useCallback((name: string) => {
    if (name === TASKS_CHANGED) setTasksVersion((n) => n + 1);
  }, []);
  const onHandle = useCallback((handle: ChatHandle | null) => {
    chat.current = handle;
  }, []);
  const onAsk = useCallback((text: string) => chat.current?.askAbout(text), []);

  return (
    <main className="workspace">
      <section className="chat-column" aria-label="Chat">
        <ChatPanel {...props} onResponseEnd={onResponseEnd} onEffect={onEffect} onHandle={onHandle} />
      </section>
      <TasksPanel version={tasksVersion} />
      <AskAboutSelection onAsk={onAsk} />
    </main>
  );
}
