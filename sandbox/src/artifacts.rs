//! The smoke artifacts a run uploads, made on demand and the same every time
//! for the same run: a real zip (stored entries) holding JUnit XML, the smoke
//! log and PNG screenshots, and the plain-text log of a job.

use crate::model::{Artifact, Job, Outcome, Run};
use crate::util::{iso, iso_secs};

/// The artifact's zip file.
pub fn smoke_zip(run: &Run, artifact: &Artifact, staging_url: &str) -> Vec<u8> {
    let mut zip = ZipWriter::default();
    zip.add("junit.xml", junit(run, artifact).as_bytes());
    zip.add(
        "smoke.log",
        smoke_log(run, artifact, staging_url).as_bytes(),
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
    zip.finish()
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
                 AssertionError: expected status 200, got 500\n    at smoke/{suite}.spec.ts:42:7</failure>\n    </testcase>\n"
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

fn smoke_log(run: &Run, artifact: &Artifact, staging_url: &str) -> String {
    let mut log = format!(
        "> preview:smoke\n> SMOKE_BASE_URL={staging_url} playwright test smoke/\n\nRunning {} tests using 1 worker (run {}, commit {})\n",
        SMOKE_CASES.len(),
        run.id,
        &run.head_sha[..7.min(run.head_sha.len())]
    );
    let failing = (!artifact.smoke_passed).then(|| failing_case(run));
    for (i, (suite, name)) in SMOKE_CASES.iter().enumerate() {
        let mark = if Some(i) == failing { "✘" } else { "✓" };
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

/// A zip archive with stored (uncompressed) entries: small, and readable by
/// every unzip tool.
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
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
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
