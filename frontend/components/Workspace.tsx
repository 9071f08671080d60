"use client";

import { useCallback, useRef, useState } from "react";

import type { ChatUi } from "@/lib/shared/chatUi";

import { AskAboutSelection } from "./AskAboutSelection";
import { ChatPanel, type ChatHandle } from "./ChatPanel";
import { TasksPanel } from "./TasksPanel";

type Props = {
  chatUi: ChatUi;
  userId: string;
  domainKey: string;
  scriptUrl: string;
  loadTimeoutMs: number;
  maxMessageChars: number;
};

/** The signed-in page: the chat, the tasks it changes, and "Ask about this". */
export function Workspace(props: Props) {
  const [tasksVersion, setTasksVersion] = useState(0);
  const chat = useRef<ChatHandle | null>(null);
  const onResponseEnd = useCallback(() => setTasksVersion((n) => n + 1), []);
  const onHandle = useCallback((handle: ChatHandle | null) => {
    chat.current = handle;
  }, []);
  const onAsk = useCallback((text: string) => chat.current?.askAbout(text), []);

  return (
    <main className="workspace">
      <section className="chat-column" aria-label="Chat">
        <ChatPanel {...props} onResponseEnd={onResponseEnd} onHandle={onHandle} />
      </section>
      <TasksPanel version={tasksVersion} />
      <AskAboutSelection onAsk={onAsk} />
    </main>
  );
}
