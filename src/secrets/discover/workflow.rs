//! Which secrets and variables a GitHub Actions workflow uses, with the line,
//! the job and the job's environment. Read with yaml-rust2's event parser
//! because its events carry line numbers; the references themselves live in
//! expressions inside string values, so every scalar is scanned.

use super::FileProblem;
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;
use yaml_rust2::Event;

/// Deeper than any real workflow; stops a hostile file from costing much.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Secret,
    Variable,
}

/// One `secrets.NAME` or `vars.NAME` in the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub kind: RefKind,
    /// As written; GitHub matches names case-insensitively.
    pub name: String,
    pub line: usize,
    /// The job it is in (`None`: the workflow's top level, e.g. its `env:`).
    pub job: Option<String>,
    /// The job's `environment` (`environment: staging` or `{ name: staging }`),
    /// when it is a plain name rather than an expression.
    pub environment: Option<String>,
    /// The job has an environment, but it is an expression (`${{ inputs.env }}`):
    /// which one is known only when it runs.
    pub environment_is_expression: bool,
}

#[derive(Debug)]
enum Node {
    Scalar {
        text: String,
        /// 1-based; for a block scalar, the line its content starts on.
        line: usize,
    },
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
    Other,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Vec<Node>>,
    done: Vec<Node>,
    too_deep: Option<usize>,
}

impl Builder {
    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(top) => top.push(node),
            None => self.done.push(node),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.too_deep.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, _, _, _) => self.push(Node::Scalar {
                text,
                line: mark.line(),
            }),
            Event::Alias(_) => self.push(Node::Other),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.too_deep = Some(mark.line());
                    return;
                }
                // A marker node records which kind this level is.
                let kind = if matches!(ev, Event::SequenceStart(..)) {
                    Node::Seq(Vec::new())
                } else {
                    Node::Map(Vec::new())
                };
                self.stack.push(vec![kind]);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(mut items) = self.stack.pop() else {
                    return;
                };
                let kind = items.remove(0);
                let node = match kind {
                    Node::Seq(_) => Node::Seq(items),
                    _ => {
                        let mut pairs = Vec::with_capacity(items.len() / 2);
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            pairs.push((k, v));
                        }
                        Node::Map(pairs)
                    }
                };
                self.push(node);
            }
            _ => {}
        }
    }
}

fn key_is(node: &Node, name: &str) -> bool {
    matches!(node, Node::Scalar { text, .. } if text == name)
}

fn get<'a>(map: &'a [(Node, Node)], name: &str) -> Option<&'a Node> {
    map.iter().find(|(k, _)| key_is(k, name)).map(|(_, v)| v)
}

/// The environment a job runs in, when it is a plain name.
fn environment_of(job: &[(Node, Node)]) -> Option<String> {
    let env = match get(job, "environment")? {
        Node::Map(m) => get(m, "name")?,
        other => other,
    };
    match env {
        Node::Scalar { text, .. } if !text.contains("${{") && !text.trim().is_empty() => {
            Some(text.trim().to_string())
        }
        _ => None,
    }
}

/// Calls `f` for every scalar under `node`, saying whether it is the value
/// of an `if:` (which GitHub reads as an expression without `${{ }}`).
fn scalars<'a>(node: &'a Node, f: &mut dyn FnMut(&'a str, usize, bool)) {
    let mut todo = vec![(node, false)];
    while let Some((n, is_if)) = todo.pop() {
        match n {
            Node::Scalar { text, line } => f(text, *line, is_if),
            Node::Map(pairs) => {
                for (k, v) in pairs.iter().rev() {
                    todo.push((v, key_is(k, "if")));
                    todo.push((k, false));
                }
            }
            Node::Seq(items) => todo.extend(items.iter().rev().map(|i| (i, false))),
            Node::Other => {}
        }
    }
}

/// The references GitHub would evaluate in a scalar: inside each `${{ }}`,
/// or anywhere in an `if:` value. A shell line such as
/// `./check-secrets.sh` is text, not a reference.
fn evaluated_references(text: &str, is_if: bool) -> Vec<(RefKind, String, usize)> {
    if is_if {
        return references_in(text);
    }
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("${{") {
        let start = from + open + 3;
        let end = text[start..].find("}}").map_or(text.len(), |e| start + e);
        out.extend(
            references_in(&text[start..end])
                .into_iter()
                .map(|(k, n, at)| (k, n, start + at)),
        );
        from = end;
    }
    out
}

/// Every `secrets.X` / `secrets['X']` / `vars.X` in `text`, with the byte
/// offset of each. `GITHUB_TOKEN` is given by GitHub itself and skipped.
pub fn references_in(text: &str) -> Vec<(RefKind, String, usize)> {
    let mut found = Vec::new();
    for (prefix, kind) in [("secrets", RefKind::Secret), ("vars", RefKind::Variable)] {
        let mut from = 0;
        while let Some(pos) = text[from..].find(prefix) {
            let start = from + pos;
            from = start + prefix.len();
            let before_ok = text[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
            if !before_ok {
                continue;
            }
            let rest = &text[from..];
            let name = if let Some(r) = rest.strip_prefix('.') {
                ident(r)
            } else if let Some(r) = rest.strip_prefix('[') {
                let r = r.trim_start();
                let quote = r.chars().next().filter(|c| *c == '\'' || *c == '"');
                quote.and_then(|q| {
                    let inner = &r[1..];
                    let end = inner.find(q)?;
                    let name = &inner[..end];
                    (!name.is_empty() && ident(name).as_deref() == Some(name))
                        .then(|| name.to_string())
                })
            } else {
                None
            };
            if let Some(name) = name {
                if !(kind == RefKind::Secret && name.eq_ignore_ascii_case("GITHUB_TOKEN")) {
                    found.push((kind, name, start));
                }
            }
        }
    }
    found.sort_by_key(|(_, _, at)| *at);
    found
}

fn ident(s: &str) -> Option<String> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let name = &s[..end];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then(|| name.to_string())
}

