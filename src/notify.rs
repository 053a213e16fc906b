//! Telling the team in Slack: each event once, however many instances see
//! it (the notifications table decides who sends), and never at the cost of
//! the thing being announced: a webhook that fails is logged and recorded for
//! admins, and the caller carries on.

use crate::providers::slack::{SlackMessage, SlackWebhook};
use crate::storage::{now_ms, Storage};

#[derive(Clone, Debug)]
pub struct Notifier {
    storage: Storage,
    slack: Option<SlackWebhook>,
    /// Where Greenroom is reached, for links in messages.
    public_url: String,
}

/// What became of one announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Another instance (or an earlier call) already announced it.
    AlreadyAnnounced,
    /// No webhook is configured.
    NotConfigured,
    /// Slack did not take it; the text says why (no secret: the webhook URL
    /// is never in a provider error).
    Failed(String),
}

impl Notifier {
    pub fn new(storage: Storage, slack: Option<SlackWebhook>, public_url: &str) -> Self {
        Self {
            storage,
            slack,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// A link to a page of Greenroom (`path` starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// Posts `text` unless `event_key` was announced before. The text is
    /// escaped for Slack here, once for every message: nothing a vendor or a
    /// commit author wrote can ping the channel.
    pub async fn announce(&self, event_key: &str, text: &str) -> Delivery {
        let Some(slack) = &self.slack else {
            return Delivery::NotConfigured;
        };
        match self.storage.claim_notification(event_key, now_ms()).await {
            Ok(true) => {}
            Ok(false) => return Delivery::AlreadyAnnounced,
            Err(e) => {
                tracing::warn!(event = event_key, error = %e, "could not record a Slack notification; not sending it");
                return Delivery::Failed(e.to_string());
            }
        }
        let result = slack
            .post(&SlackMessage::text(crate::text::slack_escape(text)))
            .await;
        let (delivered, error) = match &result {
            Ok(()) => (true, None),
            Err(e) => {
                tracing::warn!(event = event_key, error = %e, "Slack did not take a notification");
                (false, Some(e.to_string()))
            }
        };
        if let Err(e) = self
            .storage
            .complete_notification(event_key, delivered, error.as_deref())
            .await
        {
            tracing::warn!(event = event_key, error = %e, "could not record a Slack delivery");
        }
        match error {
            None => Delivery::Sent,
            Some(e) => Delivery::Failed(e),
        }
    }
}
