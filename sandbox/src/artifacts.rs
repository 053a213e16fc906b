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
#[derive(Default)]
struct ZipWriter {
    data: Vec<u8>,
    central: Vec<u8>,
    count: u16,
}

impl ZipWriter {
    fn add(&mut self, name: &str, content: &[u8]) {
        let crc = crc32fast::hash(content);
        let offset = self.data.len() as u32;
        let size = content.len() as u32;
        // Fixed date: 2026-01-01 00:00, so the same run gives the same bytes.
        let (time, date) = (0u16, ((2026 - 1980) << 9 | 1 << 5 | 1) as u16);
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&0x0800u16.to_le_bytes()); // UTF-8 names
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&time.to_le_bytes());
            h.extend_from_slice(&date.to_le_bytes());
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&0u16.to_le_bytes()); // comment
                h.extend_from_slice(&0u16.to_le_bytes()); // disk
                h.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
                h.extend_from_slice(&0u32.to_le_bytes()); // external attrs
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        self.data.extend(header(0x0403_4b50, false));
        self.data.extend_from_slice(content);
        self.central.extend(header(0x0201_4b50, true));
        self.count += 1;
    }

    fn finish(mut self) -> Vec<u8> {
        let cd_offset = self.data.len() as u32;
        let cd_size = self.central.len() as u32;
        self.data.extend_from_slice(&self.central);
        self.data.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        self.data.extend_from_slice(&[0; 4]); // disk numbers
        self.data.extend_from_slice(&self.count.to_le_bytes());
        self.data.extend_from_slice(&self.count.to_le_bytes());
        self.data.extend_from_slice(&cd_size.to_le_bytes());
        self.data.extend_from_slice(&cd_offset.to_le_bytes());
        self.data.extend_from_slice(&0u16.to_le_bytes());
        self.data
    }
}

/// A real PNG (RGB, zlib with stored blocks): a page-like picture, a header
/// bar in `colour` and grey content lines placed by `seed`.
pub fn png(width: u32, height: u32, seed: u64, colour: [u8; 3]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
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
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}
