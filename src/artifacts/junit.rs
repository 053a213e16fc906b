//! JUnit XML test reports, as Vitest, Playwright, Jest, pytest, Maven and
//! others write them: `testsuites` (optional) holding `testsuite`s (which
//! may nest) holding `testcase`s, each passed or carrying `failure`,
//! `error` or `skipped`, with `system-out`/`system-err` where attachments
//! are named by the `[[ATTACHMENT|path]]` convention. Parsed with
//! quick-xml; a report is bounded (cases, text per case) whatever the
//! file holds, and a file that is not a JUnit report says so.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use thiserror::Error;

/// At most this many cases are kept from one report.
pub const MAX_CASES: usize = 20_000;
/// At most this many bytes of a failure's message, trace or output.
pub const MAX_TEXT: usize = 16 * 1024;
/// At most this many bytes of a suite's or case's name.
const MAX_NAME: usize = 512;
/// At most this many attachments per case.
const MAX_ATTACHMENTS: usize = 50;
/// At most this many nested elements (a hostile file could nest forever).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum JunitError {
    #[error("{file} is not a JUnit report (its root element is <{root}>)")]
    NotJunit { file: String, root: String },
    #[error("{file}:{line}: the XML is malformed ({reason})")]
    Malformed {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("{file} is not UTF-8 text")]
    NotText { file: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Sorted first: what on-call reads.
    Failed,
    Error,
    Skipped,
    Passed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Error => "error",
            Self::Skipped => "skipped",
            Self::Passed => "passed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: String,
    pub classname: Option<String>,
    pub file: Option<String>,
    pub time_secs: Option<f64>,
    pub outcome: Outcome,
    /// The failure's (or error's, or skip's) `message` attribute.
    pub message: Option<String>,
    /// The failure's body: the stack trace or assertion diff.
    pub trace: Option<String>,
    /// Paths named by `[[ATTACHMENT|path]]` in the case's output.
    pub attachments: Vec<String>,
    /// The case's `system-out` and `system-err`, joined.
    pub output: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// The suite's name, prefixed by its parents' (`outer › inner`).
    pub name: String,
    pub time_secs: Option<f64>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub suites: Vec<Suite>,
    /// Cases left out past [`MAX_CASES`].
    pub cases_omitted: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
}

impl Report {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for case in self.suites.iter().flat_map(|s| &s.cases) {
            c.total += 1;
            match case.outcome {
                Outcome::Failed => c.failed += 1,
                Outcome::Error => c.errors += 1,
                Outcome::Skipped => c.skipped += 1,
                Outcome::Passed => {}
            }
        }
        c
    }

    /// Every case with its suite, failures and errors first, then by suite
    /// and name as the report lists them.
    pub fn failures_first(&self) -> Vec<(&Suite, &Case)> {
        let mut all: Vec<(&Suite, &Case)> = self
            .suites
            .iter()
            .flat_map(|s| s.cases.iter().map(move |c| (s, c)))
            .collect();
        all.sort_by_key(|(_, c)| c.outcome);
        all
    }
}

