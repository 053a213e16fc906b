//! Reports as the common tools write them, odd corners, and arbitrary
//! input.

use super::*;

const VITEST: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="3" failures="1" errors="0" time="0.42">
    <testsuite name="src/config.test.ts" timestamp="2026-12-01T10:00:00.000Z" hostname="ci" tests="3" failures="1" errors="0" skipped="1" time="0.031">
        <testcase classname="src/config.test.ts" name="runtime-config &gt; returns the Supabase URL" time="0.012">
            <failure message="expected undefined to be &apos;https://x.supabase.co&apos;" type="AssertionError">
AssertionError: expected undefined to be 'https://x.supabase.co'
 ❯ src/config.test.ts:14:23
            </failure>
        </testcase>
        <testcase classname="src/config.test.ts" name="runtime-config &gt; has an anon key" time="0.002">
        </testcase>
        <testcase classname="src/config.test.ts" name="later" time="0">
            <skipped/>
        </testcase>
    </testsuite>
</testsuites>
"#;

const PLAYWRIGHT: &str = r#"<testsuites id="" name="" tests="2" failures="1" skipped="0" errors="0" time="12.5">
<testsuite name="smoke.spec.ts" timestamp="2026-12-01T10:00:00.000Z" hostname="chromium" tests="2" failures="1" skipped="0" time="9.1" errors="0">
<testcase name="dashboard renders for the default organization" classname="smoke.spec.ts" time="7.2">
<failure message="smoke.spec.ts:12:5 dashboard renders" type="FAILURE">
<![CDATA[  [chromium] › smoke.spec.ts:12:5 › dashboard renders

    Error: Timed out 5000ms waiting for expect(locator).toBeVisible()
]]>
</failure>
<system-out>
<![CDATA[
[[ATTACHMENT|test-results/smoke-dashboard/test-failed-1.png]]
[[ATTACHMENT|test-results/smoke-dashboard/trace.zip]]
]]>
</system-out>
</testcase>
<testcase name="signs in" classname="smoke.spec.ts" time="1.9">
</testcase>
</testsuite>
</testsuites>"#;

const JEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="2" failures="0" errors="1" time="1.2">
  <testsuite name="api" errors="1" failures="0" skipped="0" timestamp="2026-12-01T10:00:00" time="1.1" tests="2">
    <testcase classname="api health" name="api health answers" time="0.5">
    </testcase>
    <testcase classname="api db" name="api db connects" time="0.6">
      <error message="connect ECONNREFUSED 127.0.0.1:5432">Error: connect ECONNREFUSED</error>
    </testcase>
  </testsuite>
</testsuites>"#;

/// pytest: a bare <testsuite> root, nested suites elsewhere.
const NESTED: &str = r#"<testsuite name="outer" time="1,234.5">
  <testsuite name="inner">
    <testcase name="deep" time="0.1"/>
  </testsuite>
  <testcase name="shallow" time="-1"/>
</testsuite>"#;

#[test]
fn vitest_failures_keep_message_trace_and_entities() {
    let r = parse("vitest.xml", VITEST.as_bytes()).unwrap();
    let c = r.counts();
    assert_eq!((c.total, c.failed, c.errors, c.skipped), (3, 1, 0, 1));
    let (suite, first) = r.failures_first()[0];
    assert_eq!(suite.name, "src/config.test.ts");
    assert_eq!(first.name, "runtime-config > returns the Supabase URL");
    assert_eq!(first.outcome, Outcome::Failed);
    assert_eq!(
        first.message.as_deref(),
        Some("expected undefined to be 'https://x.supabase.co'")
    );
    assert!(first
        .trace
        .as_deref()
        .unwrap()
        .contains("src/config.test.ts:14:23"));
    assert_eq!(first.time_secs, Some(0.012));
}

#[test]
fn playwright_attachments_are_found_in_the_output() {
    let r = parse("results.xml", PLAYWRIGHT.as_bytes()).unwrap();
    let failed = r.failures_first()[0].1;
    assert_eq!(failed.outcome, Outcome::Failed);
    assert!(failed
        .trace
        .as_deref()
        .unwrap()
        .contains("Timed out 5000ms"));
    assert_eq!(
        failed.attachments,
        vec![
            "test-results/smoke-dashboard/test-failed-1.png".to_string(),
            "test-results/smoke-dashboard/trace.zip".to_string()
        ]
    );
    assert_eq!(r.counts().total, 2);
}

#[test]
fn jest_errors_count_apart_from_failures() {
    let r = parse("junit.xml", JEST.as_bytes()).unwrap();
    let c = r.counts();
    assert_eq!((c.total, c.failed, c.errors), (2, 0, 1));
    let e = r.failures_first()[0].1;
    assert_eq!(e.outcome, Outcome::Error);
    assert_eq!(
        e.message.as_deref(),
        Some("connect ECONNREFUSED 127.0.0.1:5432")
    );
}

#[test]
fn nested_suites_are_named_by_their_path_and_odd_times_are_read_or_dropped() {
    let r = parse("pytest.xml", NESTED.as_bytes()).unwrap();
    let names: Vec<&str> = r.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["outer › inner", "outer"]);
    assert_eq!(r.suites[1].time_secs, Some(1234.5));
    assert_eq!(r.suites[1].cases[0].time_secs, None);
}