/// The references of a workflow file, or the problem that stopped reading it.
pub fn references(file: &str, text: &str) -> Result<Vec<Reference>, FileProblem> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, false)
        .map_err(|e| FileProblem {
            file: file.to_string(),
            line: Some(e.marker().line()),
            message: format!("not valid YAML: {}", e.info()),
        })?;
    if let Some(line) = builder.too_deep {
        return Err(FileProblem {
            file: file.to_string(),
            line: Some(line),
            message: format!("nested more than {MAX_DEPTH} levels deep; not read"),
        });
    }
    let Some(root) = builder.done.into_iter().next() else {
        return Ok(Vec::new());
    };
    let Node::Map(top) = &root else {
        return Err(FileProblem {
            file: file.to_string(),
            line: Some(1),
            message: "a workflow is a mapping with `on:` and `jobs:`; this file is not".into(),
        });
    };
    let mut out = Vec::new();
    let mut take = |node: &Node, job: Option<&str>, environment: Option<&String>, dynamic: bool| {
        scalars(node, &mut |text, line, is_if| {
            for (kind, name, at) in evaluated_references(text, is_if) {
                // Exact in literal blocks; a folded block has lost its line
                // breaks, so later lines there count from its first.
                let newlines = text[..at].matches('\n').count();
                out.push(Reference {
                    kind,
                    name,
                    line: line + newlines,
                    job: job.map(str::to_string),
                    environment: environment.cloned(),
                    environment_is_expression: dynamic,
                });
            }
        });
    };
    for (key, value) in top {
        if key_is(key, "jobs") {
            let Node::Map(jobs) = value else { continue };
            for (job_key, job) in jobs {
                let Node::Scalar { text: job_id, .. } = job_key else {
                    continue;
                };
                let (environment, dynamic) = match job {
                    Node::Map(m) => (environment_of(m), get(m, "environment").is_some()),
                    _ => (None, false),
                };
                let dynamic = dynamic && environment.is_none();
                take(job, Some(job_id), environment.as_ref(), dynamic);
            }
        } else {
            take(value, None, None, false);
        }
    }
    out.sort_by(|a, b| a.line.cmp(&b.line).then(a.name.cmp(&b.name)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CI: &str = "name: CI
on: push
env:
  TOP: ${{ vars.REGION }}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: npm run build
        env:
          SUPABASE_URL: ${{ secrets.SUPABASE_URL }}
          TOKEN: ${{ secrets.GITHUB_TOKEN }}
  deploy-staging:
    needs: build
    if: secrets.DEPLOY_ENABLED != ''
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo start
          deploy --token \"${{ secrets['NETLIFY_AUTH_TOKEN'] }}\"
    environment:
      name: staging
  prod:
    environment: ${{ inputs.target }}
    steps:
      - run: echo ${{ secrets.PROD_KEY }} ${{ vars.STAGING_URL }}
";

    #[test]
    fn finds_each_reference_with_its_line_job_and_environment() {
        let refs = references("ci.yml", CI).unwrap();
        let got: Vec<_> = refs
            .iter()
            .map(|r| {
                (
                    r.kind,
                    r.name.as_str(),
                    r.line,
                    r.job.as_deref(),
                    r.environment.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (RefKind::Variable, "REGION", 4, None, None),
                (RefKind::Secret, "SUPABASE_URL", 11, Some("build"), None),
                (
                    RefKind::Secret,
                    "DEPLOY_ENABLED",
                    15,
                    Some("deploy-staging"),
                    Some("staging")
                ),
                (
                    RefKind::Secret,
                    "NETLIFY_AUTH_TOKEN",
                    20,
                    Some("deploy-staging"),
                    Some("staging")
                ),
                (RefKind::Secret, "PROD_KEY", 26, Some("prod"), None),
                (RefKind::Variable, "STAGING_URL", 26, Some("prod"), None),
            ]
        );
    }

    #[test]
    fn a_broken_file_names_its_line_and_not_its_content() {
        let text =
            "jobs:\n  a:\n    steps: [\n      - run: ${{ secrets.X }}\n    env: 'sk_live_canary\n";
        let err = references(".github/workflows/ci.yml", text).unwrap_err();
        assert_eq!(err.file, ".github/workflows/ci.yml");
        assert!(err.line.is_some());
        assert!(!err.message.contains("sk_live_canary"), "{}", err.message);
    }

    #[test]
    fn lookalikes_are_not_references() {
        assert!(references_in(
            "mysecrets.X mysecrets['Y'] a.secrets.Z secrets. secrets[X] vars.1A"
        )
        .is_empty());
        assert_eq!(
            references_in("secrets[ \"A_B\" ] && vars.c"),
            vec![
                (RefKind::Secret, "A_B".to_string(), 0),
                (RefKind::Variable, "c".to_string(), 20)
            ]
        );
    }

    #[test]
    fn only_expressions_count_not_shell_text() {
        let ci = "jobs:\n  a:\n    if: secrets.ON != ''\n    steps:\n      - run: ./scripts/check-secrets.sh vars.txt\n        env:\n          T: x ${{ secrets.REAL }} secrets.NOT\n";
        let names: Vec<String> = references("ci.yml", ci)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["ON", "REAL"]);
    }

    #[test]
    fn an_empty_or_non_mapping_file_is_handled() {
        assert!(references("ci.yml", "").unwrap().is_empty());
        assert!(references("ci.yml", "- a\n- b\n").is_err());
    }
}
