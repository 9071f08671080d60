// One open thread as the built-in chat UI shows it, and how each stream event changes it.
// Pure functions over plain data (no browser or React APIs), so node tests run them.
import type {
  AssistantMessageContent,
  ItemPage,
  ItemUpdate,
  StreamEvent,
  ThreadItem,
  ThreadSummary,
} from "@/lib/protocol";

export type Notice = { level: "info" | "warning" | "danger"; title: string | null; message: string };

/** An error event: what went wrong, and whether sending the same request again may work. */
export type Failure = { message: string; allowRetry: boolean };

export type Conversation = {
  /** The thread, once there is one (a new conversation has none until its first answer). */
  thread: ThreadSummary | null;
  /** The items shown, oldest first; hidden context and end-of-turn markers are left out. */
  items: ThreadItem[];
  /** Where `items.list` goes on for older items, or null when the first item is loaded. */
  earlier: string | null;
  /** The latest progress update of the running answer. */
  progress: string | null;
  notice: Notice | null;
  failure: Failure | null;
  /** Whether the server lets the running answer be stopped (its `stream_options`). */
  allowCancel: boolean;
};

export const NEW_CONVERSATION: Conversation = {
  thread: null,
  items: [],
  earlier: null,
  progress: null,
  notice: null,
  failure: null,
  allowCancel: true,
};

export const GENERIC_FAILURE = "Something went wrong while answering. Please try again.";

const UNSHOWN: ReadonlySet<string> = new Set(["hidden_context_item", "sdk_hidden_context", "end_of_turn"]);

function shown(item: ThreadItem): boolean {
  return !UNSHOWN.has(item.type);
}

/** A thread as the server sends it, without the items it may carry (they are loaded apart). */
export function summary(thread: ThreadSummary): ThreadSummary {
  return { ...thread, items: { data: [], has_more: false } };
}

/** A thread just opened: its newest page of items, fetched newest first. */
export function opened(thread: ThreadSummary, newest: ItemPage): Conversation {
  return {
    ...NEW_CONVERSATION,
    thread: summary(thread),
    items: [...newest.data].reverse().filter(shown),
    earlier: newest.has_more ? (newest.after ?? null) : null,
  };
}

/** `state` with an older page (fetched newest first, after `state.earlier`) put before. */
export function withEarlier(state: Conversation, older: ItemPage): Conversation {
  const known = new Set(state.items.map((item) => item.id));
  const fresh = [...older.data].reverse().filter((item) => shown(item) && !known.has(item.id));
  return {
    ...state,
    items: [...fresh, ...state.items],
    earlier: older.has_more ? (older.after ?? null) : null,
  };
}

/** Clears what belonged to the previous answer, before a new request streams. */
export function beforeRequest(state: Conversation): Conversation {
  return { ...state, progress: null, notice: null, failure: null, allowCancel: true };
}

function upsert(items: ThreadItem[], item: ThreadItem): ThreadItem[] {
  if (!shown(item)) return items;
  const index = items.findIndex((existing) => existing.id === item.id);
  if (index === -1) return [...items, item];
  return items.map((existing, at) => (at === index ? item : existing));
}

/** The new state after `event`. Events this UI has no use for leave it unchanged. */
export function applyEvent(state: Conversation, event: StreamEvent): Conversation {
  switch (event.type) {
    case "thread.created":
    case "thread.updated":
      return { ...state, thread: summary(event.thread) };
    case "thread.item.added":
      // The answer has started showing: its progress line has done its job.
      return { ...state, items: upsert(state.items, event.item), progress: null };
    case "thread.item.done":
    case "thread.item.replaced":
      return { ...state, items: upsert(state.items, event.item) };
    case "thread.item.removed":
      return { ...state, items: state.items.filter((item) => item.id !== event.item_id) };
    case "thread.item.updated":
      return {
        ...state,
        items: state.items.map((item) => (item.id === event.item_id ? updated(item, event.update) : item)),
      };
    case "progress_update":
      return { ...state, progress: event.text };
    case "notice":
      return {
        ...state,
        notice: { level: event.level, title: event.title ?? null, message: event.message },
      };
    case "error":
      return {
        ...state,
        progress: null,
        failure: { message: event.message || GENERIC_FAILURE, allowRetry: event.allow_retry },
      };
    case "stream_options":
      return { ...state, allowCancel: event.stream_options.allow_cancel };
    default:
      // client_effect: the page's business (Workspace), not the transcript's.
      return state;
  }
}

