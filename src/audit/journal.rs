//! The journal: a copy of every relayed message, once the upstream has
//! taken it for at least one recipient, kept in a folder as
//! `<message id>.eml` and/or mailed to an archive address (a Google Vault
//! or Microsoft Purview mailbox, say). A message delivered in several
//! attempts, or to its recipients at different hours, is journaled once:
//! in the folder the first writer creates the file; for the address the
//! store marks the message journaled in the transaction that queues the
//! copy.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{Event, Kind};
use crate::store::{MessageId, Store};

/// Keeps a copy of a relayed message in the journal folder and records
/// that it did. Best effort: a failure is logged, delivery goes on.
pub async fn keep(store: &Store, dir: &Path, id: MessageId, data: &[u8], now: Timestamp) {
    match write(dir, id, data).await {
        Ok(Some(path)) => {
            crate::metrics::journaled("folder");
            let event = Event::new(
                now,
                Kind::Journaled,
                "courier",
                serde_json::json!({"path": path.display().to_string()}),
            )
            .about(id);
            super::record_done(store, vec![event]).await;
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(message = %id, dir = %dir.display(), error = %e, "cannot write the journal copy")
        }
    }
}

/// Writes `data` as `dir/<id>.eml` unless it is there already. Returns the
/// path when this call wrote it. The file is written under a temporary name
/// and renamed, so a reader never sees half a message.
pub async fn write(dir: &Path, id: MessageId, data: &[u8]) -> std::io::Result<Option<PathBuf>> {
    tokio::fs::create_dir_all(dir).await?;
    let path = dir.join(format!("{id}.eml"));
    if tokio::fs::try_exists(&path).await? {
        return Ok(None);
    }
    let tmp = dir.join(format!(".{id}.{:08x}.tmp", rand::random::<u32>()));
    tokio::fs::write(&tmp, data).await?;
    // Linking fails when the name exists: of two couriers racing on one
    // message, one wins and the other drops its copy.
    let linked = tokio::fs::hard_link(&tmp, &path).await;
    let _ = tokio::fs::remove_file(&tmp).await;
    match linked {
        Ok(()) => Ok(Some(path)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(e),
    }
}

/// Queues the journal copy of message `id` (as relayed: `data`, from
/// `mail_from`) to the archive address `to`, unless it was queued before,
/// and records that it was. Best effort like the folder: a failure is
/// logged and delivery goes on. True when a copy was queued.
pub async fn send_copy(
    store: &Store,
    to: &str,
    id: MessageId,
    mail_from: &str,
    data: &[u8],
    now: Timestamp,
) -> bool {
    let rcpts: Vec<String> = match store.message(id).await {
        Ok(Some(m)) => m.deliveries.into_iter().map(|d| d.rcpt).collect(),
        Ok(None) => return false,
        Err(e) => {
            tracing::error!(message = %id, error = %e, "cannot read the message to journal");
            return false;
        }
    };
    let copy = copy_for_address(data, id, mail_from, &rcpts);
    let (msg, received) = crate::notices::own_mail(
        to,
        copy,
        now,
        format!("sendwell journal of message {id}"),
        Some(serde_json::json!({"journal_of": id.0}).to_string()),
    );
    let received = received.with("journal_of", id.0);
    let journaled = Event::new(
        now,
        Kind::Journaled,
        "courier",
        serde_json::json!({"to": to}),
    )
    .about(id);
    match store
        .enqueue_journal_copy(id, msg, vec![received, journaled])
        .await
    {
        Ok(Some(copy)) => {
            crate::metrics::journaled("address");
            tracing::info!(message = %id, copy = %copy, to, "journal copy queued");
            true
        }
        Ok(None) => false,
        Err(e) => {
            tracing::error!(message = %id, to, error = %e, "cannot queue the journal copy");
            false
        }
    }
}

/// The message as its recipients got it, after headers naming its envelope:
/// a Bcc recipient is nowhere else, and the archive must show who got it.
/// Sent with the null sender, so it never bounces to the seller and is never
/// journaled itself.
pub fn copy_for_address(data: &[u8], id: MessageId, mail_from: &str, rcpts: &[String]) -> Vec<u8> {
    // Envelope addresses passed the SMTP grammar; a line break in one would
    // still be a header injection, so none survives.
    let clean = |s: &str| s.replace(['\r', '\n'], "");
    let mut out = Vec::with_capacity(data.len() + 200);
    out.extend_from_slice(format!("X-Sendwell-Journal: message {id}\r\n").as_bytes());
    out.extend_from_slice(
        format!("X-Sendwell-Envelope-From: <{}>\r\n", clean(mail_from)).as_bytes(),
    );
    // One recipient per line keeps long lists within the line limit.
    let to: Vec<String> = rcpts.iter().map(|r| format!("<{}>", clean(r))).collect();
    out.extend_from_slice(format!("X-Sendwell-Envelope-To: {}\r\n", to.join(",\r\n ")).as_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_names_its_envelope_first() {
        let data = b"From: Lin <lin@shop.example>\r\nTo: hans@buyer.example\r\nSubject: Quote\r\n\r\nHello\r\n";
        let rcpts = vec![
            "hans@buyer.example".to_string(),
            "bcc@buyer.example".to_string(),
        ];
        let copy = copy_for_address(data, MessageId(42), "lin@shop.example", &rcpts);
        let text = String::from_utf8(copy).unwrap();
        assert!(
            text.starts_with(
                "X-Sendwell-Journal: message 42\r\n\
             X-Sendwell-Envelope-From: <lin@shop.example>\r\n\
             X-Sendwell-Envelope-To: <hans@buyer.example>,\r\n <bcc@buyer.example>\r\n\
             From: Lin"
            ),
            "{text}"
        );
        assert!(text.ends_with("\r\n\r\nHello\r\n"));
        let parsed = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        assert_eq!(parsed.subject(), Some("Quote"));
        assert_eq!(
            parsed.header_raw("X-Sendwell-Envelope-To").map(str::trim),
            Some("<hans@buyer.example>,\r\n <bcc@buyer.example>")
        );
    }

    #[test]
    fn no_line_break_gets_into_the_headers() {
        let copy = copy_for_address(b"\r\nx\r\n", MessageId(1), "a@b.example\r\nBcc: x@y", &[]);
        let text = String::from_utf8(copy).unwrap();
        assert!(!text.contains("\r\nBcc:"), "{text}");
    }

    #[tokio::test]
    async fn writes_each_message_once() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("journal");
        let p = write(&j, MessageId(7), b"Subject: x\r\n\r\nhi\r\n")
            .await
            .unwrap()
            .expect("first write creates the file");
        assert_eq!(std::fs::read(&p).unwrap(), b"Subject: x\r\n\r\nhi\r\n");
        assert!(write(&j, MessageId(7), b"other").await.unwrap().is_none());
        assert_eq!(std::fs::read(&p).unwrap(), b"Subject: x\r\n\r\nhi\r\n");
        let names: Vec<_> = std::fs::read_dir(&j).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }
}
