import { expect, Page, ConsoleMessage } from "@playwright/test";

/** Collects console errors and page errors (hydration mismatches, panics, CSP). */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() === "error") problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(String(err)));
  return problems;
}

/** Waits until the wasm bundle has hydrated the server-rendered page. */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
}

/** Signs in through the sandbox's GitHub page as one of its seeded members. */
export async function signIn(page: Page, login: string, next = "/"): Promise<void> {
  await page.goto(next === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(next)}`);
  await page.getByTestId("sign-in-with-github").click();
  // The sandbox's authorize page: pick who to be.
  await expect(page.getByRole("heading", { name: "Sandbox GitHub" })).toBeVisible();
  await page.getByRole("radio", { name: new RegExp(`@${login}`) }).check();
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL((u) => u.pathname === new URL(next, "http://x").pathname);
}
