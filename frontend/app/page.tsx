import { redirect } from "next/navigation";

import { currentSession } from "@/lib/server/currentSession";

export default async function Home(): Promise<never> {
  redirect((await currentSession()) ? "/chat" : "/login");
}
