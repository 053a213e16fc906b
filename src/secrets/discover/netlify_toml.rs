//! What `netlify.toml` says about deploy contexts and secret scanning,
//! parsed with the `toml` crate.

use super::FileProblem;
use crate::secrets::location::NetlifyContext;

/// A `[context.NAME]` section of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileContext {
    pub context: NetlifyContext,
    pub line: Option<usize>,
}

/// A secret-scanning setting in an `environment` table of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSetting {
    /// `SECRETS_SCAN_ENABLED` or `SECRETS_SCAN_OMIT_KEYS`.
    pub key: String,
    /// A setting's value is configuration, not a secret.
    pub value: String,
    /// `[build.environment]` or `[context.staging.environment]`.
    pub section: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetlifyToml {
    pub contexts: Vec<FileContext>,
    pub scan_settings: Vec<ScanSetting>,
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map(|i| i + 1)
}

fn scan_settings(table: Option<&toml::Value>, section: &str, out: &mut Vec<ScanSetting>) {
    let Some(env) = table
        .and_then(|t| t.get("environment"))
        .and_then(|e| e.as_table())
    else {
        return;
    };
    for key in ["SECRETS_SCAN_ENABLED", "SECRETS_SCAN_OMIT_KEYS"] {
        if let Some(v) = env.get(key) {
            let value = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                _ => String::new(),
            };
            out.push(ScanSetting {
                key: key.to_string(),
                value,
                section: section.to_string(),
            });
        }
    }
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
    scan_settings(
        root.get("build"),
        "[build.environment]",
        &mut out.scan_settings,
    );
    if let Some(contexts) = root.get("context").and_then(|c| c.as_table()) {
        for (name, table) in contexts {
            out.contexts.push(FileContext {
                context: NetlifyContext::from_name(name),
                line: line_of(text, &format!("[context.{name}"))
                    .or_else(|| line_of(text, &format!("[context.\"{name}\""))),
            });
            scan_settings(
                Some(table),
                &format!("[context.{name}.environment]"),
                &mut out.scan_settings,
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_contexts_with_lines_and_scan_settings() {
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
        assert_eq!(t.scan_settings.len(), 2);
        assert_eq!(t.scan_settings[0].value, "false");
        assert_eq!(t.scan_settings[1].section, "[context.staging.environment]");
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
