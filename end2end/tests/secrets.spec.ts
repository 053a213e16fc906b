// Journeys of issue 13: a team member compares their .env.local and sees the
// key they are missing; an admin dismisses a finding (and undoes it); a
// viewer sees the matrix without the dismiss control.
import { test, expect, Page } from "@playwright/test";
import { signIn, waitForHydration, watchConsole } from "./helpers";

/** The secrets page once the first sync has stored a check. */
async function openSecrets(page: Page): Promise<void> {
  await expect(async () => {
    await page.goto("/secrets?project=AllIncompassing");
    await expect(page.getByTestId("secrets-matrix")).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await waitForHydration(page);
}

test("a team member uploads their .env.local and sees the key they are missing", async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, "dev-deployer", "/secrets?project=AllIncompassing");
  await openSecrets(page);
  const canary = "e2e-env-local-canary-31f9";
  await page.getByTestId("env-local-input").setInputFiles({
    name: ".env.local",
    mimeType: "text/plain",
    buffer: Buffer.from(
      `SUPABASE_URL=https://${canary}.supabase.co\nSUPABASE_ANON_KEY=${canary}\nSUPABASE_SERVICE_ROLE_KEY=${canary}\nDEFAULT_ORGANIZATION_ID=${canary}\n`,
    ),
  });
  await expect(page.getByTestId("env-local-result")).toBeVisible();
  const row = page.locator('tr[data-key="SUPABASE_ACCESS_TOKEN"]');
  await expect(row.locator('[data-verdict="missing"]', { hasText: "env-local" })).toBeVisible();
  await expect(page.locator("th", { hasText: ".env.local" })).toBeVisible();
  // Names, states and letters only: the file's values are nowhere.
  expect(await page.content()).not.toContain(canary);
  await page.getByRole("link", { name: "Back to the stored check" }).click();
  await expect(page.getByTestId("env-local-result")).toBeHidden();
  expect(problems).toEqual([]);
});

test("an admin dismisses a finding with a reason, everyone sees why, and it can be undone", async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, "ada-admin", "/secrets?project=AllIncompassing");
  await openSecrets(page);
  const finding = page.getByTestId("finding").first();
  const id = await finding.getAttribute("data-finding");
  expect(id).toBeTruthy();
  await finding.getByText("Dismiss…").click();
  await finding.getByLabel("Why (shown to everyone)").fill("Rotating it in this afternoon's window");
  await finding.getByRole("button", { name: "Dismiss finding" }).click();
  const dismissed = page.locator(`[data-testid="dismissed-finding"][data-finding="${id}"]`);
  await expect(dismissed).toContainText("Rotating it in this afternoon's window");
  await expect(dismissed).toContainText("ada-admin");
  await expect(page.locator(`[data-testid="finding"][data-finding="${id}"]`)).toHaveCount(0);
  // Undo it, so the finding is open again.
  await dismissed.getByTestId("undo-dismissal").click();
  await expect(page.locator(`[data-testid="finding"][data-finding="${id}"]`)).toBeVisible();
  expect(problems).toEqual([]);
});

test("a viewer sees the matrix and findings without the dismiss control", async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, "vera-viewer", "/secrets?project=AllIncompassing");
  await openSecrets(page);
  await expect(page.getByTestId("secrets-findings")).toBeVisible();
  await expect(page.getByTestId("dismiss")).toHaveCount(0);
  await expect(page.locator('td[data-state="write-only"]').first()).toBeVisible();
  // Problems only keeps fewer rows, each with something wrong.
  const all = await page.locator("tr[data-key]").count();
  await page.getByLabel("Problems only").check();
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/problems=1/);
  await expect(page.getByTestId("secrets-matrix")).toBeVisible();
  const left = await page.locator("tr[data-key]").count();
  expect(left).toBeGreaterThan(0);
  expect(left).toBeLessThan(all);
  await expect(page.locator('tr[data-key="SUPABASE_ACCESS_TOKEN"]')).toBeVisible();
  expect(problems).toEqual([]);
});
