//! The orchestrator: the only place that knows the order of the stages.
//!
//! RCPT: address checks. DATA: canonicalise → submission headers → store →
//! `250`. The door hands a [`Submission`] here and writes back the [`Reply`]
//! it gets; the stages do not call each other.

use std::sync::Arc;

use email_address::{EmailAddress, Options};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::message::prepare::{self, Trace};
use crate::smtp::Reply;
use crate::store::{DeliveryState, NewDelivery, NewMessage, Store};
use crate::submission::{ClientInfo, Submission};

pub struct Gateway {
    config: Arc<Config>,
    store: Store,
    clock: Arc<dyn Clock>,
    /// Tells the courier there is new mail, so it need not wait for its poll.
    wakeup: Arc<Notify>,
}

impl Gateway {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        clock: Arc<dyn Clock>,
        wakeup: Arc<Notify>,
    ) -> Self {
        Gateway {
            config,
            store,
            clock,
            wakeup,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Judges one forward path at RCPT time. `Ok` means `250`.
    pub async fn check_rcpt(&self, _client: &ClientInfo, rcpt: &str) -> Result<Reply, Reply> {
        check_rcpt_syntax(rcpt)?;
        Ok(Reply::ok("recipient ok"))
    }

    /// Takes a whole transaction after the final dot. A `250` is returned only
    /// once the message is durably stored.
    pub async fn submit(&self, sub: Submission) -> Reply {
        let now = self.clock.now();
        let data = prepare::canonicalize(&sub.data);
        let trace = Trace {
            helo: &sub.client.helo,
            client_ip: sub.client.addr.ip(),
            by_host: &self.config.server.hostname,
            tls: sub.client.tls,
            authenticated: sub.client.auth_user.is_some(),
            single_rcpt: match sub.rcpt_to.as_slice() {
                [one] => Some(one.as_str()),
                _ => None,
            },
        };
        let data = prepare::add_submission_headers(&data, &trace, now);
        let headers = prepare::header_section(&data);
        let deliveries = sub
            .rcpt_to
            .iter()
            .map(|rcpt| NewDelivery {
                rcpt: rcpt.clone(),
                deliver_at: now,
                state: DeliveryState::Queued,
            })
            .collect();
        let msg = NewMessage {
            mail_from: sub.mail_from.clone(),
            message_id_header: header_value(headers, "Message-ID"),
            subject: header_value(headers, "Subject"),
            data,
            received_at: now,
            client: sub.client.addr.to_string(),
            auth_user: sub.client.auth_user.clone(),
            report: None,
            deliveries,
        };
        match self.store.enqueue(msg).await {
            Ok((id, _)) => {
                self.wakeup.notify_one();
                tracing::info!(message = %id, from = %sub.mail_from, rcpts = sub.rcpt_to.len(), "spooled");
                Reply::ok(format!("queued as {id}"))
            }
            Err(e) => {
                tracing::error!(error = %e, "could not store a message; the client will retry");
                Reply::new(
                    451,
                    (4, 3, 0),
                    "temporary local problem, message not accepted; please try again",
                )
            }
        }
    }
}

/// `553 5.1.3` for anything that is not a deliverable address.
pub fn check_rcpt_syntax(rcpt: &str) -> Result<(), Reply> {
    let bad = || {
        Reply::new(
            553,
            (5, 1, 3),
            format!("<{}> is not a valid address", rcpt.escape_default()),
        )
    };
    if rcpt.is_empty() || rcpt.len() > 254 {
        return Err(bad());
    }
    let opts = Options::default()
        .with_required_tld()
        .without_display_text();
    EmailAddress::parse_with_options(rcpt, opts).map_err(|_| bad())?;
    Ok(())
}

/// The unfolded value of the first header `name`, for listings (raw, not
/// RFC 2047-decoded; the judge decodes properly).
pub fn header_value(headers: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let mut lines = text.split("\r\n").peekable();
    while let Some(line) = lines.next() {
        if line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name)
            && line.as_bytes()[name.len()] == b':'
        {
            let mut value = line[name.len() + 1..].trim().to_string();
            while let Some(next) = lines.peek() {
                if next.starts_with([' ', '\t']) {
                    value.push(' ');
                    value.push_str(next.trim());
                    lines.next();
                } else {
                    break;
                }
            }
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcpt_syntax() {
        assert!(check_rcpt_syntax("buyer@example.de").is_ok());
        assert!(check_rcpt_syntax("käufer@müller.de").is_ok());
        for bad in ["", "nobody", "a@b", "a@@b.de", "Hans <h@x.de>"] {
            assert_eq!(check_rcpt_syntax(bad).unwrap_err().code, 553, "{bad}");
        }
    }

    #[test]
    fn header_value_unfolds() {
        let h = b"From: a@b\r\nSubject: one\r\n two\r\nX: y\r\n";
        assert_eq!(header_value(h, "subject").as_deref(), Some("one two"));
        assert_eq!(header_value(h, "To"), None);
    }
}
