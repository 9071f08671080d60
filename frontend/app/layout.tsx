import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";

import "./globals.css";

export const metadata: Metadata = {
  title: "Taskchat",
  description: "Chat with an assistant that keeps your task list.",
};

export const viewport: Viewport = {
  colorScheme: "light dark",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page renders per request, the not-found page too: its scripts need the nonce of the
  // response's Content-Security-Policy (see proxy.ts), and a page prerendered at build has none.
  await connection();
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