/// Where the parser is: the case being read and what text goes where.
#[derive(Default)]
struct Open {
    case: Option<Case>,
    capture: Option<Capture>,
    /// Cases kept so far, in all suites.
    kept: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Capture {
    Trace,
    Output,
}

/// Parses `bytes` (the file `file`, named in errors) as a JUnit report.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Report, JunitError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| JunitError::NotText {
            file: file.to_string(),
        })?
        .trim_start_matches('\u{feff}');
    let mut reader = Reader::from_str(text);
    let mut report = Report::default();
    // Suites open around the cursor: (name, time, cases).
    let mut suites: Vec<Suite> = Vec::new();
    let mut open = Open::default();
    let mut depth = 0_usize;
    let mut saw_root = false;
    let malformed = |reader: &Reader<&[u8]>, reason: String| JunitError::Malformed {
        file: file.to_string(),
        line: line_at(text, reader.error_position().max(reader.buffer_position())),
        reason,
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(&reader, e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e) if depth >= MAX_DEPTH => {
                return Err(malformed(
                    &reader,
                    format!(
                        "elements nest deeper than {MAX_DEPTH} (at <{}>)",
                        e.local_name().as_ref()
                    ),
                ))
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().as_ref().to_string();
                if !saw_root {
                    saw_root = true;
                    if name != "testsuites" && name != "testsuite" {
                        return Err(JunitError::NotJunit {
                            file: file.to_string(),
                            root: name,
                        });
                    }
                }
                if !empty {
                    depth += 1;
                }
                let attrs = Attrs::of(e);
                match name.as_str() {
                    "testsuite" => {
                        let own = attrs.get("name").unwrap_or_default();
                        let name = match suites.last() {
                            Some(parent) if !parent.name.is_empty() && !own.is_empty() => {
                                format!("{} › {own}", parent.name)
                            }
                            Some(parent) if own.is_empty() => parent.name.clone(),
                            _ => own,
                        };
                        let name = clip_to(&name, MAX_NAME);
                        let suite = Suite {
                            name,
                            time_secs: attrs.get("time").and_then(|t| seconds(&t)),
                            cases: Vec::new(),
                        };
                        if empty {
                            push_suite(&mut report, suite);
                        } else {
                            suites.push(suite);
                        }
                    }
                    "testcase" => {
                        let case = Case {
                            name: clip_to(&attrs.get("name").unwrap_or_default(), MAX_NAME),
                            classname: attrs.get("classname").map(|c| clip_to(&c, MAX_NAME)),
                            file: attrs.get("file").map(|f| clip_to(&f, MAX_NAME)),
                            time_secs: attrs.get("time").and_then(|t| seconds(&t)),
                            outcome: Outcome::Passed,
                            message: None,
                            trace: None,
                            attachments: Vec::new(),
                            output: None,
                        };
                        if empty {
                            finish_case(&mut report, &mut suites, &mut open.kept, case);
                        } else {
                            open.case = Some(case);
                        }
                        open.capture = None;
                    }
                    "failure" | "error" | "skipped" | "flakyFailure" | "rerunFailure" => {
                        if let Some(case) = open.case.as_mut() {
                            let outcome = match name.as_str() {
                                "skipped" => Outcome::Skipped,
                                "error" => Outcome::Error,
                                "failure" => Outcome::Failed,
                                // A failed attempt of a case that passed in
                                // the end (Surefire's rerun): not a failure.
                                _ => case.outcome,
                            };
                            if outcome < case.outcome {
                                case.outcome = outcome;
                                case.message = attrs.get("message").map(|m| clip(&m));
                            }
                            if !empty && matches!(name.as_str(), "failure" | "error") {
                                open.capture = Some(Capture::Trace);
                            }
                        }
                    }
                    "system-out" | "system-err" if !empty && open.case.is_some() => {
                        open.capture = Some(Capture::Output);
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    "testsuite" => {
                        if let Some(suite) = suites.pop() {
                            push_suite(&mut report, suite);
                        }
                    }
                    "testcase" => {
                        if let Some(case) = open.case.take() {
                            finish_case(&mut report, &mut suites, &mut open.kept, case);
                        }
                        open.capture = None;
                    }
                    "failure" | "error" | "system-out" | "system-err" => open.capture = None,
                    _ => {}
                }
            }
            Event::Text(t) => append(&mut open, &t.xml10_content()),
            Event::CData(t) => append(&mut open, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .unwrap_or("")
                        .to_string(),
                    Err(e) => return Err(malformed(&reader, e.to_string())),
                };
                append(&mut open, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(JunitError::NotJunit {
            file: file.to_string(),
            root: "nothing".into(),
        });
    }
    // A file cut short: keep what was read.
    if let Some(case) = open.case.take() {
        finish_case(&mut report, &mut suites, &mut open.kept, case);
    }
    while let Some(suite) = suites.pop() {
        push_suite(&mut report, suite);
    }
    Ok(report)
}

fn push_suite(report: &mut Report, suite: Suite) {
    if !suite.cases.is_empty() {
        report.suites.push(suite);
    }
}

fn finish_case(report: &mut Report, suites: &mut Vec<Suite>, kept: &mut usize, case: Case) {
    if *kept >= MAX_CASES {
        report.cases_omitted += 1;
        return;
    }
    *kept += 1;
    match suites.last_mut() {
        Some(suite) => suite.cases.push(case),
        // A bare <testcase> under <testsuites>: its own unnamed suite.
        None => suites.push(Suite {
            name: String::new(),
            time_secs: None,
            cases: vec![case],
        }),
    }
}

fn append(open: &mut Open, text: &str) {
    let (Some(case), Some(capture)) = (open.case.as_mut(), open.capture) else {
        return;
    };
    // Attachments are found in every piece of output, also past the part
    // of it that is kept (a noisy test prints before its markers).
    if capture == Capture::Output {
        for path in attachments(text) {
            if case.attachments.len() < MAX_ATTACHMENTS && !case.attachments.contains(&path) {
                case.attachments.push(path);
            }
        }
    }
    let slot = match capture {
        Capture::Trace => &mut case.trace,
        Capture::Output => &mut case.output,
    };
    let s = slot.get_or_insert_with(String::new);
    if s.len() >= MAX_TEXT {
        return;
    }
    push_clipped(s, text, MAX_TEXT);
}

/// Appends as much of `text` to `s` as keeps it within `max` bytes, on a
/// character boundary.
fn push_clipped(s: &mut String, text: &str, max: usize) {
    let room = max.saturating_sub(s.len());
    let mut end = room.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    s.push_str(&text[..end]);
}

fn clip_to(s: &str, max: usize) -> String {
    let mut out = String::new();
    push_clipped(&mut out, s, max);
    out
}

fn clip(s: &str) -> String {
    clip_to(s, MAX_TEXT)
}

/// `[[ATTACHMENT|path]]` markers, in order, once each.
fn attachments(output: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = output;
    while let Some(at) = rest.find("[[ATTACHMENT|") {
        rest = &rest[at + "[[ATTACHMENT|".len()..];
        let Some(end) = rest.find("]]") else { break };
        let path = rest[..end].trim().to_string();
        if !path.is_empty() && !out.contains(&path) {
            out.push(path);
        }
        rest = &rest[end..];
    }
    out
}

/// A `time` attribute in seconds (`0.123`, `1,234.5`); negative or
/// unreadable is none.
fn seconds(t: &str) -> Option<f64> {
    let v: f64 = t.trim().replace(',', "").parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// The 1-based line of byte `pos` in `text`.
fn line_at(text: &str, pos: u64) -> usize {
    let pos = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
    text.as_bytes()[..pos]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// An element's attributes, unescaped; malformed ones are skipped.
struct Attrs(Vec<(String, String)>);

impl Attrs {
    fn of(e: &BytesStart<'_>) -> Self {
        Self(
            e.attributes()
                .filter_map(Result::ok)
                .filter_map(|a| {
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .ok()?
                        .into_owned();
                    Some((a.key.local_name().as_ref().to_string(), value))
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

#[cfg(test)]
#[path = "junit_tests.rs"]
mod tests;