#[test]
fn a_file_that_is_not_a_report_or_is_broken_says_so_with_its_line() {
    assert_eq!(
        parse("pom.xml", b"<project><modules/></project>").unwrap_err(),
        JunitError::NotJunit {
            file: "pom.xml".into(),
            root: "project".into()
        }
    );
    let err = parse(
        "broken.xml",
        b"<testsuite name=\"a\">\n<testcase name=\"x\">\n</testsuite>",
    )
    .unwrap_err();
    match &err {
        JunitError::Malformed { file, line, .. } => {
            assert_eq!(file, "broken.xml");
            assert_eq!(*line, 3, "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse("bin.xml", &[0xff, 0xfe, 0x00]),
        Err(JunitError::NotText { .. })
    ));
    assert!(matches!(
        parse("empty.xml", b""),
        Err(JunitError::NotJunit { .. })
    ));
}

#[test]
fn custom_entities_are_not_expanded() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<testsuite name="s"><testcase name="c"><failure message="m">&lol2;</failure></testcase></testsuite>"#;
    let r = parse("lol.xml", laughs.as_bytes()).unwrap();
    let c = &r.suites[0].cases[0];
    assert_eq!(c.outcome, Outcome::Failed);
    assert!(c.trace.as_deref().unwrap_or("").len() < 10);
}

#[test]
fn text_and_cases_are_bounded() {
    let long = "x".repeat(MAX_TEXT * 3);
    let xml = format!(
        "<testsuite name=\"s\"><testcase name=\"c\"><failure message=\"{long}\">{long}</failure></testcase></testsuite>"
    );
    let r = parse("big.xml", xml.as_bytes()).unwrap();
    let c = &r.suites[0].cases[0];
    assert_eq!(c.message.as_ref().unwrap().len(), MAX_TEXT);
    assert_eq!(c.trace.as_ref().unwrap().len(), MAX_TEXT);

    let many: String = (0..MAX_CASES + 5)
        .map(|i| format!("<testcase name=\"{i}\"/>"))
        .collect();
    let r = parse(
        "many.xml",
        format!("<testsuite name=\"s\">{many}</testsuite>").as_bytes(),
    )
    .unwrap();
    assert_eq!(r.counts().total, MAX_CASES);
    assert_eq!(r.cases_omitted, 5);
}

#[test]
fn attachments_after_long_output_are_still_found() {
    let noise = "log line\n".repeat(MAX_TEXT);
    let xml = format!(
        "<testsuite name=\"s\"><testcase name=\"c\"><failure message=\"m\"/><system-out><![CDATA[{noise}]]></system-out><system-out><![CDATA[[[ATTACHMENT|shots/failed.png]]]]></system-out></testcase></testsuite>"
    );
    let r = parse("noisy.xml", xml.as_bytes()).unwrap();
    let c = &r.suites[0].cases[0];
    assert_eq!(c.attachments, vec!["shots/failed.png".to_string()]);
    assert!(c.output.as_ref().unwrap().len() <= MAX_TEXT);
}

#[test]
fn long_names_are_clipped() {
    let long = "n".repeat(100_000);
    let xml = format!(
        "<testsuite name=\"{long}\"><testsuite><testcase name=\"{long}\"/></testsuite></testsuite>"
    );
    let r = parse("names.xml", xml.as_bytes()).unwrap();
    assert!(r.suites[0].name.len() <= 512);
    assert!(r.suites[0].cases[0].name.len() <= 512);
}

#[test]
fn nesting_without_end_is_refused() {
    let deep = "<testsuite>".repeat(200);
    assert!(matches!(
        parse("deep.xml", deep.as_bytes()),
        Err(JunitError::Malformed { .. })
    ));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn xmlish() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("<testsuite name=\"s\">".to_string()),
                Just("</testsuite>".to_string()),
                Just("<testcase name=\"c\" time=\"0.1\">".to_string()),
                Just("</testcase>".to_string()),
                Just("<testcase name=\"e\"/>".to_string()),
                Just("<failure message=\"m\">".to_string()),
                Just("</failure>".to_string()),
                Just("<skipped/>".to_string()),
                Just("<system-out>[[ATTACHMENT|a.png]]".to_string()),
                Just("</system-out>".to_string()),
                Just("<![CDATA[x]]>".to_string()),
                Just("&amp;&#x41;&bogus;".to_string()),
                Just("<".to_string()),
                Just("\"".to_string()),
                "[a-z ]{0,8}",
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn any_input_never_panics_and_stays_bounded(
            text in prop_oneof![xmlish(), any::<String>()]
        ) {
            if let Ok(r) = parse("p.xml", text.as_bytes()) {
                prop_assert!(r.counts().total <= MAX_CASES);
                for (_, c) in r.failures_first() {
                    prop_assert!(c.trace.as_ref().is_none_or(|t| t.chars().count() <= MAX_TEXT));
                    prop_assert!(c.output.as_ref().is_none_or(|t| t.chars().count() <= MAX_TEXT));
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse("b.xml", &bytes);
        }
    }
}
