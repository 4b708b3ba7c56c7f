//! The hash chain, pure: what a record is, how its hash is made, and the
//! walk that proves a run of records intact. No IO, no clock: the store
//! hands records in, [`Verifier`] says where the chain first breaks.
//!
//! A record's hash is SHA-256 over a length-prefixed encoding of every other
//! column (seq, time, kind, message, actor, fields) and the previous
//! record's hash. So a changed byte breaks that record's own hash, a deleted
//! record leaves a gap in `seq` (or, at the end, disagrees with the chain's
//! head), and two swapped records each carry a hash made for another `seq`.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::MessageId;

/// The `prev_hash` of the very first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. The words are the pipeline's (see the README): they are
/// what `audit export` prints and `audit search` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A message arrived: envelope, client, AUTH user, Message-ID, subject, size.
    Received,
    /// The judge's verdict with every hit, and when each copy may go.
    Verdict,
    /// Copies held for review.
    Held,
    /// Refused: a recipient at RCPT, a message at the end of DATA, or some
    /// recipients of an accepted message.
    Refused,
    /// A reviewer released held copies.
    Released,
    /// A reviewer refused held copies.
    Rejected,
    /// A temporary failure upstream: tried again later.
    Deferred,
    /// The upstream took a copy.
    Delivered,
    /// A permanent failure (or the lifetime ran out).
    Bounced,
    /// A delivery report was queued to the sender.
    Dsn,
    /// An operator dropped a message's waiting copies.
    Dropped,
    /// An operator made waiting copies due now (`queue retry`/`send-now`).
    Retried,
    /// An address went on the suppression list.
    Suppressed,
    /// An address came off the suppression list.
    Unsuppressed,
    /// A copy of a relayed message went to the journal.
    Journaled,
    /// A resend replaced held copies (fields: the new message, the rcpts).
    Superseded,
    /// Retention removed older records (fields: the last removed seq and hash).
    Pruned,
    /// A route stopped sending: its provider refused the account (fields:
    /// route, reason, the provider's reply, the first probe).
    Paused,
    /// A paused route sends again (fields: route, why).
    Resumed,
    /// A waiting copy was moved later (fields: rcpt, until, why: the buyer
    /// is out of the office).
    Postponed,
}

impl Kind {
    pub const ALL: [Kind; 20] = [
        Kind::Received,
        Kind::Verdict,
        Kind::Held,
        Kind::Refused,
        Kind::Released,
        Kind::Rejected,
        Kind::Deferred,
        Kind::Delivered,
        Kind::Bounced,
        Kind::Dsn,
        Kind::Dropped,
        Kind::Retried,
        Kind::Suppressed,
        Kind::Unsuppressed,
        Kind::Journaled,
        Kind::Superseded,
        Kind::Pruned,
        Kind::Paused,
        Kind::Resumed,
        Kind::Postponed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Received => "received",
            Kind::Verdict => "verdict",
            Kind::Held => "held",
            Kind::Refused => "refused",
            Kind::Released => "released",
            Kind::Rejected => "rejected",
            Kind::Deferred => "deferred",
            Kind::Delivered => "delivered",
            Kind::Bounced => "bounced",
            Kind::Dsn => "dsn",
            Kind::Dropped => "dropped",
            Kind::Retried => "retried",
            Kind::Suppressed => "suppressed",
            Kind::Unsuppressed => "unsuppressed",
            Kind::Journaled => "journaled",
            Kind::Superseded => "superseded",
            Kind::Pruned => "pruned",
            Kind::Paused => "paused",
            Kind::Resumed => "resumed",
            Kind::Postponed => "postponed",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event to append: everything but its place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: Timestamp,
    pub kind: Kind,
    /// The queue's message id, when there is one (a refusal has none).
    pub message: Option<MessageId>,
    /// Who did it: `smtp`, the courier's lease name, `cli:USER`, `admin:WHO`, `retention`.
    pub actor: String,
    /// The details, as a JSON object.
    pub fields: serde_json::Value,
}

impl Event {
    pub fn new(
        at: Timestamp,
        kind: Kind,
        actor: impl Into<String>,
        fields: serde_json::Value,
    ) -> Event {
        Event {
            at,
            kind,
            message: None,
            actor: actor.into(),
            fields,
        }
    }

