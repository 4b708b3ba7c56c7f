//! [`OutboxUpstream`]: the embedded default when no upstream is configured.
//! Each transaction becomes one `.eml` file in a folder, so sendwell runs
//! (and can be tried) without a smarthost. Knows nothing of the store.
//!
//! File convention, one file per transaction (all its recipients):
//!
//! - name: `<UTC time, YYYYMMDDTHHMMSS.ffffffZ>-<16 hex digits>.eml`; names
//!   sort by hand-over time.
//! - content: the envelope as header lines first, then the message exactly as
//!   it would have gone upstream (CRLF, not dot-stuffed):
//!   ```text
//!   X-Sendwell-Envelope-From: <seller@example.com>
//!   X-Sendwell-Envelope-To: <buyer@example.org>
//!   X-Sendwell-Envelope-To: <other@example.net>
//!   Received: …            (the message as stored)
//!   ```
//!   The null sender is written `<>`. Since the envelope lines are header
//!   fields, the file still opens as a normal message in any mail program; a
//!   script that forwards the files strips the lines that start with
//!   `X-Sendwell-Envelope-` before the first other header.
//!
//! Writes are crash-safe: a hidden temporary file (`.<name>.tmp`) is written
//! and fsynced, then renamed into place and the folder fsynced, so a reader
//! never sees half a file and a `Delivered` result means the file is durable.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Error;
use super::upstream::{OutboundMessage, RcptResult, SendFuture, Upstream};

/// Header naming the envelope sender in an outbox file.
pub const ENVELOPE_FROM_HEADER: &str = "X-Sendwell-Envelope-From";
/// Header naming one envelope recipient in an outbox file.
pub const ENVELOPE_TO_HEADER: &str = "X-Sendwell-Envelope-To";

/// A folder of `.eml` files.
pub struct OutboxUpstream {
    dir: PathBuf,
}

impl OutboxUpstream {
    /// Creates the folder when it does not exist yet.
    pub fn new(dir: PathBuf) -> Result<OutboxUpstream, Error> {
        fs::create_dir_all(&dir).map_err(|source| Error::Outbox {
            path: dir.clone(),
            source,
        })?;
        Ok(OutboxUpstream { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Upstream for OutboxUpstream {
    fn send<'a>(&'a self, msg: &'a OutboundMessage) -> SendFuture<'a> {
        Box::pin(async move {
            let dir = self.dir.clone();
            let msg = msg.clone();
            let n = msg.rcpt_to.len();
            let written = tokio::task::spawn_blocking(move || write_file(&dir, &msg)).await;
            let result = match written {
                Ok(Ok(name)) => RcptResult::Delivered(format!("written to outbox as {name}")),
                Ok(Err(e)) => {
                    tracing::error!(dir = %self.dir.display(), error = %e, "cannot write to the outbox folder");
                    RcptResult::Transient(format!("cannot write to the outbox folder: {e}"))
                }
                Err(e) => RcptResult::Transient(format!("outbox writer failed: {e}")),
            };
            vec![result; n]
        })
    }

    fn describe(&self) -> String {
        format!(
            "OUTBOX folder {} (no upstream configured: mail is written to .eml files, not sent; set upstream.url to relay)",
            self.dir.display()
        )
    }
}

/// The file's bytes: envelope header lines, then the message.
pub fn outbox_bytes(msg: &OutboundMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.data.len() + 64 * (msg.rcpt_to.len() + 1));
    out.extend_from_slice(
        format!("{ENVELOPE_FROM_HEADER}: <{}>\r\n", clean(&msg.mail_from)).as_bytes(),
    );
    for rcpt in &msg.rcpt_to {
        out.extend_from_slice(format!("{ENVELOPE_TO_HEADER}: <{}>\r\n", clean(rcpt)).as_bytes());
    }
    out.extend_from_slice(&msg.data);
    out
}

/// Envelope addresses came through smtp-proto and cannot hold CR/LF; this is
/// a second lock on the door so no address can add a header line.
fn clean(addr: &str) -> String {
    addr.chars().filter(|c| !c.is_control()).collect()
}

fn write_file(dir: &Path, msg: &OutboundMessage) -> std::io::Result<String> {
    fs::create_dir_all(dir)?;
    let now = jiff::Timestamp::now();
    let stamp = now.strftime("%Y%m%dT%H%M%S.%6fZ").to_string();
    let name = format!("{stamp}-{:016x}.eml", rand::random::<u64>());
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(&outbox_bytes(msg))?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, dir.join(&name))?;
        // The rename is only durable once the folder itself is synced.
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn envelope_lines_come_first_and_null_sender_is_angle_brackets() {
        let msg = OutboundMessage {
            mail_from: String::new(),
            rcpt_to: vec!["a@example.org".into(), "b\r\nBcc: x@y@example.org".into()],
            data: Arc::from(&b"Subject: hi\r\n\r\nbody\r\n"[..]),
        };
        let bytes = outbox_bytes(&msg);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "X-Sendwell-Envelope-From: <>\r\nX-Sendwell-Envelope-To: <a@example.org>\r\n\
             X-Sendwell-Envelope-To: <bBcc: x@y@example.org>\r\nSubject: hi\r\n\r\nbody\r\n"
        );
    }
}
