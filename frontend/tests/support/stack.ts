// The whole app for the frontend's tests: the real backend on a real PostgreSQL with the
// scripted model server (started by `python -m tests.support.stack` from the repository's
// virtualenv), and this Next.js app's production server (`npm start`) pointed at it.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

export const FRONTEND_DIR = path.resolve(import.meta.dirname, "..", "..");
const REPOSITORY_DIR = path.resolve(FRONTEND_DIR, "..");

/** One scripted model reply, as tests/support/fake_openai.py's `Reply` takes it. */
export type Reply = {
  text?: string[];
  tool_calls?: { name: string; arguments: Record<string, unknown>; call_id?: string }[];
  status?: number;
  hold_after?: number;
  chunk_delay?: number;
};

export type ModelState = {
  requests: { messages?: { role: string; content: unknown }[] }[];
  streams_closed: number;
  queued: number;
};

/** The scripted model server's control routes. */
export class Model {
  constructor(readonly url: string) {}

  private async call(route: string, init?: RequestInit): Promise<unknown> {
    const response = await fetch(`${this.url}/_control/${route}`, init);
    if (!response.ok) throw new Error(`model control ${route}: ${response.status}`);
    return response.json();
  }

  async script(...replies: Reply[]): Promise<void> {
    await this.call("script", { method: "POST", body: JSON.stringify(replies) });
  }

  /** Answers for the next title calls (a thread's name, after its first message). */
  async titles(...titles: string[]): Promise<void> {
    await this.call("titles", { method: "POST", body: JSON.stringify(titles) });
  }

  async release(): Promise<void> {
    await this.call("release", { method: "POST" });
  }

  async reset(): Promise<void> {
    await this.call("reset", { method: "POST" });
  }

  async state(): Promise<ModelState> {
    return (await this.call("state")) as ModelState;
  }
}

export type Stack = {
  backendUrl: string;
  appUrl: string;
  model: Model;
  stop: () => Promise<void>;
};

/** Wait for `check` to hold, polling; fail with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** The last lines a process wrote, to explain why it failed. */
function tail(child: ChildProcess, stream: "stdout" | "stderr", keep = 60): () => string {
  const lines: string[] = [];
  const source = child[stream];
  if (source) {
    createInterface({ input: source }).on("line", (line) => {
      lines.push(line);
      if (lines.length > keep) lines.shift();
      if (process.env.TASKCHAT_TEST_VERBOSE) console.error(`[${stream}] ${line}`);
    });
  }
  return () => lines.join("\n");
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const done = await Promise.race([
    exited(child).then(() => true),
    sleep(graceMs, false, { ref: false }),
  ]);
  if (!done) {
    child.kill("SIGKILL");
    await exited(child);
  }
}

function pythonExecutable(): string {
  const given = process.env.TASKCHAT_PYTHON;
  if (given) return given;
  const venv = path.join(REPOSITORY_DIR, ".venv", "bin", "python");
  if (!existsSync(venv)) {
    throw new Error(
      "The frontend tests run the real backend from the repository's virtualenv, which is " +
        "missing: run `make install` at the repository root first (or set TASKCHAT_PYTHON).",
    );
  }
  return venv;
}

async function startBackend(
  settings: Record<string, string>,
): Promise<{ backend: ChildProcess; backendUrl: string; modelUrl: string }> {
  const backend = spawn(pythonExecutable(), ["-m", "tests.support.stack"], {
    cwd: REPOSITORY_DIR,
    env: { ...process.env, TASKCHAT_STACK_SETTINGS: JSON.stringify(settings) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const errors = tail(backend, "stderr");
  const lines = createInterface({ input: backend.stdout! });
  const first = new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    backend.once("exit", (code) => reject(new Error(`the backend stack exited (${code}):\n${errors()}`)));
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the backend stack did not start in time:\n${errors()}`)),
      180_000,
    );
  });
  try {
    const announcement = JSON.parse(await Promise.race([first, timeout])) as {
      backend_url: string;
      model_url: string;
    };
    return { backend, backendUrl: announcement.backend_url, modelUrl: announcement.model_url };
  } catch (error) {
    backend.kill("SIGTERM");
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function startNext(
  backendUrl: string,
  env: Record<string, string>,
): Promise<{ next: ChildProcess; appUrl: string }> {
  const server = path.join(FRONTEND_DIR, ".next", "standalone", "server.js");
  if (!existsSync(server)) {
    throw new Error("No production build: run `npm run build` first (`npm test` does).");
  }
  const port = await freePort();
  // `npm start`'s command, the one the frontend image runs.
  const next = spawn(process.execPath, [server], {
    cwd: FRONTEND_DIR,
    env: {
      ...process.env,
      BACKEND_URL: backendUrl,
      HOSTNAME: "127.0.0.1",
      PORT: String(port),
      NEXT_TELEMETRY_DISABLED: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = tail(next, "stdout");
  const errors = tail(next, "stderr");
  const appUrl = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      "the Next.js server to answer",
      async () => {
        if (next.exitCode !== null) throw new Error(`the Next.js server exited:\n${output()}\n${errors()}`);
        try {
          return (await fetch(`${appUrl}/login`)).ok;
        } catch {
          return false;
        }
      },
      60_000,
    );
  } catch (error) {
    next.kill("SIGTERM");
    throw error;
  }
  return { next, appUrl };
}

/**
 * One more Next.js production server in front of a running backend, with other frontend
 * settings (`env`), for tests that compare two configurations against the same backend.
 */
export async function startFrontend(
  backendUrl: string,
  env: Record<string, string>,
): Promise<{ appUrl: string; stop: () => Promise<void> }> {
  const { next, appUrl } = await startNext(backendUrl, env);
  return { appUrl, stop: () => stopProcess(next, 10_000) };
}

/**
 * Start the backend stack and the Next.js production server; `env` adds frontend settings,
 * `backendSettings` overrides backend ones by field name (`auth_rate_limit_address`, ...).
 */
export async function startStack(
  env: Record<string, string> = {},
  backendSettings: Record<string, string> = {},
): Promise<Stack> {
  const { backend, backendUrl, modelUrl } = await startBackend(backendSettings);
  let next: ChildProcess;
  let appUrl: string;
  try {
    ({ next, appUrl } = await startNext(backendUrl, env));
  } catch (error) {
    backend.stdin?.end();
    await stopProcess(backend, 30_000);
    throw error;
  }
  return {
    backendUrl,
    appUrl,
    model: new Model(modelUrl),
    stop: async () => {
      await stopProcess(next, 10_000);
      // Closing its input tells the stack to stop its servers, the database included.
      backend.stdin?.end();
      await Promise.race([exited(backend), sleep(30_000, undefined, { ref: false })]);
      await stopProcess(backend, 10_000);
    },
  };
}
