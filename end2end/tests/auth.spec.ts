// Journeys: signing in through the sandbox's GitHub page as each seeded role,
// what each role may and may not do, refusals, sign-out, and the page still
// hydrating under the nonce-based Content-Security-Policy.
import { test, expect } from "@playwright/test";
import { signIn, waitForHydration, watchConsole } from "./helpers";

test("an anonymous visitor is sent to sign in and comes back where they were going", async ({ page }) => {
  const problems = watchConsole(page);
  const response = await page.goto("/activity");
  expect(page.url()).toContain("/sign-in?next=%2Factivity");
  const csp = response?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("'nonce-");
  expect(csp).not.toContain("unsafe-inline");
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Sign in to Greenroom" })).toBeVisible();
  await expect(page.getByTestId("team-roles")).toContainText("developers");
  await signIn(page, "dev-deployer", "/activity");
  await expect(page.getByRole("heading", { name: "Activity", level: 1 })).toBeVisible();
  await expect(page.getByTestId("user-role")).toHaveText("deployer");
  expect(problems, problems.join("\n")).toEqual([]);
});

test("a viewer reads the activity log but may not end sessions", async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, "vera-viewer", "/activity");
  await waitForHydration(page);
  await expect(page.getByTestId("user-role")).toHaveText("viewer");
  const table = page.getByTestId("activity-table");
  await expect(table).toContainText("sign_in");
  await expect(table).toContainText("vera-viewer");
  await expect(page.getByTestId("end-all-sessions")).toHaveCount(0);
  // The function itself refuses a viewer, whatever the page shows.
  const origin = new URL(page.url()).origin;
  const refused = await page.request.post("/api/sessions/end-all", {
    headers: { origin, "content-type": "application/x-www-form-urlencoded" },
  });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error).toContain("needs admin");
  // Filters narrow the log; an impossible one shows the empty state.
  await page.getByLabel("Outcome").selectOption("unknown");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByTestId("activity-empty")).toBeVisible();
  expect(problems, problems.join("\n")).toEqual([]);
});

test("an admin ends every other session, and the refused viewer call is in the log", async ({ page, browser }) => {
  // Someone else signed in, in another browser.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, "vera-viewer");

  await signIn(page, "ada-admin", "/activity");
  await waitForHydration(page);
  await expect(page.getByTestId("user-role")).toHaveText("admin");
  await page.getByTestId("end-all-sessions").click();
  await expect(page.getByRole("status").filter({ hasText: "sessions ended" })).toBeVisible();

  // The other browser is signed out; the admin is not.
  await otherPage.goto("/");
  await expect(otherPage).toHaveURL(/\/sign-in/);
  await page.goto("/activity?action=sessions_end_all");
  await expect(page.getByTestId("activity-table")).toContainText("succeeded");
  await other.close();

  // The export holds what the filters select.
  const csv = await page.request.get("/activity/export?format=csv&action=sessions_end_all");
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toMatch(/^id,occurred_at,actor,role,action/);
});

test("a sign-in that cannot be verified is refused with the reason, and sign-out ends the session", async ({ page }) => {
  await page.goto("/auth/callback?code=stolen&state=forged");
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByTestId("refusal")).toContainText("No sign-in was in progress");

  await signIn(page, "vera-viewer");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
});
