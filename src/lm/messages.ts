/**
 * Chat messages as JSON, serialized once per message list: the request body (client.ts) and the
 * stored module call (module_calls.request_messages_json) share the text. A message list is
 * never changed after it is built (program/adapter/format.ts makes a new one per call).
 */
import type { ChatMessage } from "./types.ts";

const serialized = new WeakMap<readonly ChatMessage[], string>();

/** `[{"role":…,"content":…},…]`: each message's role and content, in that order. */
export function messagesJson(messages: readonly ChatMessage[]): string {
  let text = serialized.get(messages);
  if (text === undefined) {
    text = JSON.stringify(messages.map((message) => ({ role: message.role, content: message.content })));
    serialized.set(messages, text);
  }
  return text;
}
