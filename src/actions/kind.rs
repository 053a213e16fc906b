//! The three on-call actions: their names on the wire, their labels, and
//! which of them apply to a deploy.

use crate::domain::DeployState;
use crate::storage::{DeployRecord, SiteRole};
use serde::{Deserialize, Serialize};

/// The three on-call actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    DeployStaging,
    RerunDeployJob,
    RedeployLastGood,
}

impl ActionKind {
    /// Every action, in the order on-call reads them.
    pub const ALL: [ActionKind; 3] = [
        ActionKind::RedeployLastGood,
        ActionKind::RerunDeployJob,
        ActionKind::DeployStaging,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::DeployStaging => "deploy-staging",
            ActionKind::RerunDeployJob => "rerun-deploy-job",
            ActionKind::RedeployLastGood => "redeploy-last-good",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionKind::DeployStaging => "Deploy develop to staging",
            ActionKind::RerunDeployJob => "Re-run the deploy job",
            ActionKind::RedeployLastGood => "Redeploy last good build",
        }
    }
}

/// The actions a deploy's page offers: on the staging site, a failed deploy
/// can be replaced by the last good one, a deploy made by the deploy job can
/// have that job re-run, and the staging branch can always be deployed
/// again. Production deploys offer none (Greenroom does not release).
pub fn applicable_to(d: &DeployRecord) -> Vec<ActionKind> {
    let mut out = Vec::new();
    if d.site_role == SiteRole::Staging {
        if d.state == DeployState::Error {
            out.push(ActionKind::RedeployLastGood);
        }
        if d.run_id.is_some() {
            out.push(ActionKind::RerunDeployJob);
        }
        out.push(ActionKind::DeployStaging);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(site_role: SiteRole, state: DeployState, run_id: Option<i64>) -> DeployRecord {
        DeployRecord {
            site_id: "site".into(),
            deploy_id: "d1".into(),
            project_id: 1,
            site_role,
            context: "branch-deploy".into(),
            branch: Some("develop".into()),
            state,
            commit_sha: None,
            commit_message: None,
            commit_url: None,
            author: None,
            deploy_url: None,
            error_message: None,
            created_at_ms: 0,
            published_at_ms: None,
            updated_at_ms: 0,
            build_seconds: None,
            synced_at_ms: 0,
            run_id,
        }
    }

    #[test]
    fn a_failed_staging_deploy_of_the_deploy_job_offers_all_three() {
        let d = deploy(SiteRole::Staging, DeployState::Error, Some(7));
        assert_eq!(
            applicable_to(&d),
            [
                ActionKind::RedeployLastGood,
                ActionKind::RerunDeployJob,
                ActionKind::DeployStaging
            ]
        );
    }

    #[test]
    fn a_good_staging_deploy_without_a_run_offers_a_new_deploy_only() {
        let d = deploy(SiteRole::Staging, DeployState::Ready, None);
        assert_eq!(applicable_to(&d), [ActionKind::DeployStaging]);
    }

    #[test]
    fn production_deploys_offer_nothing() {
        let d = deploy(SiteRole::Production, DeployState::Error, Some(7));
        assert!(applicable_to(&d).is_empty());
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in ActionKind::ALL {
            assert_eq!(ActionKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ActionKind::parse("deploy-production"), None);
    }
}
