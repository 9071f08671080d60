// ChatKit requests and their SSE answers, as the widget sends and reads them.

export type ChatEvent = { type: string; [field: string]: unknown };

export function createThread(text: string): Record<string, unknown> {
  return {
    type: "threads.create",
    params: { input: { content: [{ type: "input_text", text }], attachments: [], inference_options: {} } },
  };
}

/** A text delta's text, if `event` is one. */
export function deltaText(event: ChatEvent): string | null {
  const update = event.update as { type?: string; delta?: string } | undefined;
  if (event.type === "thread.item.updated" && update?.type === "assistant_message.content_part.text_delta") {
    return update.delta ?? "";
  }
  return null;
}

export function threadIdOf(events: ChatEvent[]): string {
  for (const event of events) {
    if (event.type === "thread.created") return (event.thread as { id: string }).id;
  }
  throw new Error(`no thread.created event in ${JSON.stringify(events)}`);
}

/** Each SSE event of `response` with the time it arrived, as it arrives. */
export async function* sseEvents(response: Response): AsyncGenerator<{ event: ChatEvent; at: number }> {
  if (!response.body) throw new Error("no body");
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split("\n")) {
        if (line.startsWith("data: ")) {
          yield { event: JSON.parse(line.slice(6)) as ChatEvent, at: performance.now() };
        }
      }
    }
  }
}

export async function allEvents(response: Response): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for await (const { event } of sseEvents(response)) events.push(event);
  return events;
}
