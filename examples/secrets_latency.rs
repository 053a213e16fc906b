//! The secret coverage budget: a cold full check of the sandbox project with
//! 100 ms added to every upstream call must take at most 1.5 times its
//! longest chain of dependent calls (calls in parallel, not in series).
//!
//! `cargo run --release --example secrets_latency [-- RUNS]`
//!
//! The longest chain comes from what each call needs, not from how the code
//! happened to schedule them: a later page of a list needs the page before
//! it, and the secrets or variables of an environment that is not
//! configured need the list of environments and the workflow (whose jobs
//! name environments); every other read needs nothing. Each call made (from the
//! sandbox's request log) gets its depth by those rules; the deepest is the
//! chain. Code that made its calls in series would take about as many
//! latencies as calls and fail the budget. The waves of arrivals (calls
//! sent together) are printed too. Each run uses new clients, so nothing is
//! cached.

use greenroom::config::sandbox_project;
use greenroom::providers::github::GitHubClient;
use greenroom::providers::http::Timeouts;
use greenroom::providers::netlify::NetlifyClient;
use greenroom::secrets::coverage::Check;
use greenroom::secrets::{coverage, gather, FingerprintKey};
use greenroom::Secret;
use std::time::Instant;

const LATENCY_MS: u64 = 100;

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let sb = greenroom_sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        greenroom_sandbox::World::seeded(1),
    )
    .await
    .expect("the sandbox starts");
    let base = sb.base_url();
    let http = reqwest::Client::new();
    let fault = serde_json::json!({ "route": "/*", "kind": "latency", "ms": LATENCY_MS });
    let res = http
        .post(format!("{base}/__sandbox/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "the latency fault is in force");
    let project = sandbox_project();
    let mut results = Vec::new();
    for _ in 0..runs {
        let t = Timeouts::default();
        let netlify =
            NetlifyClient::new(&format!("{base}/netlify/api/v1"), Secret::new("nf"), t).unwrap();
        let github = GitHubClient::new(
            &format!("{base}/github"),
            &format!("{base}/github"),
            Secret::new("gh"),
            t,
        )
        .unwrap();
        let before = requests(&http, &base).await.len();
        let started = Instant::now();
        let sources = gather::gather(&project, &netlify, &github).await;
        let report = coverage(&Check {
            project: &project,
            sources: &sources,
            env_local: None,
            key: &FingerprintKey::random(),
        });
        let took = started.elapsed().as_secs_f64() * 1000.0;
        assert!(!report.rows.is_empty());
        let log = requests(&http, &base).await;
        let made = &log[before..];
        let mut arrivals: Vec<i64> = made.iter().map(|r| r["at_ms"].as_i64().unwrap()).collect();
        arrivals.sort_unstable();
        let calls = arrivals.len();
        let configured = [
            project.github.staging_environment.as_str(),
            project.github.production_environment.as_str(),
        ];
        let chain = longest_chain(made, &configured);
        results.push((took, calls, chain, waves(&arrivals)));
    }
    sb.stop().await;
    let mut took: Vec<f64> = results.iter().map(|r| r.0).collect();
    took.sort_by(|a, b| a.total_cmp(b));
    let median = took[took.len() / 2];
    let (_, calls, chain, waves) = results[results.len() / 2];
    let budget = 1.5 * (chain as f64) * LATENCY_MS as f64;
    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| upstream calls per check | {calls} |");
    println!("| longest chain of dependent calls | {chain} |");
    println!("| waves the calls were sent in | {waves} |");
    println!("| latency added per call | {LATENCY_MS} ms |");
    println!(
        "| cold check, median of {runs} | {median:.0} ms (min {:.0}, max {:.0}) |",
        took[0],
        took[took.len() - 1]
    );
    println!(
        "| budget: 1.5 x chain x latency | {budget:.0} ms: {} |",
        if median <= budget { "met" } else { "NOT met" }
    );
    println!(
        "| in series it would take | {} ms |",
        calls as u64 * LATENCY_MS
    );
}

/// Every request the sandbox's vendor routes have received, oldest first.
async fn requests(http: &reqwest::Client, base: &str) -> Vec<serde_json::Value> {
    let log: serde_json::Value = http
        .get(format!("{base}/__sandbox/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log.as_array().cloned().unwrap_or_default()
}

/// The page a list read asked for (1 when it did not say).
fn page_of(query: Option<&str>) -> u32 {
    query
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
}

/// The depth of the deepest call, by what each call needs (see the top).
fn longest_chain(made: &[serde_json::Value], configured: &[&str]) -> usize {
    use std::collections::HashMap;
    let mut depth: HashMap<(String, u32), usize> = HashMap::new();
    let mut deepest = 0;
    for r in made {
        let path = r["path"].as_str().unwrap_or("").to_string();
        let page = page_of(r["query"].as_str());
        let needs = if page > 1 {
            depth.get(&(path.clone(), page - 1)).copied()
        } else if let Some((repo, rest)) = path.split_once("/environments/") {
            // A configured environment's secrets or variables need nothing;
            // any other environment is known from the list of environments
            // or the workflow (its jobs name environments).
            let name = rest.split('/').next().unwrap_or("");
            let list = format!("{repo}/environments");
            if configured.iter().any(|c| c.eq_ignore_ascii_case(name)) {
                None
            } else {
                depth
                    .iter()
                    .filter(|((p, _), _)| *p == list || p.contains("/contents/.github/workflows/"))
                    .map(|(_, d)| *d)
                    .max()
            }
        } else {
            None
        };
        let d = needs.unwrap_or(0) + 1;
        depth.insert((path, page), d);
        deepest = deepest.max(d);
    }
    deepest
}

/// Arrivals closer together than half the added latency were sent at once.
fn waves(sorted: &[i64]) -> usize {
    let mut n = 0;
    let mut start = None;
    for &at in sorted {
        if start.is_none_or(|s| at - s > (LATENCY_MS / 2) as i64) {
            n += 1;
            start = Some(at);
        }
    }
    n
}
