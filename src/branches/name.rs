//! Branch names Greenroom sends to Supabase. The API description only asks
//! for a non-empty `branch_name`; Supabase's dashboard takes the characters of
//! a git branch name (slashes included) and a branch is usually named after
//! one, so git's own rules (`git check-ref-format`) apply, over a plain
//! ASCII set that needs no escaping in a Slack message or a log line (a `/`
//! is percent-encoded where the name is a URL path segment).

use thiserror::Error;

pub const MAX_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameProblem {
    #[error("Name the branch.")]
    Empty,
    #[error("A branch name is at most {MAX_LEN} characters.")]
    TooLong,
    #[error(
        "A branch name holds letters, digits, '-', '_', '.' and '/' only; '{0}' is not allowed."
    )]
    Character(char),
    #[error("A branch name cannot start with '-', '.' or '/'.")]
    Start,
    #[error("A branch name cannot end with '/', '.' or '.lock'.")]
    End,
    #[error("A branch name cannot contain '..' or '//', or a part starting with '.'.")]
    Sequence,
}

/// The name as it will be sent (trimmed), or what is wrong with it.
pub fn check_branch_name(raw: &str) -> Result<&str, NameProblem> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.chars().count() > MAX_LEN {
        return Err(NameProblem::TooLong);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
    {
        return Err(NameProblem::Character(c));
    }
    if name.starts_with(['-', '.', '/']) {
        return Err(NameProblem::Start);
    }
    if name.ends_with(['/', '.']) || name.ends_with(".lock") {
        return Err(NameProblem::End);
    }
    if name.contains("..") || name.contains("//") || name.contains("/.") {
        return Err(NameProblem::Sequence);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_like_names_pass_and_each_fault_is_named() {
        assert_eq!(
            check_branch_name(" feature/login-page "),
            Ok("feature/login-page")
        );
        assert_eq!(check_branch_name("preview_2.1"), Ok("preview_2.1"));
        assert_eq!(check_branch_name("   "), Err(NameProblem::Empty));
        assert_eq!(check_branch_name("a b"), Err(NameProblem::Character(' ')));
        assert_eq!(check_branch_name("héllo"), Err(NameProblem::Character('é')));
        assert_eq!(
            check_branch_name("<script>"),
            Err(NameProblem::Character('<'))
        );
        assert_eq!(check_branch_name("-x"), Err(NameProblem::Start));
        assert_eq!(check_branch_name("x/"), Err(NameProblem::End));
        assert_eq!(check_branch_name("x.lock"), Err(NameProblem::End));
        assert_eq!(check_branch_name("a..b"), Err(NameProblem::Sequence));
        assert_eq!(check_branch_name("a//b"), Err(NameProblem::Sequence));
        assert_eq!(check_branch_name("a/.b"), Err(NameProblem::Sequence));
        assert_eq!(
            check_branch_name(&"a".repeat(256)),
            Err(NameProblem::TooLong)
        );
        assert!(NameProblem::Character('<').to_string().contains("'<'"));
    }
}
