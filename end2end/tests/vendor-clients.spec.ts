// The vendors' own JavaScript clients agree with the sandbox: Octokit and
// Netlify's @netlify/api, pointed at it through their normal base-URL
// options, run the operations Greenroom uses and get sensible answers.
import { test, expect } from "@playwright/test";
import { Octokit } from "@octokit/rest";
import { NetlifyAPI } from "@netlify/api";

const sandboxPort = Number(process.env.E2E_SANDBOX_PORT ?? 3196);
const sandbox = `http://127.0.0.1:${sandboxPort}`;

interface WorldIds {
  netlify: { account_slug: string; staging_site_id: string; production_site_id: string };
  github: { owner: string; repo: string; workflow: string };
}

let world: WorldIds;

test.beforeEach(async ({ request }) => {
  expect((await request.post(`${sandbox}/__sandbox/reset`)).status()).toBe(204);
  world = await (await request.get(`${sandbox}/__sandbox/world`)).json();
});

function octokit(): Octokit {
  return new Octokit({ auth: "octokit-agreement-test", baseUrl: `${sandbox}/github`, userAgent: "greenroom-e2e" });
}

function netlify(): NetlifyAPI {
  return new NetlifyAPI("netlify-agreement-test", {
    scheme: "http",
    host: `127.0.0.1:${sandboxPort}`,
    pathPrefix: "/netlify/api/v1",
  });
}

test("@netlify/api lists deploys page by page and restores one", async ({ request }) => {
  const api = netlify();
  const site = world.netlify.production_site_id;
  const first = await api.listSiteDeploys({ site_id: site, page: 1, per_page: 20 });
  const second = await api.listSiteDeploys({ site_id: site, page: 2, per_page: 20 });
  expect(first).toHaveLength(20);
  expect(second).toHaveLength(20);
  const ids = new Set([...first, ...second].map((d) => d.id));
  expect(ids.size).toBe(40);
  expect(Date.parse(first[0].created_at ?? "")).toBeGreaterThanOrEqual(Date.parse(second[0].created_at ?? ""));

  const ready = await api.listSiteDeploys({ site_id: site, production: true, state: "ready", per_page: 10 });
  expect(ready.every((d) => d.state === "ready" && d.context === "production")).toBe(true);
  const older = ready[3];
  const restored = await api.restoreSiteDeploy({ site_id: site, deploy_id: older.id! });
  expect(restored.id).toBe(older.id);
  const siteNow = await api.getSite({ site_id: site });
  expect(siteNow.published_deploy?.id).toBe(older.id);

  const log = await (await request.get(`${sandbox}/__sandbox/requests?vendor=netlify`)).json();
  expect(log.length).toBe(5);
  expect(log.every((r: { token: string | null }) => r.token?.startsWith("sha256:"))).toBe(true);
});

test("Octokit lists runs, artifacts and secrets, and downloads an artifact", async () => {
  const gh = octokit();
  const { owner, repo, workflow } = world.github;
  const runs = await gh.rest.actions.listWorkflowRuns({ owner, repo, workflow_id: workflow, branch: "develop", per_page: 50 });
  expect(runs.status).toBe(200);
  expect(runs.data.total_count).toBeGreaterThan(100);
  expect(runs.data.workflow_runs).toHaveLength(50);
  const run = runs.data.workflow_runs.find((r) => r.conclusion === "success");
  expect(run).toBeTruthy();

  const artifacts = await gh.rest.actions.listWorkflowRunArtifacts({ owner, repo, run_id: run!.id });
  expect(artifacts.data.artifacts.map((a) => a.name)).toContain("smoke-results");
  const artifact = artifacts.data.artifacts[0];
  const zip = await gh.rest.actions.downloadArtifact({ owner, repo, artifact_id: artifact.id, archive_format: "zip" });
  const bytes = Buffer.from(zip.data as ArrayBuffer);
  expect(bytes.length).toBe(artifact.size_in_bytes);
  expect(bytes.subarray(0, 4).toString("hex")).toBe("504b0304"); // a zip's local header

  const secrets = await gh.rest.actions.listRepoSecrets({ owner, repo });
  const names = secrets.data.secrets.map((s) => s.name);
  expect(names).toContain("NETLIFY_AUTH_TOKEN");
  expect(names).not.toContain("DEFAULT_ORGANIZATION_ID");
  for (const s of secrets.data.secrets) expect(Object.keys(s).sort()).toEqual(["created_at", "name", "updated_at"]);

  // Octokit's pagination helper walks the Link headers to the end.
  const all = await gh.paginate(gh.rest.actions.listWorkflowRuns, { owner, repo, workflow_id: workflow, per_page: 100 });
  expect(all.length).toBe((await gh.rest.actions.listWorkflowRuns({ owner, repo, workflow_id: workflow, per_page: 1 })).data.total_count);
});

test("Octokit sees a conditional request answered 304", async () => {
  const gh = octokit();
  const { owner, repo } = world.github;
  const first = await gh.rest.actions.listRepoVariables({ owner, repo });
  const etag = first.headers.etag!;
  expect(etag).toMatch(/^W\/"/);
  await expect(gh.rest.actions.listRepoVariables({ owner, repo, headers: { "if-none-match": etag } })).rejects.toMatchObject({ status: 304 });
});
