//! Shared by the review page tests: a sendwell with its page on a free
//! loopback port, and a message the judge holds, sent through real SMTP.

use std::net::SocketAddr;

use mail_send::SmtpClientBuilder;
use mail_send::smtp::message::Message;
use sendwell::store::MessageId;

/// A token long enough for the config check.
pub const TOKEN: &str = "test-token-0123456789abcdef";

/// A shipping note with an unfilled merge field: the judge holds it.
pub fn held_body(to: &str, tag: &str) -> String {
    format!(
        "From: Lin Wei <lin@seller.example>\r\nTo: {to}\r\nSubject: Your order has shipped <{tag}>\r\n\
         Message-ID: <{tag}@seller.example>\r\n\r\nHi {{{{first_name}}}},\r\n\r\nyour parcel left our warehouse today. \
         Tracking: YT2611220001.\r\n\r\nBest regards,\r\nLin\r\n"
    )
}

/// Sends through sendwell's SMTP door; the server's final reply text.
pub async fn send(addr: SocketAddr, from: &str, to: &str, body: &str) -> String {
    try_send(addr, from, &[to], body).await.unwrap()
}

/// Sends through sendwell's SMTP door: the server's final reply text, or
/// the refusal.
pub async fn try_send(
    addr: SocketAddr,
    from: &str,
    to: &[&str],
    body: &str,
) -> Result<String, mail_send::Error> {
    let mut client = SmtpClientBuilder::new(addr.ip().to_string(), addr.port())
        .unwrap()
        .connect_plain()
        .await?;
    let mut m = Message::empty().from(from);
    for t in to {
        m = m.to(*t);
    }
    // mail-send adds the CRLF before the final dot itself.
    let body = body.strip_suffix("\r\n").unwrap_or(body).to_string();
    client
        .send(m.body(body.into_bytes()))
        .await
        .map(|r| r.message)
}

/// The message id in "held for review as 12; …".
pub fn held_id(reply: &str) -> MessageId {
    assert!(reply.contains("held for review"), "{reply}");
    queued_id(reply)
}

/// The message id in a 250 reply ("… as 12; …").
pub fn queued_id(reply: &str) -> MessageId {
    let digits: String = reply
        .split("as ")
        .nth(1)
        .unwrap_or("")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    MessageId(
        digits
            .parse()
            .unwrap_or_else(|_| panic!("no id in '{reply}'")),
    )
}

/// The decoded text of a received message (notices are base64).
pub fn text_of(data: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(data)
        .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_default()
}
