// Issue 15's read side: a viewer opens the Branches page from the
// navigation, sees the branches in Supabase's sections with a failed
// migration's reason, no buttons, and the backups panel; a branch made in
// Supabase meanwhile appears and is followed live to ready without a reload.
import { test, expect, Page } from "@playwright/test";
import { signIn, waitForHydration, watchConsole } from "./helpers";

const projectRef = "wnnjeqheqxxyrgsjmygy";
// The sandbox Greenroom itself talks to (its own, started in sandbox mode),
// as its status panel names it.
let sandbox = "";

async function findSandbox(page: Page): Promise<void> {
  await page.goto("/");
  const text = (await page.getByTestId("sandbox-url").textContent()) ?? "";
  const url = text.match(/http:\/\/127\.0\.0\.1:\d+/);
  expect(url, `the status panel names the sandbox: ${text}`).toBeTruthy();
  sandbox = url![0];
}

// Tests here speed the sandbox up; the next ones must find it at its pace.
test.afterEach(async ({ request }) => {
  if (sandbox) await request.post(`${sandbox}/__sandbox/clock`, { data: { pace: 1 } });
});

test("a viewer follows the branches live, without buttons", async ({ page, request }) => {
  const problems = watchConsole(page);
  await signIn(page, "vera-viewer", "/");
  await findSandbox(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Branches" }).click();
  await expect(page).toHaveURL(/\/branches/);
  await expect(async () => {
    await page.goto("/branches?project=AllIncompassing");
    await expect(page.getByTestId("section-preview")).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await waitForHydration(page);

  await expect(page.getByTestId("section-production").locator('[data-branch="main"]')).toBeVisible();
  const failed = page.locator('[data-branch="fix-rls-policies"]');
  await expect(failed.getByTestId("branch-status")).toContainText("Migrations failed");
  await expect(failed.getByTestId("run-why")).toContainText('relation "public.accounts" does not exist');
  await expect(page.getByTestId("branch-cost")).toContainText("outside the organization's spend cap");
  await expect(page.getByTestId("restore-window")).toContainText("daily backups");
  // Read-only for a viewer: nothing to press on the page itself.
  await expect(page.locator("main button")).toHaveCount(0);
  await expect(page.locator("main form")).toHaveCount(0);
  expect(await page.content()).not.toContain("sandbox-db-pass-");

  // A branch made in Supabase (100x faster than real) shows up and moves to
  // ready while the page stays open.
  expect((await request.post(`${sandbox}/__sandbox/clock`, { data: { pace: 0.01 } })).ok()).toBeTruthy();
  const made = await request.post(`${sandbox}/supabase/v1/projects/${projectRef}/branches`, {
    headers: { Authorization: "Bearer e2e" },
    data: { branch_name: "e2e-live-branch", git_branch: "feature/e2e" },
  });
  expect((await request.post(`${sandbox}/__sandbox/clock`, { data: { pace: 1 } })).ok()).toBeTruthy();
  expect(made.status()).toBe(201);
  // The open page follows it through the live view, without a reload.
  const live = page.locator('[data-branch="e2e-live-branch"]');
  await expect(live).toBeVisible({ timeout: 10_000 });
  await expect(live).toHaveAttribute("data-phase", "ready", { timeout: 15_000 });
  await expect(live.getByTestId("branch-status")).toContainText("Edge functions deployed");
  expect(problems).toEqual([]);
});

test("a deployer creates a branch and watches it reach healthy", async ({ page, request }) => {
  const problems = watchConsole(page);
  await signIn(page, "dev-deployer", "/branches?project=AllIncompassing");
  await findSandbox(page);
  await page.goto("/branches?project=AllIncompassing");
  await expect(page.getByTestId("section-preview")).toBeVisible({ timeout: 60_000 });
  await waitForHydration(page);
  // 100x faster than Supabase, for this branch only.
  expect((await request.post(`${sandbox}/__sandbox/clock`, { data: { pace: 0.01 } })).ok()).toBeTruthy();
  await page.getByTestId("create-branch").locator("summary").click();
  await page.getByTestId("branch-name").fill("e2e-deployer-branch");
  await page.getByTestId("branch-git").fill("feature/e2e-deployer");
  await expect(page.getByTestId("create-branch")).toContainText("an hour");
  await page.getByTestId("branch-confirm").check();
  await page.getByTestId("branch-create-submit").click();
  const op = page.getByTestId("branch-operations").getByTestId("action").first();
  await expect(op).toContainText("Create preview branch e2e-deployer-branch", { timeout: 15_000 });
  const branch = page.locator('[data-branch="e2e-deployer-branch"]');
  // The open page follows it live to a terminal state, and a reload keeps it.
  await expect(branch).toHaveAttribute("data-phase", "ready", { timeout: 30_000 });
  await expect(op).toHaveAttribute("data-action-state", "succeeded", { timeout: 15_000 });
  await page.reload();
  await expect(branch).toHaveAttribute("data-phase", "ready");
  await expect(branch.getByTestId("branch-database")).toContainText("Healthy");
  await expect(op).toContainText("Edge functions deployed");
  expect((await request.post(`${sandbox}/__sandbox/clock`, { data: { pace: 1 } })).ok()).toBeTruthy();
  expect(problems).toEqual([]);
});

test("an admin deletes a preview branch by typing its name", async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, "ada-admin", "/branches?project=AllIncompassing");
  await expect(page.getByTestId("section-preview")).toBeVisible({ timeout: 60_000 });
  await waitForHydration(page);
  // The production branch offers no delete.
  await expect(page.locator('[data-branch="main"]').getByTestId("branch-delete")).toHaveCount(0);
  const billing = page.locator('[data-branch="feature-billing"]');
  await billing.getByTestId("branch-delete").locator("summary").click();
  await billing.getByTestId("branch-delete-name").fill("feature-billing");
  await billing.getByTestId("branch-delete-submit").click();
  await expect(page.locator('[data-branch="feature-billing"]').getByTestId("deletion-scheduled")).toBeVisible({
    timeout: 15_000,
  });
  await expect(page.locator('[data-branch="feature-billing"]').getByTestId("branch-restore")).toBeVisible();
  expect(problems).toEqual([]);
});
