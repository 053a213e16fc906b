//! Masking of secrets in text Greenroom shows but did not write: vendor
//! logs (Supabase branch runs, GitHub job logs, smoke-test logs). Anything
//! that looks like a credential goes: passwords in connection strings,
//! values of secret-named keys, the word after `Bearer`, token-shaped words
//! (JWTs, GitHub, Netlify, Supabase, Stripe and Slack tokens, Slack webhook
//! URLs), and any value the caller knows to be secret.

pub const MASK: &str = "••••••";

/// Words whose value (after `=` or `:`) is a secret.
fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "pass",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "jwt",
        "auth",
        "credential",
        "private",
        "service_role",
        "anon_key",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// How vendors' tokens begin (GitHub, Netlify, Supabase, Stripe, Slack, and
/// Slack's webhook URLs).
const TOKEN_PREFIXES: &[&str] = &[
    "sbp_",
    "sb_secret_",
    "sb_publishable_",
    "sk_live_",
    "sk_test_",
    "ghp_",
    "gho_",
    "ghs_",
    "ghu_",
    "github_pat_",
    "nfp_",
    "nfc_",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "https://hooks.slack.com/",
];

/// Characters that end a token inside a word (quotes, brackets, separators).
fn ends_token(c: char) -> bool {
    "\"'`,;()[]{}<>&|".contains(c)
}

/// `word` with each vendor token inside it (after `=`, in quotes, in JSON)
/// masked up to where the token ends.
fn mask_embedded(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    'scan: while !rest.is_empty() {
        for (i, _) in rest.char_indices() {
            let starts_here = i == 0
                || !rest[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if starts_here && TOKEN_PREFIXES.iter().any(|p| rest[i..].starts_with(p)) {
                let end = rest[i..].find(ends_token).map_or(rest.len(), |e| i + e);
                out.push_str(&rest[..i]);
                out.push_str(MASK);
                rest = &rest[end..];
                continue 'scan;
            }
        }
        out.push_str(rest);
        break;
    }
    out
}

/// A token that looks like a credential on its own: a JWT, a Supabase or
/// Stripe-style key, or a long run of mixed letters and digits.
fn looks_secret(word: &str) -> bool {
    let w = word.trim_matches(|c: char| "\"'`,;()[]{}<>".contains(c));
    if w.starts_with("eyJ") && w.matches('.').count() >= 2 {
        return true;
    }
    if TOKEN_PREFIXES.iter().any(|p| w.starts_with(p)) {
        return true;
    }
    let body = w
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c));
    let digits = w.chars().filter(char::is_ascii_digit).count();
    let letters = w.chars().filter(char::is_ascii_alphabetic).count();
    body && w.len() >= 32 && digits >= 4 && letters >= 8
}

/// One log line with anything secret in it replaced: passwords in
/// connection strings, values of secret-named keys (`PASSWORD=…`,
/// `jwt_secret: …`, `password = …`, `?password=…` in a query), the word
/// after `Bearer`, and tokens that look like credentials.
pub fn mask_line(line: &str) -> String {
    let line = line.replace('\t', " ");
    let mut out = Vec::new();
    let mut mask_next = false;
    let mut previous = "";
    for word in line.split(' ') {
        if word.is_empty() {
            out.push(String::new());
            continue;
        }
        let bearer = |w: &str| {
            matches!(
                w.trim_matches(|c: char| "\"'`,;()[]{}".contains(c))
                    .to_ascii_lowercase()
                    .as_str(),
                "bearer" | "basic" | "token"
            )
        };
        if mask_next {
            if bearer(word) {
                // `Authorization: Bearer x`: the scheme stays, x goes.
                out.push(word.to_string());
            } else {
                out.push(MASK.to_string());
                mask_next = false;
            }
            previous = word;
            continue;
        }
        out.push(mask_word(word));
        let bare = word.trim_matches(|c: char| "\"'`,;()[]{}".contains(c));
        let key = bare.trim_end_matches([':', '=']);
        mask_next = ((bare.ends_with(':') || bare.ends_with('=')) && secret_key(key))
            || (matches!(bare, "=" | ":") && secret_key(previous))
            || matches!(bare.to_ascii_lowercase().as_str(), "bearer" | "basic");
        previous = bare;
    }
    out.join(" ")
}

fn mask_word(word: &str) -> String {
    // postgres://user:password@host → postgres://user:••••••@host
    let word = match word.find("://") {
        Some(scheme_end) => {
            let rest = &word[scheme_end + 3..];
            let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
            match rest[..host_end].rfind('@') {
                Some(at) => {
                    let userinfo = &rest[..at];
                    match userinfo.find(':') {
                        Some(colon) => format!(
                            "{}{}:{MASK}{}",
                            &word[..scheme_end + 3],
                            &userinfo[..colon],
                            &rest[at..]
                        ),
                        None => word.to_string(),
                    }
                }
                None => word.to_string(),
            }
        }
        None => word.to_string(),
    };
    // key=value pairs, also inside a query string (`?a=1&password=x`).
    let mut out = String::with_capacity(word.len());
    for piece in word.split_inclusive(['&', '?', ';', ',']) {
        let (body, sep) = match piece.char_indices().last() {
            Some((i, c)) if "&?;,".contains(c) => (&piece[..i], &piece[i..]),
            _ => (piece, ""),
        };
        let masked = ['=', ':'].iter().find_map(|&d| {
            let i = body.find(d)?;
            let (key, value) = (&body[..i], &body[i + 1..]);
            (!value.is_empty() && !value.starts_with("//") && secret_key(key))
                .then(|| format!("{key}{d}{MASK}"))
        });
        out.push_str(masked.as_deref().unwrap_or(body));
        out.push_str(sep);
    }
    if looks_secret(&out) {
        return MASK.to_string();
    }
    mask_embedded(&out)
}

