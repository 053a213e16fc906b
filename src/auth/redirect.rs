//! The post-sign-in redirect accepts only a path on this site: it must start
//! with one `/`, hold no backslash, no scheme and no control character, so it
//! can never send someone to another host.

/// `next` if it is a safe same-site path, else `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_safe(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

pub fn is_safe(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && !next.to_ascii_lowercase().contains("%2f%2f")
        && !next.starts_with("/%5c")
        && !next.starts_with("/%2f")
        && next.len() <= 2000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_paths_are_accepted() {
        for ok in ["/", "/deploys", "/activity?actor=ada&page=2", "/a/b#c"] {
            assert_eq!(safe_next(Some(ok)), ok, "{ok}");
        }
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "/%2f%2fevil.example",
            "/%5cevil.example",
            "evil",
            "",
            "/ok\r\nLocation: https://evil.example",
            " /x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
