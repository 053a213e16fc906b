// Journey: a team member opens Greenroom, sees it is the sandbox, reads the
// project's setup, re-checks Greenroom's status, and switches project.
import { test, expect } from "@playwright/test";
import { signIn, waitForHydration, watchConsole } from "./helpers";

test("the home page hydrates, shows the sandbox banner and re-checks status through a server function", async ({
  page,
}, testInfo) => {
  const problems = watchConsole(page);
  await signIn(page, "vera-viewer");
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await waitForHydration(page);

  await expect(page.getByTestId("sandbox-banner")).toContainText("Everything shown here is simulated");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("AllIncompassing");
  await expect(page.getByTestId("readiness")).toHaveText("Ready");
  await expect(page.getByTestId("database")).toContainText("SQLite");
  await expect(page.getByTestId("sandbox-url")).toContainText("http://127.0.0.1:");

  // The button calls GET /api/fragments/status (the facts, rendered on the
  // server); the panel must show that answer.
  const [status] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/fragments/status") && r.request().method() === "GET"),
    page.getByRole("button", { name: "Check again" }).click(),
  ]);
  expect(status.status()).toBe(200);
  const facts: string = await status.json();
  expect(facts).toContain("Ready");
  const checked = /data-testid="checked-at">([^<]+)</.exec(facts)?.[1];
  expect(checked).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
  await expect(page.getByTestId("checked-at")).toHaveText(checked!);
  await expect(page.getByRole("button", { name: "Check again" })).toBeEnabled();

  const shot = testInfo.outputPath("home.png");
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach("home", { path: shot, contentType: "image/png" });
  expect(problems, problems.join("\n")).toEqual([]);
});

test("the project switcher changes project without a full reload, and the URL says which", async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, "vera-viewer");
  await page.goto("/");
  await waitForHydration(page);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  const switcher = page.getByLabel("Project");
  await expect(switcher).toHaveValue("AllIncompassing");
  await switcher.selectOption("marketing-site");

  await expect(page).toHaveURL(/\?project=marketing-site$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("marketing-site");
  await expect(page.getByTestId("project-card")).toContainText("deploy.yml");
  // Client-side navigation: the window (and our marker) survived.
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

  // A direct link to the project renders it on the server too.
  await page.goto("/?project=marketing-site");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("marketing-site");
  await expect(page.getByLabel("Project")).toHaveValue("marketing-site");
  expect(problems, problems.join("\n")).toEqual([]);
});

test("an unknown address shows the 404 page with the banner and a way back", async ({ page }) => {
  await signIn(page, "vera-viewer");
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("This page does not exist");
  await expect(page.getByTestId("sandbox-banner")).toBeVisible();
  await waitForHydration(page);
  await page.getByRole("link", { name: "Back to the overview" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("AllIncompassing");
});
