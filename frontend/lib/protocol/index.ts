// Names for the parts of the generated ChatKit protocol (chatkit.ts, from the Python SDK's
// models: `make protocol`) that the built-in chat UI works with. Aliases only: every
// protocol type itself is generated.
import type { ChatKitProtocol } from "./chatkit";

export type * from "./chatkit";

/** Anything the browser may send to /api/chatkit. */
export type ChatKitRequest = ChatKitProtocol["request"];

/** One event of a streamed answer. */
export type StreamEvent = ChatKitProtocol["event"];

/** Any item of a thread, as the server sends it. */
export type ThreadItem = ChatKitProtocol["itemPage"]["data"][number];

/** A thread in the list: the items the server sends with it are not used there. */
export type ThreadSummary = ChatKitProtocol["threadPage"]["data"][number];

/** A change to one item while it streams. */
export type ItemUpdate = Extract<StreamEvent, { type: "thread.item.updated" }>["update"];
