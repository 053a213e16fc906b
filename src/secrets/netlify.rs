//! Netlify's precedence: which of a variable's values a build in a given
//! context actually gets. A branch's own value wins over `branch-deploy`,
//! which wins over `all`; every other context takes its own value, else `all`.

use super::location::NetlifyContext;
use super::sources::{NetlifyValue, NetlifyVar, ValueContext};

/// The value a context uses, or `None` when the variable has none there.
pub fn effective<'a>(var: &'a NetlifyVar, context: &NetlifyContext) -> Option<&'a NetlifyValue> {
    let own = |c: &NetlifyContext| {
        var.values
            .iter()
            .find(|v| v.context == ValueContext::Only(c.clone()))
    };
    let all = || var.values.iter().find(|v| v.context == ValueContext::All);
    match context {
        NetlifyContext::Branch(_) => own(context)
            .or_else(|| own(&NetlifyContext::BranchDeploy))
            .or_else(all),
        other => own(other).or_else(all),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    fn var(values: &[(&str, Option<&str>, &str)]) -> NetlifyVar {
        NetlifyVar {
            key: "K".into(),
            is_secret: false,
            scopes: vec![],
            values: values
                .iter()
                .map(|(c, p, v)| NetlifyValue {
                    context: ValueContext::parse(c, *p).unwrap(),
                    value: Some(Secret::new(*v)),
                })
                .collect(),
            updated_at: None,
            updated_by: None,
        }
    }

    fn value_in(v: &NetlifyVar, c: NetlifyContext) -> Option<&str> {
        effective(v, &c)
            .and_then(|x| x.value.as_ref())
            .map(Secret::expose)
    }

    #[test]
    fn a_branch_value_beats_branch_deploy_which_beats_all() {
        let v = var(&[
            ("all", None, "a"),
            ("branch-deploy", None, "bd"),
            ("branch", Some("staging"), "s"),
        ]);
        assert_eq!(
            value_in(&v, NetlifyContext::Branch("staging".into())),
            Some("s")
        );
        assert_eq!(
            value_in(&v, NetlifyContext::Branch("qa".into())),
            Some("bd")
        );
        assert_eq!(value_in(&v, NetlifyContext::BranchDeploy), Some("bd"));
        assert_eq!(value_in(&v, NetlifyContext::Production), Some("a"));
        assert_eq!(value_in(&v, NetlifyContext::DeployPreview), Some("a"));
    }

    #[test]
    fn a_context_without_its_own_value_or_all_has_none() {
        let v = var(&[("production", None, "p")]);
        assert_eq!(value_in(&v, NetlifyContext::Production), Some("p"));
        assert_eq!(value_in(&v, NetlifyContext::DeployPreview), None);
        assert_eq!(value_in(&v, NetlifyContext::Branch("staging".into())), None);
        // Production never falls back to branch values.
        let b = var(&[("branch-deploy", None, "bd")]);
        assert_eq!(value_in(&b, NetlifyContext::Production), None);
    }
}
