//! The notice a sender gets when the route their mail waits on is paused:
//! one per pause and sender ("37 of your messages wait: …"), never one per
//! message, in the language of `[notices] language`. It is queued like any
//! notice of sendwell's; knows nothing of the wire.

use jiff::Timestamp;

use super::replies::PauseKind;
use crate::config::Config;
use crate::message::notice::{self, Notice};
use crate::policy::Language;
use crate::store::Store;

/// Queues one notice to each sender with copies waiting on `route`, by
/// another route (`Config::notice_route`) so it does not wait behind the
/// pause it tells of. Best effort: a store error is logged; the mail itself
/// is safe either way.
pub async fn tell_senders(
    store: &Store,
    config: &Config,
    route: &str,
    kind: PauseKind,
    reply: &str,
    until: Timestamp,
    now: Timestamp,
) {
    let senders = match store.waiting_by_sender(route).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot count the waiting mail for the pause notices");
            return;
        }
    };
    let interval = config
        .route(route)
        .unwrap_or(&config.upstream)
        .probe_interval;
    let by = config.notice_route(route);
    for (sender, waiting) in senders {
        let (subject, body) = text(
            config.notices.language,
            kind,
            waiting,
            reply,
            until,
            interval,
        );
        let raw = notice::build(&Notice {
            host: &config.server.hostname,
            from: config.own_sender_on(by),
            to: &sender,
            subject: &subject,
            body: &body,
            in_reply_to: None,
            now,
        });
        match crate::notices::queue_notice(store, by, &sender, raw, now).await {
            Ok(()) => tracing::info!(to = %sender, waiting, route, by, "pause notice queued"),
            Err(e) => tracing::error!(error = %e, to = %sender, "cannot queue a pause notice"),
        }
    }
}

/// Subject and body of the notice, pure.
pub fn text(
    language: Language,
    kind: PauseKind,
    waiting: u64,
    reply: &str,
    until: Timestamp,
    interval: std::time::Duration,
) -> (String, String) {
    let at = until.strftime("%Y-%m-%d %H:%M UTC").to_string();
    let every = humantime::format_duration(interval).to_string();
    match language {
        Language::En => {
            let why = match kind {
                PauseKind::Quota => {
                    "the sending limit of the mail account (a daily quota or rate) is used up"
                }
                PauseKind::Login => {
                    "the mail provider refused sendwell's login (a wrong or expired password, or SMTP AUTH turned off for the account)"
                }
                PauseKind::Blocked => "the mail provider has blocked sending from the account",
            };
            let when = match kind {
                PauseKind::Quota => format!(
                    "They go after {at}: sendwell then tries one message, and again every {every} until the provider takes mail."
                ),
                PauseKind::Login => "They go as soon as your administrator fixes the login (a config reload resumes at once), or resumes sending with `sendwell upstream resume`.".to_string(),
                PauseKind::Blocked => "They go once your administrator has cleared the block with the provider and resumed sending (`sendwell upstream resume`).".to_string(),
            };
            (
                format!("{waiting} of your messages wait: the mail account cannot send now"),
                format!(
                    "{waiting} of your messages wait in sendwell's queue, because {why}.\n\
                     The provider refused the account, not your recipients: nothing was bounced, nothing is lost.\n\n\
                     {when}\n\n\
                     The provider's reply: {reply}\n"
                ),
            )
        }
        Language::ZhCn => {
            let why = match kind {
                PauseKind::Quota => "发信账户的发送额度（每日限额或频率）已用完",
                PauseKind::Login => {
                    "邮件服务商拒绝了 sendwell 的登录（密码错误或过期，或该账户的 SMTP 认证已关闭）"
                }
                PauseKind::Blocked => "邮件服务商已封禁该账户的发信",
            };
            let when = match kind {
                PauseKind::Quota => format!(
                    "这些邮件将在 {at} 之后发出：届时 sendwell 先试发一封，之后每隔 {every} 再试，直到服务商恢复收信。"
                ),
                PauseKind::Login => "管理员修正登录信息后立即发出（重新加载配置即恢复），或由管理员用 `sendwell upstream resume` 恢复发送。".to_string(),
                PauseKind::Blocked => "管理员在服务商处解除封禁并恢复发送（`sendwell upstream resume`）后发出。".to_string(),
            };
            (
                format!("您有 {waiting} 封邮件正在等待：发信账户暂时无法发送"),
                format!(
                    "您有 {waiting} 封邮件正在 sendwell 队列中等待，原因：{why}。\n\
                     服务商拒绝的是发信账户，而不是您的收件人：没有邮件被退回，也没有邮件丢失。\n\n\
                     {when}\n\n\
                     服务商的回复：{reply}\n"
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_notice_text_per_language_and_reason() {
        let until: Timestamp = "2026-12-05T00:00:00Z".parse().unwrap();
        let reply = "550 5.4.5 Daily user sending limit exceeded.";
        let hour = std::time::Duration::from_secs(3600);
        let (subject, body) = text(Language::En, PauseKind::Quota, 37, reply, until, hour);
        assert!(subject.starts_with("37 of your messages wait"), "{subject}");
        assert!(
            body.contains("after 2026-12-05 00:00 UTC") && body.contains("every 1h"),
            "{body}"
        );
        assert!(
            body.contains(reply) && body.contains("nothing was bounced"),
            "{body}"
        );
        let (subject, body) = text(Language::ZhCn, PauseKind::Login, 3, reply, until, hour);
        assert!(subject.contains("3 封邮件"), "{subject}");
        assert!(body.contains("登录") && body.contains(reply), "{body}");
    }
}