    /// The same event about queue message `id`.
    pub fn about(mut self, id: MessageId) -> Event {
        self.message = Some(id);
        self
    }

    /// The same event with one more field (fields are a JSON object), for a
    /// value known only where the event is written, such as how many copies
    /// an action changed.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Event {
        if let Some(fields) = self.fields.as_object_mut() {
            fields.insert(key.to_string(), value.into());
        }
        self
    }
}

/// A stored record, as read back. `kind` stays text so a record written by
/// a newer version (or tampered with) is still shown and verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub seq: i64,
    /// Milliseconds since the Unix epoch, as stored (and hashed).
    #[serde(skip)]
    pub at_ms: i64,
    pub kind: String,
    pub message: Option<i64>,
    pub actor: String,
    /// The JSON text exactly as stored (and hashed).
    #[serde(skip)]
    pub fields: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    /// The record for `event` at `seq`, linked after `prev_hash`.
    pub fn link(seq: i64, prev_hash: &str, event: &Event) -> Record {
        let mut r = Record {
            seq,
            at_ms: event.at.as_millisecond(),
            kind: event.kind.as_str().to_string(),
            message: event.message.map(|m| m.0),
            actor: event.actor.clone(),
            fields: event.fields.to_string(),
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        r.hash = r.computed_hash();
        r
    }

    /// SHA-256 (hex) over the previous hash and every other column, each
    /// prefixed with its length so no two different records encode alike.
    pub fn computed_hash(&self) -> String {
        let message = self.message.map(|m| m.to_string()).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(b"sendwell-audit-v1");
        for part in [
            self.seq.to_string().as_bytes(),
            self.at_ms.to_string().as_bytes(),
            self.kind.as_bytes(),
            message.as_bytes(),
            self.actor.as_bytes(),
            self.fields.as_bytes(),
            self.prev_hash.as_bytes(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        hex(&h.finalize())
    }

    /// When it happened (a time out of range shows as the epoch's limits).
    pub fn at(&self) -> Timestamp {
        Timestamp::from_millisecond(self.at_ms).unwrap_or(if self.at_ms < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
    }

    /// The fields as JSON (text that is not JSON comes back as a string).
    pub fn fields_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.fields)
            .unwrap_or_else(|_| serde_json::Value::String(self.fields.clone()))
    }

    /// The record as one JSON object: what `audit export --format jsonl`
    /// and `audit search` print.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seq": self.seq,
            "at": self.at().to_string(),
            "kind": self.kind,
            "message": self.message,
            "actor": self.actor,
            "fields": self.fields_json(),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        })
    }
}

/// Lower-case hex of `bytes`: the chain's hashes, redacted subjects, the
/// review page's cookie and link signatures.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The chain's two ends as the store keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Head {
    /// The last record written (0 and [`GENESIS`] when none ever was).
    pub seq: i64,
    pub hash: String,
    /// The last record retention removed (0 and [`GENESIS`] when none):
    /// the first kept record must link to it.
    pub anchor_seq: i64,
    pub anchor_hash: String,
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {seq}: {problem}")]
pub struct Broken {
    /// The first record that is wrong (or missing).
    pub seq: i64,
    pub problem: String,
}

/// What an intact walk saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Intact {
    pub records: u64,
    /// The first and last seq checked (None when the log is empty).
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Records before this were pruned by retention (0: none).
    pub anchor_seq: i64,
    /// The hash of the last record: note it down elsewhere to catch a
    /// rewrite of the whole chain later.
    pub head_hash: String,
}

/// Checks records fed in `seq` order, from the prune anchor to the head.
pub struct Verifier {
    head: Head,
    next_seq: i64,
    prev_hash: String,
    records: u64,
    first: Option<i64>,
    /// The newest `pruned` record's claim: (through seq, hash, its own seq).
    attested: Option<(i64, String, i64)>,
}

