import type { Metadata } from "next";

import { AccountMenu } from "@/components/AccountMenu";
import { Workspace } from "@/components/Workspace";
import {
  attachmentMaxBytes,
  chatUi,
  chatkitDomainKey,
  chatkitLoadTimeoutMs,
  chatkitScriptUrl,
  maxMessageChars,
} from "@/lib/server/config";
import { requireSession } from "@/lib/server/currentSession";

export const metadata: Metadata = { title: "Chat · Taskchat" };

export default async function ChatPage() {
  // First: reading the session cookie is what makes this page render per request, so the
  // settings below are read then, never at build.
  const session = await requireSession();
  return (
    <div className="app-shell">
      <header className="app-header">
        <span className="brand">Taskchat</span>
        <span className="spacer" />
        {session.name ? <span className="who">{session.name}</span> : null}
        <AccountMenu />
        <form method="post" action="/api/auth/logout">
          <button type="submit" className="link-button">
            Sign out
          </button>
        </form>
      </header>
      <Workspace
        chatUi={chatUi()}
        userId={session.sub}
        domainKey={chatkitDomainKey()}
        scriptUrl={chatkitScriptUrl()}
        loadTimeoutMs={chatkitLoadTimeoutMs()}
        maxMessageChars={maxMessageChars()}
        attachmentMaxBytes={attachmentMaxBytes()}
      />
    </div>
  );
}
