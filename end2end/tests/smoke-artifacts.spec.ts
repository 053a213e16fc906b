// Issue 16's journey: a staging deploy's smoke test fails; on-call opens the
// failed run from the overview's attention list, opens its smoke artifact
// in Greenroom, reads the failing test first and sees its screenshot, then
// reads the smoke log with its secret masked.
import { test, expect, Page } from "@playwright/test";
import { signIn, waitForHydration, watchConsole } from "./helpers";

let sandbox = "";

async function findSandbox(page: Page): Promise<void> {
  await page.goto("/");
  const text = (await page.getByTestId("sandbox-url").textContent()) ?? "";
  const url = text.match(/http:\/\/127\.0\.0\.1:\d+/);
  expect(url, `the status panel names the sandbox: ${text}`).toBeTruthy();
  sandbox = url![0];
}

test.afterEach(async ({ request }) => {
  if (sandbox) {
    await request.post(`${sandbox}/__sandbox/clock`, { data: { pace: 1 } });
    await request.delete(`${sandbox}/__sandbox/outcomes`);
  }
});

test("on-call opens the failed smoke run from the overview and reads the failing test and its screenshot", async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(180_000);
  const problems = watchConsole(page);
  await signIn(page, "dev-deployer");
  await findSandbox(page);
  await expect(async () => {
    await page.goto("/?project=AllIncompassing");
    await expect(page.getByTestId("live-staging")).toContainText("Deploy details", { timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await waitForHydration(page);

  // The next run builds and deploys, then its smoke test fails; 100x faster than real.
  for (const [target, outcome] of [
    ["github", "success"],
    ["netlify", "success"],
    ["github", "failure"],
  ]) {
    const res = await request.post(`${sandbox}/__sandbox/outcomes`, { data: { target, outcome, count: 1 } });
    expect(res.ok()).toBeTruthy();
  }
  expect((await request.post(`${sandbox}/__sandbox/clock`, { data: { pace: 0.01 } })).ok()).toBeTruthy();
  // A push to develop starts the deploy job (as GitHub would on a push; the
  // on-call buttons are the deploys journey's subject).
  const dispatched = await request.post(
    `${sandbox}/github/repos/allincompassing/allincompassing/actions/workflows/ci.yml/dispatches`,
    { data: { ref: "develop" }, headers: { authorization: "Bearer e2e" } },
  );
  expect(dispatched.status()).toBe(204);

  // The failed smoke test needs attention, with the way to its run.
  const attention = page.locator('[data-attention="failed_smoke"]');
  await expect(async () => {
    await page.goto("/?project=AllIncompassing");
    await expect(attention).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 120_000 });
  await waitForHydration(page);
  await attention.getByTestId("attention-run").click();
  await expect(page).toHaveURL(/\/runs\/\d+$/);
  const artifacts = page.getByTestId("run-artifacts");
  await expect(artifacts.getByRole("link", { name: "smoke-results" })).toBeVisible();
  await artifacts.getByRole("link", { name: "smoke-results" }).click();
  await expect(page).toHaveURL(/\/runs\/\d+\/artifacts\/\d+$/);

  // The failing test first, in words, with its screenshot beside the others.
  await expect(page.getByTestId("artifact-summary")).toContainText("1 of 9 tests failed");
  const first = page.getByTestId("test-case").first();
  await expect(first).toHaveAttribute("data-outcome", "failed");
  await expect(first.getByTestId("failure-message")).toContainText("expected status 200, got 500");
  const shot = page.getByRole("img", { name: "Screenshot screenshots/dashboard.png" });
  await expect(shot).toBeVisible();
  await expect
    .poll(() => shot.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
    .toBe(160);
  const picture = testInfo.outputPath("artifact.png");
  await page.screenshot({ path: picture, fullPage: true });
  await testInfo.attach("artifact", { path: picture, contentType: "image/png" });

  // The smoke log, coloured, with the anon key masked.
  await page.getByRole("link", { name: /^smoke\.log/ }).click();
  const log = page.getByTestId("log");
  await expect(log).toContainText("playwright test smoke/");
  await expect(log).toContainText("(masked)");
  expect(await page.content()).not.toContain("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
  expect(problems, problems.join("\n")).toEqual([]);
});