function emptyText(): AssistantMessageContent {
  return { type: "output_text", text: "", annotations: [] };
}

function withPart(
  content: AssistantMessageContent[],
  index: number,
  change: (part: AssistantMessageContent) => AssistantMessageContent,
): AssistantMessageContent[] {
  const parts = [...content];
  while (parts.length <= index) parts.push(emptyText());
  parts[index] = change(parts[index]!);
  return parts;
}

/** `item` after one streamed change to it. */
export function updated(item: ThreadItem, update: ItemUpdate): ThreadItem {
  if (item.type === "assistant_message") {
    switch (update.type) {
      case "assistant_message.content_part.added":
      case "assistant_message.content_part.done":
        return { ...item, content: withPart(item.content, update.content_index, () => update.content) };
      case "assistant_message.content_part.text_delta":
        return {
          ...item,
          content: withPart(item.content, update.content_index, (part) => ({
            ...part,
            text: part.text + update.delta,
          })),
        };
      case "assistant_message.content_part.annotation_added":
        return {
          ...item,
          content: withPart(item.content, update.content_index, (part) => {
            const annotations = [...part.annotations];
            annotations[update.annotation_index] = update.annotation;
            return { ...part, annotations };
          }),
        };
      default:
        return item;
    }
  }
  if (item.type === "widget") {
    switch (update.type) {
      case "widget.root.updated":
        return { ...item, widget: update.widget };
      case "widget.component.updated":
        return { ...item, widget: replaced(item.widget, update.component_id, () => update.component) };
      case "widget.streaming_text.value_delta":
        return {
          ...item,
          widget: replaced(item.widget, update.component_id, (component) => ({
            ...component,
            value: `${typeof component.value === "string" ? component.value : ""}${update.delta}`,
          })),
        };
      default:
        return item;
    }
  }
  if (item.type === "workflow" && (update.type === "workflow.task.added" || update.type === "workflow.task.updated")) {
    const tasks = [...item.workflow.tasks];
    tasks[update.task_index] = update.task;
    return { ...item, workflow: { ...item.workflow, tasks } };
  }
  return item;
}

type Node = { id?: unknown; children?: unknown; [field: string]: unknown };

/** `tree` with the component whose id is `id` changed by `change`, wherever it is nested. */
function replaced<T>(tree: T, id: string, change: (component: Node) => unknown): T {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (typeof node !== "object" || node === null) return node;
    const component = node as Node;
    if (component.id === id) return change(component);
    if (!("children" in component)) return component;
    return { ...component, children: visit(component.children) };
  };
  return visit(tree) as T;
}

/** The newest user message, which a retry re-answers. */
export function lastUserMessage(state: Conversation): ThreadItem | undefined {
  return state.items.findLast((item) => item.type === "user_message");
}

/**
 * The answer a person may ask to have again: the newest assistant message, when it answers
 * the newest user message (it comes after it), with that message's id; null otherwise.
 */
export function retryTarget(state: Conversation): { answerId: string; messageId: string } | null {
  const { items } = state;
  const answer = items.findLastIndex((item) => item.type === "assistant_message");
  const message = items.findLastIndex((item) => item.type === "user_message");
  if (answer === -1 || message === -1 || answer < message) return null;
  return { answerId: items[answer]!.id, messageId: items[message]!.id };
}

/**
 * `state` as a retry of the user message `messageId` starts: the server deletes everything
 * after the message (threads.retry_after_item), so the transcript drops it too, and the new
 * answer takes its place as it streams.
 */
export function retrying(state: Conversation, messageId: string): Conversation {
  const at = state.items.findIndex((item) => item.id === messageId);
  if (at === -1) return state;
  return { ...state, items: state.items.slice(0, at + 1) };
}