impl Verifier {
    pub fn new(head: Head) -> Verifier {
        Verifier {
            next_seq: head.anchor_seq.saturating_add(1),
            prev_hash: head.anchor_hash.clone(),
            head,
            records: 0,
            first: None,
            attested: None,
        }
    }

    /// Checks the next record.
    pub fn feed(&mut self, r: &Record) -> Result<(), Broken> {
        if r.seq != self.next_seq {
            let problem = if r.seq > self.next_seq {
                let last = r.seq - 1;
                if last == self.next_seq {
                    "is missing (deleted)".to_string()
                } else {
                    format!("is missing (deleted), and so are the records up to {last}")
                }
            } else {
                format!("found where record {} should be", self.next_seq)
            };
            return Err(Broken {
                seq: self.next_seq.min(r.seq),
                problem,
            });
        }
        if r.computed_hash() != r.hash {
            return Err(Broken {
                seq: r.seq,
                problem: "was changed: its content does not match its hash \
                          (a byte altered, or records swapped)"
                    .into(),
            });
        }
        if r.prev_hash != self.prev_hash {
            let problem = if r.seq == self.head.anchor_seq.saturating_add(1) {
                format!(
                    "does not link to the prune anchor (seq {}): records were removed or the anchor was changed",
                    self.head.anchor_seq
                )
            } else {
                format!(
                    "does not link to record {}: records were reordered or replaced",
                    r.seq - 1
                )
            };
            return Err(Broken {
                seq: r.seq,
                problem,
            });
        }
        if r.kind == Kind::Pruned.as_str() {
            let f = r.fields_json();
            let through = f.get("through_seq").and_then(|v| v.as_i64()).unwrap_or(-1);
            let hash = f
                .get("hash")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            self.attested = Some((through, hash, r.seq));
        }
        self.first.get_or_insert(r.seq);
        self.records += 1;
        self.prev_hash = r.hash.clone();
        self.next_seq = r.seq.saturating_add(1);
        Ok(())
    }

