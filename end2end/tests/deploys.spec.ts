// Journeys of issue 5: on-call redeploys the last good build from the
// overview and watches it finish; a viewer sees the same page without the
// buttons; a manager exports the history as CSV and the file parses.
import { test, expect, Page } from "@playwright/test";
import * as fs from "node:fs";
import { signIn, waitForHydration, watchConsole } from "./helpers";

/** The overview once sync has filled it in (the first pass runs at start). */
async function openOverview(page: Page): Promise<void> {
  await expect(async () => {
    await page.goto("/?project=AllIncompassing");
    await expect(page.getByTestId("live-staging")).toContainText("Deploy details", { timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await waitForHydration(page);
}

test("a deployer redeploys the last good build from the overview and watches it reach ready", async ({
  page,
}, testInfo) => {
  const problems = watchConsole(page);
  await signIn(page, "dev-deployer");
  await openOverview(page);

  await page.getByTestId("action-redeploy-last-good").first().click();
  const dialog = page.getByTestId("action-dialog").first();
  await expect(dialog).toBeVisible();
  // The confirmation says what will be published and what it replaces.
  await expect(dialog.getByTestId("action-summary")).toContainText("Publish deploy");
  await expect(dialog.getByTestId("plan-target")).toContainText("Will publish");
  await expect(dialog.getByTestId("plan-replaces")).toContainText("Replacing what staging serves now");
  const shot = testInfo.outputPath("confirm.png");
  await page.screenshot({ path: shot });
  await testInfo.attach("confirmation", { path: shot, contentType: "image/png" });
  await dialog.getByTestId("action-confirm").click();
  await expect(dialog).toBeHidden();

  // Live progress, streamed: the action reaches ready without a reload.
  const action = page.getByTestId("action").first();
  await expect(action).toHaveAttribute("data-action-state", "succeeded", { timeout: 20_000 });
  await expect(action.locator('[data-progress="ready"]')).toBeVisible();

  // And it survives a reload: the page reads it from the database.
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByTestId("action").first()).toHaveAttribute("data-action-state", "succeeded");
  const done = testInfo.outputPath("redeployed.png");
  await page.screenshot({ path: done, fullPage: true });
  await testInfo.attach("redeployed", { path: done, contentType: "image/png" });
  expect(problems, problems.join("\n")).toEqual([]);
});

test("a viewer sees what is live without the on-call buttons", async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, "vera-viewer");
  await openOverview(page);
  await expect(page.getByTestId("live-production")).toContainText("Deploy details");
  await expect(page.getByTestId("deploy-job")).toContainText("Run #");
  await expect(page.getByTestId("actions")).toHaveCount(0);
  await expect(page.locator('[data-testid^="action-"]')).toHaveCount(0);
  // The deploy page of what staging serves, with its run's jobs and steps.
  await page.getByTestId("live-staging").getByRole("link", { name: "Deploy details" }).click();
  await expect(page.getByTestId("live-badge")).toBeVisible();
  await expect(page.getByTestId("run-jobs")).toContainText("deploy-staging");
  expect(problems, problems.join("\n")).toEqual([]);
});

test("a manager exports the filtered history as CSV with the right rows", async ({ page }) => {
  const problems = watchConsole(page);
  await signIn(page, "vera-viewer");
  await openOverview(page);
  await page.goto("/history?project=AllIncompassing&site=production&state=ready");
  await waitForHydration(page);
  await expect(page.getByTestId("trends")).toBeVisible();
  await expect(page.getByTestId("chart-frequency")).toBeVisible();
  const total = Number((await page.getByTestId("history-total").innerText()).split(" ")[0]);
  expect(total).toBeGreaterThan(10);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
  expect(download.suggestedFilename()).toBe("greenroom-deploys.csv");
  const text = fs.readFileSync(await download.path(), "utf8");
  const lines = text.trim().split("\n");
  expect(lines[0]).toMatch(/^project,site,deploy_id,context,branch,state,/);
  const rows = lines.slice(1).map((l) => l.split(","));
  expect(rows).toHaveLength(total);
  for (const r of rows) {
    expect(r[0]).toBe("AllIncompassing");
    expect(r[1]).toBe("production");
    expect(r[5]).toBe("ready");
  }
  // The first rows of the table are the first rows of the file.
  const firstId = await page.getByTestId("history-table").locator("tbody tr").first().getAttribute("data-deploy");
  expect(rows[0][2]).toBe(firstId);

  // Moving on in the browser fetches the next page only: the page being
  // left does not ask for the new address.
  const pages: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/fragments/page")) pages.push(new URL(r.url()).searchParams.get("path") ?? "");
  });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Activity" }).click();
  await expect(page.getByTestId("activity-table")).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("AllIncompassing");
  expect(pages).toEqual(["/activity"]);
  expect(problems, problems.join("\n")).toEqual([]);
});
