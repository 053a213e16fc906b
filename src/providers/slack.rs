//! Slack incoming webhook: one POST of `{"text", "blocks"}`; Slack answers 200
//! `ok`. A post is a mutation, so it is never retried here: a retry after a
//! timeout could post the message twice. The webhook URL is a secret.

use super::error::{ErrorKind, ProviderError, Vendor};
use crate::secret::Secret;
use serde::Serialize;
use std::time::Duration;

const OPERATION: &str = "postMessage";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlackMessage {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<serde_json::Value>,
}

impl SlackMessage {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            blocks: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SlackWebhook {
    http: reqwest::Client,
    url: Secret,
}

impl SlackWebhook {
    pub fn new(http: reqwest::Client, url: Secret) -> Self {
        Self { http, url }
    }

    pub async fn post(&self, message: &SlackMessage) -> Result<(), ProviderError> {
        let fail =
            |status: Option<u16>, kind| ProviderError::new(Vendor::Slack, OPERATION, status, kind);
        let res = self
            .http
            .post(self.url.expose())
            .json(message)
            .send()
            .await
            .map_err(|e| ProviderError::from_reqwest(Vendor::Slack, OPERATION, e))?;
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // Slack's error bodies are short codes such as `invalid_payload`.
        let body = res
            .text()
            .await
            .map_err(|e| ProviderError::from_reqwest(Vendor::Slack, OPERATION, e))?;
        let detail: String = body.trim().chars().take(200).collect();
        match status {
            200 if detail == "ok" => Ok(()),
            200 => Err(fail(
                Some(200),
                ErrorKind::Malformed {
                    detail: format!("expected \"ok\", got {detail:?}"),
                },
            )),
            401 => Err(fail(Some(status), ErrorKind::Unauthorized)),
            403 => Err(fail(Some(status), ErrorKind::Forbidden { detail })),
            404 | 410 => Err(fail(
                Some(status),
                ErrorKind::NotFound {
                    detail: format!(
                        "{detail}: the webhook or its channel is gone; update SLACK_WEBHOOK_URL"
                    ),
                },
            )),
            429 => Err(fail(Some(status), ErrorKind::RateLimited { retry_after })),
            400..=499 => Err(fail(Some(status), ErrorKind::Rejected { detail })),
            _ => Err(fail(Some(status), ErrorKind::Unavailable)),
        }
    }
}
