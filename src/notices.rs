//! Mail sendwell writes itself: notices to the sender (held, refused,
//! scheduled), journal copies, and how they are queued. The gateway, the
//! operator actions and the journal use it; it is below all of them.

use jiff::Timestamp;

use crate::audit::{Event, Kind};
use crate::message::headers::{self, header_value};
use crate::policy::{self, Decision, Language, Verdict};
use crate::store::{DeliveryState, MessageId, NewDelivery, NewMessage, Store};

/// Queues a notice (built by [`notice::build`], from
/// `Config::own_sender_on(route)`) to `to` through `route`, with the null
/// envelope sender so it can never bounce back.
pub async fn queue_notice(
    store: &Store,
    route: &str,
    to: &str,
    raw: Vec<u8>,
    now: Timestamp,
) -> crate::store::Result<()> {
    let (mut msg, received) = own_mail(to, raw, now, "sendwell".to_string(), None);
    msg.route = route.to_string();
    let received = received
        .with("notice", true)
        .with("message_id", msg.message_id_header.clone());
    store.enqueue_audited(msg, vec![received]).await.map(|_| ())
}

/// Mail sendwell writes itself (a notice, a journal copy) as a message to
/// queue: to `to`, due now, by the `default` route, from the null envelope sender so it can never
/// bounce back; and its `received` record. What sendwell sends is in the
/// record too, but without its subject, which quotes the sender's (and that
/// may be redacted).
pub fn own_mail(
    to: &str,
    raw: Vec<u8>,
    now: Timestamp,
    client: String,
    report: Option<String>,
) -> (NewMessage, Event) {
    let headers = headers::header_section(&raw);
    let msg = NewMessage {
        mail_from: String::new(),
        message_id_header: header_value(headers, "Message-ID"),
        subject: header_value(headers, "Subject"),
        received_at: now,
        client,
        auth_user: None,
        report,
        route: crate::relay::DEFAULT_ROUTE.to_string(),
        deliveries: vec![NewDelivery {
            rcpt: to.to_string(),
            deliver_at: now,
            state: DeliveryState::Queued,
            wait: None,
        }],
        data: raw,
    };
    let received = Event::new(
        now,
        Kind::Received,
        "sendwell",
        serde_json::json!({"mail_from": "", "rcpts": [to], "size": msg.data.len()}),
    );
    (msg, received)
}

/// The title and body of the notice about held or refused copies; `links`
/// are the review page's addresses of the messages (none when it is off).
pub fn hold_notice_text(
    v: &Verdict,
    subject: &str,
    ids: &[MessageId],
    links: &[String],
    lang: Language,
) -> (String, String) {
    let report = policy::report::render_text(v, lang, false);
    let id_list = ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let held: Vec<&str> = v
        .recipients
        .iter()
        .filter(|r| {
            r.action == Decision::Hold
                || (v.action == Decision::Hold && r.action != Decision::Reject)
        })
        .map(|r| r.address.as_str())
        .collect();
    let refused: Vec<&str> = v
        .recipients
        .iter()
        .filter(|r| r.action == Decision::Reject)
        .map(|r| r.address.as_str())
        .collect();
    match lang {
        Language::En => {
            let mut body =
                format!("sendwell looked at your message \"{subject}\" before sending it.\n\n");
            if !held.is_empty() {
                body.push_str(&format!(
                    "It is HELD for review and has not been sent to: {}.\n",
                    held.join(", ")
                ));
            }
            if !refused.is_empty() {
                body.push_str(&format!(
                    "It will NOT be sent to: {}.\n",
                    refused.join(", ")
                ));
            }
            body.push_str(&format!(
                "\n{report}\nWhat now: fix what is listed above and send the message again; \
                 or, if it is fine as it is, ask your mail administrator to release it \
                 (`sendwell held release {id_list}`). A reviewer can also refuse it \
                 (`sendwell held reject {id_list}`), and you will be told.\n"
            ));
            if !links.is_empty() {
                body.push_str(&format!(
                    "\nReview it at: {}\n",
                    links.join("\n               ")
                ));
            }
            (format!("[sendwell] Held for review: {subject}"), body)
        }
        Language::ZhCn => {
            let mut body = format!("sendwell 在发送前检查了您的邮件《{subject}》。\n\n");
            if !held.is_empty() {
                body.push_str(&format!(
                    "该邮件已被暂扣待审核，尚未发送给：{}。\n",
                    held.join("、")
                ));
            }
            if !refused.is_empty() {
                body.push_str(&format!("该邮件不会发送给：{}。\n", refused.join("、")));
            }
            body.push_str(&format!(
                "\n{report}\n下一步：请按上面的建议修改后重新发送；如果您确认邮件没有问题，\
                 请联系邮件管理员放行（`sendwell held release {id_list}`）。审核人也可以拒发\
                 （`sendwell held reject {id_list}`），届时您会收到通知。\n"
            ));
            if !links.is_empty() {
                body.push_str(&format!("\n审核页面：{}\n", links.join("\n          ")));
            }
            (format!("[sendwell] 邮件已暂扣待审核：{subject}"), body)
        }
    }
}