    /// After the last record: the chain must end at the head, and the prune
    /// anchor must be the one the newest `pruned` record names.
    pub fn finish(self) -> Result<Intact, Broken> {
        let last = self.next_seq - 1;
        if last < self.head.seq {
            return Err(Broken {
                seq: self.next_seq,
                problem: if self.head.seq == self.next_seq {
                    "is missing (deleted): it was the last record written".into()
                } else {
                    format!(
                        "is missing (deleted), and so are the records up to {} (the last written)",
                        self.head.seq
                    )
                },
            });
        }
        if last > self.head.seq || self.prev_hash != self.head.hash {
            return Err(Broken {
                seq: last,
                problem: format!(
                    "does not match the chain's head (seq {}): the head or the last records were changed",
                    self.head.seq
                ),
            });
        }
        if self.head.anchor_seq > 0 {
            match &self.attested {
                Some((through, hash, _))
                    if *through == self.head.anchor_seq && *hash == self.head.anchor_hash => {}
                Some((_, _, at)) => {
                    return Err(Broken {
                        seq: *at,
                        problem: format!(
                            "the newest 'pruned' record does not name the prune anchor (seq {}): \
                             records were removed outside retention",
                            self.head.anchor_seq
                        ),
                    });
                }
                None => {
                    return Err(Broken {
                        seq: self.head.anchor_seq.saturating_add(1),
                        problem: format!(
                            "no 'pruned' record attests the prune anchor (seq {}): \
                             records were removed outside retention",
                            self.head.anchor_seq
                        ),
                    });
                }
            }
        }
        Ok(Intact {
            records: self.records,
            first: self.first,
            last: self.first.map(|_| last),
            anchor_seq: self.head.anchor_seq,
            head_hash: self.head.hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: i64) -> Event {
        Event::new(
            Timestamp::from_second(1_800_000_000 + n).unwrap(),
            Kind::Delivered,
            "courier",
            serde_json::json!({"rcpt": format!("r{n}@example.org"), "reply": "250 ok"}),
        )
        .about(MessageId(n))
    }

    fn chain(n: i64) -> (Head, Vec<Record>) {
        let mut prev = GENESIS.to_string();
        let mut out = Vec::new();
        for seq in 1..=n {
            let r = Record::link(seq, &prev, &event(seq));
            prev = r.hash.clone();
            out.push(r);
        }
        let head = Head {
            seq: n,
            hash: prev,
            anchor_seq: 0,
            anchor_hash: GENESIS.into(),
        };
        (head, out)
    }

    fn verify(head: &Head, records: &[Record]) -> Result<Intact, Broken> {
        let mut v = Verifier::new(head.clone());
        for r in records {
            v.feed(r)?;
        }
        v.finish()
    }

    #[test]
    fn an_intact_chain_passes() {
        let (head, rs) = chain(5);
        let ok = verify(&head, &rs).unwrap();
        assert_eq!((ok.records, ok.first, ok.last), (5, Some(1), Some(5)));
        let (head, rs) = chain(0);
        assert_eq!(verify(&head, &rs).unwrap().records, 0);
    }

    #[test]
    fn the_hash_covers_every_column() {
        let (_, rs) = chain(1);
        let base = rs[0].clone();
        let variants = [
            Record {
                seq: 2,
                ..base.clone()
            },
            Record {
                at_ms: base.at_ms + 1,
                ..base.clone()
            },
            Record {
                kind: "bounced".into(),
                ..base.clone()
            },
            Record {
                message: None,
                ..base.clone()
            },
            Record {
                actor: "someone".into(),
                ..base.clone()
            },
            Record {
                fields: base.fields.replace("250", "251"),
                ..base.clone()
            },
            Record {
                prev_hash: "1".repeat(64),
                ..base.clone()
            },
        ];
        for v in variants {
            assert_ne!(v.computed_hash(), base.hash, "{v:?}");
        }
    }

    #[test]
    fn tampering_names_the_first_bad_record() {
        let (head, rs) = chain(6);
        let mut changed = rs.clone();
        changed[2].fields = changed[2].fields.replace("r3@", "r9@");
        assert_eq!(verify(&head, &changed).unwrap_err().seq, 3);

        let mut deleted = rs.clone();
        deleted.remove(3);
        let e = verify(&head, &deleted).unwrap_err();
        assert_eq!(e.seq, 4, "{e}");
        assert!(e.problem.contains("missing"), "{e}");

        let mut last_gone = rs.clone();
        last_gone.pop();
        assert_eq!(verify(&head, &last_gone).unwrap_err().seq, 6);

        // Swapped: rows 2 and 5 exchange everything but their seq.
        let mut swapped = rs.clone();
        let (a, b) = (swapped[1].clone(), swapped[4].clone());
        swapped[1] = Record { seq: 2, ..b };
        swapped[4] = Record { seq: 5, ..a };
        assert_eq!(verify(&head, &swapped).unwrap_err().seq, 2);
    }

    #[test]
    fn pruning_keeps_the_rest_verifiable_only_with_its_attestation() {
        let (_, rs) = chain(4);
        let anchor = rs[1].clone();
        let pruned = Event::new(
            Timestamp::from_second(1_800_000_100).unwrap(),
            Kind::Pruned,
            "retention",
            serde_json::json!({"through_seq": anchor.seq, "hash": anchor.hash}),
        );
        let mut kept: Vec<Record> = rs[2..].to_vec();
        let p = Record::link(5, &kept[1].hash, &pruned);
        kept.push(p.clone());
        let head = Head {
            seq: 5,
            hash: p.hash.clone(),
            anchor_seq: 2,
            anchor_hash: anchor.hash.clone(),
        };
        let ok = verify(&head, &kept).unwrap();
        assert_eq!((ok.first, ok.last, ok.anchor_seq), (Some(3), Some(5), 2));

        // Moving the anchor forward to hide record 3 is caught.
        let hidden = Head {
            anchor_seq: 3,
            anchor_hash: kept[0].hash.clone(),
            ..head.clone()
        };
        let e = verify(&hidden, &kept[1..]).unwrap_err();
        assert_eq!(e.seq, 5, "{e}");
    }
}
