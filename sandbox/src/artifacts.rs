//! The artifacts a run uploads, made on demand and the same every time for
//! the same run: the smoke results (a deflated zip holding a Playwright-style
//! and a Vitest-style JUnit report, a coloured smoke log, PNG screenshots in
//! a folder, a failing test's context in nested folders, an HTML report and,
//! for some runs, a long server log), or a hostile archive planted for the
//! tests; and the plain-text log of a job.

use crate::model::{Artifact, ArtifactShape, Job, Outcome, Run};
use crate::util::{iso, iso_secs};

/// The artifact's zip file (or, for `not-zip`, the bytes that pretend to be).
/// `org_id` is the organization id the smoke test used: a value Netlify
/// lets Greenroom read, which its viewer must mask.
pub fn zip_of(run: &Run, artifact: &Artifact, staging_url: &str, org_id: &str) -> Vec<u8> {
    match artifact.shape {
        ArtifactShape::Smoke => smoke_zip(run, artifact, staging_url, org_id),
        ArtifactShape::ZipSlip => zip_slip(),
        ArtifactShape::Symlink => {
            let mut zip = ZipWriter::default();
            zip.add("junit.xml", b"<testsuites/>");
            zip.0
                .add_symlink("link", "/etc/passwd", options())
                .expect("an in-memory zip link");
            zip.finish()
        }
        ArtifactShape::Bomb => {
            let mut zip = ZipWriter::default();
            zip.add("bomb.txt", &vec![0u8; 10 * 1024 * 1024]);
            zip.finish()
        }
        ArtifactShape::Nested => {
            let mut inner = ZipWriter::default();
            inner.add("junit.xml", b"<testsuites/>");
            let mut zip = ZipWriter::default();
            zip.add("junit.xml", junit(run, artifact).as_bytes());
            zip.add("more-results.zip", &inner.finish());
            zip.finish()
        }
        ArtifactShape::NotZip => b"this is not a zip archive\n".to_vec(),
    }
}

/// An archive with an entry named `../../evil.txt`. The zip writer tidies
/// names, so the hostile name is patched over a placeholder of the same
/// length, as a hostile tool would have written it.
fn zip_slip() -> Vec<u8> {
    const NAME: &str = "../../evil.txt";
    let placeholder = "q".repeat(NAME.len());
    let mut zip = ZipWriter::default();
    zip.add("junit.xml", b"<testsuites/>");
    zip.add(&placeholder, b"owned");
    let mut bytes = zip.finish();
    let mut at = 0;
    while let Some(i) = bytes[at..]
        .windows(NAME.len())
        .position(|w| w == placeholder.as_bytes())
    {
        bytes[at + i..at + i + NAME.len()].copy_from_slice(NAME.as_bytes());
        at += i + NAME.len();
    }
    bytes
}

/// The smoke results.
fn smoke_zip(run: &Run, artifact: &Artifact, staging_url: &str, org_id: &str) -> Vec<u8> {
    let mut zip = ZipWriter::default();
    zip.add("junit.xml", junit(run, artifact).as_bytes());
    zip.add("reports/unit/junit.xml", unit_junit(run).as_bytes());
    zip.add(
        "smoke.log",
        smoke_log(run, artifact, staging_url, org_id).as_bytes(),
    );
    zip.add(
        "screenshots/login.png",
        &png(160, 100, run.id, [36, 99, 235]),
    );
    let dashboard_colour = if artifact.smoke_passed {
        [22, 163, 74]
    } else {
        [220, 38, 38]
    };
    zip.add(
        "screenshots/dashboard.png",
        &png(160, 100, run.id ^ 0xdead, dashboard_colour),
    );
    if !artifact.smoke_passed {
        let (suite, name) = SMOKE_CASES[failing_case(run)];
        zip.add(
            &format!("test-results/smoke-{suite}/error-context.md"),
            format!("# {name}\n\nThe page answered 500 at {staging_url}.\n").as_bytes(),
        );
    }
    zip.add(
        "playwright-report/index.html",
        b"<!doctype html><title>Playwright report</title><script>document.title='ran'</script><p>Open with npx playwright show-report.</p>",
    );
    if run.id.is_multiple_of(5) {
        zip.add("logs/server.log", server_log(run, artifact).as_bytes());
    }
    zip.finish()
}

