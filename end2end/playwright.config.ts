// Greenroom's browser tests run against the release build (`cargo leptos
// build --release`) in Debian's Chromium; Playwright never downloads a browser.
import { defineConfig } from "@playwright/test";
import * as os from "node:os";
import * as path from "node:path";

const port = Number(process.env.E2E_PORT ?? 3197);
// A second, standalone sandbox for the vendor-client agreement tests.
const sandboxPort = Number(process.env.E2E_SANDBOX_PORT ?? 3196);
const dataDir = path.join(os.tmpdir(), `greenroom-e2e-${process.pid}`);

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
    // Sandbox mode (tokens removed below), a throwaway SQLite database, and a
    // config with two projects so the project switcher is exercised.
    command: `../target/release/greenroom --config greenroom.e2e.toml serve --listen 127.0.0.1:${port} --data-dir ${dataDir}`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      NETLIFY_AUTH_TOKEN: "",
      GITHUB_TOKEN: "",
      SUPABASE_ACCESS_TOKEN: "",
      RUST_LOG: "warn",
    },
  },
    {
      // Built by the Rust tests before the browser tests run; cargo only
      // links it if it is missing.
      command: `cargo run --quiet --locked -p greenroom-sandbox -- --listen 127.0.0.1:${sandboxPort} --seed 1`,
      cwd: "..",
      url: `http://127.0.0.1:${sandboxPort}/__sandbox/world`,
      reuseExistingServer: false,
      timeout: 300_000,
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
