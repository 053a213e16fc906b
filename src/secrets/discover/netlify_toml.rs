//! What `netlify.toml` says about deploy contexts and the environment
//! values it gives builds (secret-scanning settings among them), parsed
//! with the `toml` crate.

use super::FileProblem;
use crate::secrets::location::NetlifyContext;

/// A `[context.NAME]` section of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileContext {
    pub context: NetlifyContext,
    pub line: Option<usize>,
}

/// A value the file sets: `[build.environment]` (`context: None`) or
/// `[context.X.environment]`. Netlify gives these to builds over what the
/// UI and API hold.
#[derive(Debug, Clone)]
pub struct FileValue {
    pub context: Option<NetlifyContext>,
    pub key: String,
    pub value: crate::Secret,
}

#[derive(Debug, Clone, Default)]
pub struct NetlifyToml {
    pub contexts: Vec<FileContext>,
    pub values: Vec<FileValue>,
}

impl NetlifyToml {
    /// The file's value of `key` for a build in `context`: the context's
    /// own section (for a branch, then `branch-deploy`'s), else `[build]`'s.
    pub fn value_for(&self, key: &str, context: &NetlifyContext) -> Option<&crate::Secret> {
        let find = |c: Option<&NetlifyContext>| {
            self.values
                .iter()
                .find(|v| v.key == key && v.context.as_ref() == c)
                .map(|v| &v.value)
        };
        find(Some(context))
            .or_else(|| match context {
                NetlifyContext::Branch(_) => find(Some(&NetlifyContext::BranchDeploy)),
                _ => None,
            })
            .or_else(|| find(None))
    }
}

fn values(table: Option<&toml::Value>, context: Option<NetlifyContext>, out: &mut Vec<FileValue>) {
    let Some(env) = table
        .and_then(|t| t.get("environment"))
        .and_then(|e| e.as_table())
    else {
        return;
    };
    for (key, v) in env {
        let value = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => continue,
        };
        out.push(FileValue {
            context: context.clone(),
            key: key.clone(),
            value: crate::Secret::new(value),
        });
    }
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map(|i| i + 1)
}

pub fn parse(file: &str, text: &str) -> Result<NetlifyToml, FileProblem> {
    let root: toml::Table = toml::from_str(text).map_err(|e| FileProblem {
        file: file.to_string(),
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
        message: format!("not valid TOML: {}", e.message()),
    })?;
    let mut out = NetlifyToml::default();
    values(root.get("build"), None, &mut out.values);
    if let Some(contexts) = root.get("context").and_then(|c| c.as_table()) {
        for (name, table) in contexts {
            out.contexts.push(FileContext {
                context: NetlifyContext::from_name(name),
                line: line_of(text, &format!("[context.{name}"))
                    .or_else(|| line_of(text, &format!("[context.\"{name}\""))),
            });
            values(
                Some(table),
                Some(NetlifyContext::from_name(name)),
                &mut out.values,
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_contexts_with_lines_and_the_values_builds_get() {
        let text = "[build]\n  command = \"npm run build\"\n[build.environment]\n  SECRETS_SCAN_ENABLED = false\n\n[context.production.environment]\n  X = \"1\"\n\n[context.staging]\n  command = \"b\"\n[context.staging.environment]\n  SECRETS_SCAN_OMIT_KEYS = \"A,B\"\n";
        let t = parse("netlify.toml", text).unwrap();
        assert_eq!(
            t.contexts,
            vec![
                FileContext {
                    context: NetlifyContext::Production,
                    line: Some(6)
                },
                FileContext {
                    context: NetlifyContext::Branch("staging".into()),
                    line: Some(9)
                },
            ]
        );
        let x = |c: NetlifyContext| t.value_for("X", &c).map(|v| v.expose().to_string());
        assert_eq!(x(NetlifyContext::Production).as_deref(), Some("1"));
        assert_eq!(x(NetlifyContext::DeployPreview), None);
        let scan = t
            .value_for(
                "SECRETS_SCAN_ENABLED",
                &NetlifyContext::Branch("staging".into()),
            )
            .unwrap();
        assert_eq!(scan.expose(), "false");
        let omit = t
            .value_for(
                "SECRETS_SCAN_OMIT_KEYS",
                &NetlifyContext::Branch("staging".into()),
            )
            .unwrap();
        assert_eq!(omit.expose(), "A,B");
        assert!(t
            .value_for("SECRETS_SCAN_OMIT_KEYS", &NetlifyContext::Production)
            .is_none());
    }

    #[test]
    fn a_broken_file_names_the_line() {
        let err = parse(
            "netlify.toml",
            "[build]\ncommand = \"x\"\n[context.staging\nK = 'sk_canary'\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(!err.message.contains("sk_canary"));
    }
}
