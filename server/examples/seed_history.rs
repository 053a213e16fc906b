//! Fills a Greenroom database with synthetic deploy history for the
//! benchmarks: `cargo run --release -p greenroom-server --example
//! seed_history -- DATABASE_URL COUNT`. Deploys belong to the sandbox
//! project's two sites, spread over the two years before now, with the
//! contexts, states and build times of a busy team; ids start `bench-` so
//! they never collide with synced ones.

use greenroom::domain::DeployState;
use greenroom::storage::{now_ms, DeployRecord, SiteRole};
use greenroom::Storage;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(count)) = (args.next(), args.next()) else {
        eprintln!("usage: seed_history DATABASE_URL COUNT");
        std::process::exit(2);
    };
    let count: i64 = count.parse().expect("COUNT is a number");
    let storage = Storage::connect(&url).await.expect("database");
    storage.migrate().await.expect("migrations");
    let project = greenroom::config::sandbox_project();
    let json = serde_json::to_string(&project).expect("project as JSON");
    let row = storage
        .upsert_project(project.name.as_str(), &json)
        .await
        .expect("project row");
    let now = now_ms();
    let span = 2 * 365 * 86_400_000_i64;
    let mut batch = Vec::with_capacity(1000);
    // A small deterministic generator: the same history every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..count {
        let r = next();
        let production = r % 5 == 0;
        let (site, role, context, branch) = if production {
            (
                &project.netlify.production_site_id,
                SiteRole::Production,
                "production",
                "main",
            )
        } else if r % 3 == 0 {
            (
                &project.netlify.staging_site_id,
                SiteRole::Staging,
                "deploy-preview",
                "feature/bench",
            )
        } else {
            (
                &project.netlify.staging_site_id,
                SiteRole::Staging,
                "branch-deploy",
                "develop",
            )
        };
        let state = match next() % 100 {
            0..=5 => DeployState::Error,
            6..=7 => DeployState::Cancelled,
            _ => DeployState::Ready,
        };
        let created = now - span + span * i / count.max(1);
        let build = 40 + (next() % 200) as i64;
        batch.push(DeployRecord {
            site_id: site.to_string(),
            deploy_id: format!("bench-{i:08}"),
            project_id: row.id,
            site_role: role,
            context: context.into(),
            branch: Some(branch.into()),
            commit_sha: Some(format!("{:040x}", next() as u128 * 0x1_0000_0001)),
            commit_message: Some(format!("Benchmark change {i}")),
            commit_url: None,
            author: Some(["ana", "bo", "cy", "dee"][(next() % 4) as usize].into()),
            deploy_url: None,
            error_message: (state == DeployState::Error)
                .then(|| "Build script returned non-zero exit code: 2".into()),
            created_at_ms: created,
            published_at_ms: (state == DeployState::Ready && context != "deploy-preview")
                .then_some(created + build * 1000),
            updated_at_ms: created + build * 1000,
            build_seconds: Some(build),
            synced_at_ms: now,
            run_id: None,
            state,
        });
        if batch.len() == 1000 {
            storage.upsert_deploys(&batch).await.expect("insert");
            batch.clear();
        }
    }
    storage.upsert_deploys(&batch).await.expect("insert");
    // Planner statistics, as a database that has been running would have
    // (PostgreSQL's autovacuum gathers them after a bulk load anyway).
    storage.analyze().await.expect("analyze");
    println!(
        "{} deploys of {} in {}",
        storage.count_deploys(row.id).await.expect("count"),
        project.name,
        greenroom::storage::redact_url(&url)
    );
}