/// The most values a [`Known`] keeps when merged.
pub const MAX_KNOWN: usize = 5_000;

/// Values known to be secret (read from the secret sources), masked
/// wherever they appear in a line, in addition to [`mask_line`]'s rules.
#[derive(Default, Clone)]
pub struct Known {
    values: Vec<String>,
}

impl Known {
    /// Values shorter than 6 characters are left out: masking `true` or
    /// `3000` everywhere would hide the log, not the secret.
    pub fn new<I: IntoIterator<Item = String>>(values: I) -> Self {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|v| v.chars().count() >= 6)
            .collect();
        // Longest first, so a value containing another is masked whole.
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Self { values }
    }

    /// These values and `newer`'s together (at most [`MAX_KNOWN`]): a read
    /// that failed or found less must not unmask what an earlier one found.
    pub fn merged(&self, newer: &Known) -> Known {
        let mut seen = std::collections::HashSet::new();
        let all: Vec<String> = newer
            .values
            .iter()
            .chain(self.values.iter())
            .filter(|v| seen.insert(v.as_str()))
            .take(MAX_KNOWN)
            .cloned()
            .collect();
        Known::new(all)
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `line` with every known value and everything [`mask_line`] finds
    /// masked.
    pub fn mask(&self, line: &str) -> String {
        let mut line = line.to_string();
        for v in &self.values {
            if line.contains(v.as_str()) {
                line = line.replace(v.as_str(), MASK);
            }
        }
        mask_line(&line)
    }
}

impl std::fmt::Debug for Known {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Known({} values)", self.values.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_log_line_are_masked_and_the_rest_kept() {
        let cases = [
            (
                "connecting to postgresql://postgres:hunter2xyz@db.abc.supabase.co:5432/postgres",
                "connecting to postgresql://postgres:••••••@db.abc.supabase.co:5432/postgres",
            ),
            (
                "PGPASSWORD=s3cr3t-value psql -h db",
                "PGPASSWORD=•••••• psql -h db",
            ),
            ("jwt_secret: abcdefghijklmnop", "jwt_secret: ••••••"),
            ("db_pass=sandbox-db-pass-x", "db_pass=••••••"),
            (
                "key eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl used",
                "key •••••• used",
            ),
            ("token sbp_0123456789abcdef now", "token •••••• now"),
            (
                "ERROR: relation \"public.accounts\" does not exist (SQLSTATE 42P01)",
                "ERROR: relation \"public.accounts\" does not exist (SQLSTATE 42P01)",
            ),
            (
                "Applying migration 20261201093000_add_invoices.sql...",
                "Applying migration 20261201093000_add_invoices.sql...",
            ),
            (
                "see https://supabase.com/docs",
                "see https://supabase.com/docs",
            ),
            ("Authorization: Bearer abc.def", "Authorization: Bearer ••••••"),
            ("password = hunter2", "password = ••••••"),
            (
                "url postgres://db/x?sslmode=require&password=hunter2 ok",
                "url postgres://db/x?sslmode=require&password=•••••• ok",
            ),
            ("SECRET:\tvalue1", "SECRET: ••••••"),
            (
                "Waiting for postgresql://postgres:sandbox-db-pass-abc@db.abc.supabase.co:5432/postgres to accept",
                "Waiting for postgresql://postgres:••••••@db.abc.supabase.co:5432/postgres to accept",
            ),
        ];
        for (raw, masked) in cases {
            assert_eq!(mask_line(raw), masked, "{raw}");
        }
    }

    #[test]
    fn token_shapes_of_every_vendor_are_masked() {
        let cases = [
            "ghp_0123456789abcdefABCDEF0123456789abcd",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            "nfp_AbCdEfGh1234567890",
            "xoxb-1234-5678-abcdefgh",
            "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
            "sbp_0123456789abcdef",
        ];
        for token in cases {
            for line in [
                format!("got \"{token}\" back"),
                format!("SLACK_URL={token}"),
                format!("{{\"url\":\"{token}\",\"ok\":true}}"),
            ] {
                let masked = mask_line(&line);
                assert!(!masked.contains(token), "{token}: {masked}");
                assert!(masked.contains(MASK), "{masked}");
            }
        }
        // A word that merely contains a prefix after a letter is kept.
        assert_eq!(mask_line("the nfp_x and aghp_x"), "the •••••• and aghp_x");
    }

    #[test]
    fn known_values_are_masked_wherever_they_appear() {
        let known = Known::new(["canary-value-1".to_string(), "abc".to_string()]);
        assert_eq!(
            known.mask("url=https://x.test/?k=canary-value-1&abc=1"),
            format!("url=https://x.test/?k={MASK}&abc=1")
        );
        assert_eq!(known.mask("plain abc line"), "plain abc line");
        assert!(!format!("{known:?}").contains("canary"));
    }

    #[test]
    fn a_later_read_that_found_less_keeps_what_was_known() {
        let before = Known::new(["first-secret-1".to_string(), "shared-value".to_string()]);
        let after = Known::new(["shared-value".to_string(), "second-secret".to_string()]);
        let both = before.merged(&after);
        assert_eq!(both.len(), 3);
        let line = both.mask("first-secret-1 second-secret shared-value");
        assert_eq!(line, format!("{MASK} {MASK} {MASK}"));
        assert!(before
            .merged(&Known::default())
            .mask("first-secret-1")
            .contains(MASK));
    }
}