/// A long log (a few thousand lines): what paging is for.
fn server_log(run: &Run, artifact: &Artifact) -> String {
    (0..3_000u64)
        .map(|i| {
            format!(
                "{} INFO request id={:x} path=/api/items/{} status=200 took={}ms\n",
                iso_secs(artifact.created_ms - 600_000 + (i as i64) * 200),
                run.id.wrapping_mul(31).wrapping_add(i * 7919),
                i % 97,
                (run.id + i) % 40 + 2
            )
        })
        .collect()
}

/// A Vitest-style report: one suite per test file, one skipped case.
fn unit_junit(run: &Run) -> String {
    let files = [
        (
            "src/config.test.ts",
            ["reads the runtime config", "rejects a missing Supabase URL"],
        ),
        (
            "src/org.test.ts",
            [
                "picks the default organization",
                "keeps the last organization",
            ],
        ),
    ];
    let mut suites = String::new();
    for (f, cases) in files {
        suites.push_str(&format!(
            "  <testsuite name=\"{f}\" timestamp=\"2026-01-01T00:00:00.000Z\" hostname=\"runner\" tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"{}\" time=\"0.{}\">\n",
            u8::from(f == "src/org.test.ts"),
            run.id % 9 + 1
        ));
        for (i, c) in cases.iter().enumerate() {
            if f == "src/org.test.ts" && i == 1 {
                suites.push_str(&format!(
                    "    <testcase classname=\"{f}\" name=\"{c}\" time=\"0\">\n      <skipped/>\n    </testcase>\n"
                ));
            } else {
                suites.push_str(&format!(
                    "    <testcase classname=\"{f}\" name=\"{c}\" time=\"0.0{i}3\">\n    </testcase>\n"
                ));
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<testsuites name=\"vitest tests\" tests=\"4\" failures=\"0\" errors=\"0\" time=\"0.5\">\n{suites}</testsuites>\n")
}

const SMOKE_CASES: &[(&str, &str)] = &[
    ("auth", "signs in with a magic link"),
    (
        "dashboard",
        "renders the dashboard for the default organization",
    ),
    ("supabase", "reads and writes a row through Supabase"),
    ("runtime-config", "serves /api/runtime-config"),
    ("spa", "serves the SPA root document"),
];

/// Which smoke case fails when the smoke tests fail (the same per run).
fn failing_case(run: &Run) -> usize {
    (run.id % SMOKE_CASES.len() as u64) as usize
}

fn junit(run: &Run, artifact: &Artifact) -> String {
    let failing = (!artifact.smoke_passed).then(|| failing_case(run));
    let mut cases = String::new();
    for (i, (suite, name)) in SMOKE_CASES.iter().enumerate() {
        let time = 0.4 + ((run.id >> i) % 30) as f64 / 10.0;
        if Some(i) == failing {
            cases.push_str(&format!(
                "    <testcase classname=\"smoke.{suite}\" name=\"{name}\" time=\"{time:.3}\">\n      \
                 <failure message=\"expected status 200, got 500\" type=\"AssertionError\">\
                 AssertionError: expected status 200, got 500\n    at smoke/{suite}.spec.ts:42:7</failure>\n      \
                 <system-out>[[ATTACHMENT|screenshots/dashboard.png]]</system-out>\n    </testcase>\n"
            ));
        } else {
            cases.push_str(&format!(
                "    <testcase classname=\"smoke.{suite}\" name=\"{name}\" time=\"{time:.3}\"/>\n"
            ));
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"preview:smoke\" tests=\"{n}\" failures=\"{f}\">\n  \
         <testsuite name=\"smoke\" tests=\"{n}\" failures=\"{f}\" errors=\"0\" skipped=\"0\" timestamp=\"{ts}\">\n{cases}  </testsuite>\n</testsuites>\n",
        n = SMOKE_CASES.len(),
        f = u8::from(failing.is_some()),
        ts = iso_secs(artifact.created_ms),
    )
}

fn smoke_log(run: &Run, artifact: &Artifact, staging_url: &str, org_id: &str) -> String {
    let mut log = format!(
        "> preview:smoke\n> SMOKE_BASE_URL={staging_url} playwright test smoke/\n\
         > runtime config: anon key eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiIsInJlZiI6InNhbmRib3gifQ.c2FuZGJveC1ub3QtYS1yZWFsLXNpZ25hdHVyZQ\n> organization: \x1b[1m{org_id}\x1b[22m\n\nRunning {} tests using 1 worker (run {}, commit {})\n",
        SMOKE_CASES.len(),
        run.id,
        &run.head_sha[..7.min(run.head_sha.len())]
    );
    let failing = (!artifact.smoke_passed).then(|| failing_case(run));
    for (i, (suite, name)) in SMOKE_CASES.iter().enumerate() {
        let mark = if Some(i) == failing {
            "\x1b[31m✘\x1b[39m"
        } else {
            "\x1b[32m✓\x1b[39m"
        };
        log.push_str(&format!("  {mark} {suite} › {name}\n"));
    }
    match failing {
        Some(i) => log.push_str(&format!(
            "\n  1 failed\n    smoke.{} › {}\n  {} passed\n",
            SMOKE_CASES[i].0,
            SMOKE_CASES[i].1,
            SMOKE_CASES.len() - 1
        )),
        None => log.push_str(&format!("\n  {} passed\n", SMOKE_CASES.len())),
    }
    log
}

/// A job's log as GitHub serves it: one timestamped line per event.
pub fn job_log(run: &Run, job: &Job, now: i64) -> String {
    let mut out = String::new();
    for s in job.steps.iter().filter(|s| s.started_ms <= now) {
        out.push_str(&format!("{} ##[group]Run {}\n", iso(s.started_ms), s.name));
        if s.completed_ms <= now {
            match s.outcome {
                Outcome::Success => out.push_str(&format!(
                    "{} {} finished\n{} ##[endgroup]\n",
                    iso(s.completed_ms),
                    s.name,
                    iso(s.completed_ms)
                )),
                Outcome::Failure => out.push_str(&format!(
                    "{} ##[error]{} failed: Process completed with exit code 1.\n{} ##[endgroup]\n",
                    iso(s.completed_ms),
                    s.name,
                    iso(s.completed_ms)
                )),
            }
        }
    }
    if out.is_empty() {
        out = format!("Job {} of run {} has not started.\n", job.name, run.id);
    }
    out
}

/// A zip being written in memory, its entries deflated as GitHub's are.
struct ZipWriter(zip::ZipWriter<std::io::Cursor<Vec<u8>>>);

impl Default for ZipWriter {
    fn default() -> Self {
        Self(zip::ZipWriter::new(std::io::Cursor::new(Vec::new())))
    }
}

impl ZipWriter {
    fn add(&mut self, name: &str, content: &[u8]) {
        use std::io::Write;
        let options = options();
        // Writing to memory cannot fail; a name zip refuses is a bug here.
        self.0
            .start_file(name, options)
            .and_then(|()| self.0.write_all(content).map_err(Into::into))
            .expect("an in-memory zip entry");
    }

    fn finish(self) -> Vec<u8> {
        self.0.finish().expect("an in-memory zip").into_inner()
    }
}

fn options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
}

/// A real PNG (8-bit RGB): a page-like picture, a header bar in `colour`
/// and grey content lines placed by `seed`.
pub fn png(width: u32, height: u32, seed: u64, colour: [u8; 3]) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width * 3 * height) as usize);
    for y in 0..height {
        for x in 0..width {
            let px = if y < 14 {
                colour
            } else if (y / 8) % 2 == 0 && x > 10 && x < 30 + ((seed >> (y % 48)) % 100) as u32 {
                [203, 213, 225]
            } else {
                [248, 250, 252]
            };
            raw.extend_from_slice(&px);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&raw))
        .expect("an in-memory PNG");
    out
}
