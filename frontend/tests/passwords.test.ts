// Weak passwords through the real Next.js proxy (`npm start` in front of the real backend):
// the backend's refusal and its sentence reach the browser, and the register page says
// the rules before anyone tries.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { COOKIE, uniqueEmail } from "./support/session";
import { startStack, type Stack } from "./support/stack";

let stack: Stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

function registerWith(email: string, password: string): Promise<Response> {
  return fetch(`${stack.appUrl}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: stack.appUrl },
    body: JSON.stringify({ name: "Grace", email, password }),
  });
}

/** The refusal's body, after checking it is a 400 weak_password that signs nobody in and
 * does not hold the password (in any case). */
async function refusal(response: Response, password: string): Promise<string> {
  assert.equal(response.status, 400);
  assert.deepEqual(response.headers.getSetCookie(), []);
  const text = await response.text();
  assert.ok(!text.toLowerCase().includes(password.toLowerCase()), text);
  const body = JSON.parse(text) as { error: string; detail: string };
  assert.equal(body.error, "weak_password");
  return body.detail;
}

describe("passwords", () => {
  test("a common password, in any case, is a 400 whose sentence comes back through the proxy", async () => {
    for (const password of ["12345678", "PassWord1", "Qwertyuiop"]) {
      const detail = await refusal(await registerWith(uniqueEmail(), password), password);
      assert.match(detail, /too common/);
    }
  });

  test("the email as the password is refused; a strong one makes the account", async () => {
    const email = uniqueEmail();
    assert.match(await refusal(await registerWith(email, email.toUpperCase()), email), /email/);
    const created = await registerWith(email, "tangerine-kettle-orbit");
    assert.equal(created.status, 201);
    assert.ok(created.headers.getSetCookie().some((cookie) => cookie.startsWith(`${COOKIE}=ey`)));
  });

  test("the register page says the rules under the password field", async () => {
    const html = await (await fetch(`${stack.appUrl}/register`)).text();
    const field = html.match(/<input[^>]*name="password"[^>]*>/)?.[0] ?? "no password field";
    assert.match(field, /aria-describedby="password-hint"/);
    const hint = /<p id="password-hint"[^>]*>At least 8 characters; not a common password or your email\.<\/p>/;
    assert.ok(hint.test(html), "no hint under the password field");
  });
});
