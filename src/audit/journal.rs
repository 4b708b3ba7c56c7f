//! The journal: a copy of every relayed message in a folder, as
//! `<message id>.eml`, written once the upstream has taken it for at least
//! one recipient. A message delivered in several attempts is written once
//! (the first writer creates the file; later ones find it there).

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

#[cfg(test)]
mod tests {
    use super::*;

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
