//! The rule catalogue: every stable rule ID of `RULES.md` with its default
//! weight and action, where it is decided, and which parameters it takes.
//!
//! Data only; the rules themselves live in the family files.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a rule does when it fires, as configured (`action = "…"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Add the weight to the score; the thresholds decide.
    Score,
    /// Hold for review whatever the score.
    Hold,
    /// Refuse whatever the score.
    Reject,
    /// Rewrite the recipient's copy (READ_RECEIPT_COLD: remove the headers).
    Strip,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Score => "score",
            Action::Hold => "hold",
            Action::Reject => "reject",
            Action::Strip => "strip",
        }
    }
}

/// Where a rule is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// On the message: its score counts for every recipient.
    Message,
    /// Per recipient: only that recipient's copy is affected.
    Recipient,
    /// Per recipient, advice only: shown, never counted towards hold or refuse.
    Advice,
    /// Decided outside the judge (DNS, suppression, cadence, timing, the
    /// relay's submission headers); the ID is known so it can be configured.
    Elsewhere,
}

macro_rules! rules {
    ($( $variant:ident = $name:literal, $scope:ident, $weight:expr, $action:ident, [$($param:literal),*], $summary:literal; )*) => {
        /// A stable rule ID, as in `RULES.md` and `[policy.rules.ID]`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId { $($variant),* }

        impl RuleId {
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$variant => $name),* }
            }

            pub fn parse(s: &str) -> Option<RuleId> {
                match s { $($name => Some(RuleId::$variant),)* _ => None }
            }

            /// The built-in defaults of this rule.
            pub fn spec(self) -> RuleSpec {
                match self {
                    $(RuleId::$variant => RuleSpec {
                        scope: Scope::$scope,
                        weight: $weight,
                        action: Action::$action,
                        params: &[$($param),*],
                        summary: $summary,
                    }),*
                }
            }
        }
    };
}

/// A rule's defaults.
#[derive(Debug, Clone, Copy)]
pub struct RuleSpec {
    pub scope: Scope,
    pub weight: f64,
    pub action: Action,
    /// Parameter keys its `[policy.rules.ID]` table may hold besides
    /// `enabled`, `weight` and `action`.
    pub params: &'static [&'static str],
    /// A few ASCII words for the one-line SMTP refusal.
    pub summary: &'static str,
}

rules! {
    SubjectMissing = "SUBJECT_MISSING", Message, 4.0, Score, [], "no subject";
    SubjectExclamation = "SUBJECT_EXCLAMATION", Message, 1.5, Score, [], "exclamation marks in subject";
    SubjectEmoji = "SUBJECT_EMOJI", Message, 2.0, Score, [], "emoji in subject";
    SubjectSymbols = "SUBJECT_SYMBOLS", Message, 1.5, Score, [], "decorative symbols in subject";
    SubjectAllCaps = "SUBJECT_ALL_CAPS", Message, 2.0, Score, [], "subject in capitals";
    SubjectSpamPhrase = "SUBJECT_SPAM_PHRASE", Message, 1.0, Score, ["phrases", "max_hits"], "spam words in subject";
    SubjectTooLong = "SUBJECT_TOO_LONG", Message, 0.5, Score, ["max_chars"], "subject too long";
    BodyEmpty = "BODY_EMPTY", Message, 8.0, Score, [], "empty message";
    BodyImageOnly = "BODY_IMAGE_ONLY", Message, 5.0, Score, ["max_words"], "images without text";
    BodyAttachmentOnly = "BODY_ATTACHMENT_ONLY", Message, 5.0, Score, ["max_words"], "attachment without text";
    TemplatePlaceholder = "TEMPLATE_PLACEHOLDER", Message, 7.0, Hold, [], "unfilled template field";
    GenericGreeting = "GENERIC_GREETING", Message, 1.0, Score, ["phrases"], "generic greeting";
    HtmlOnly = "HTML_ONLY", Message, 1.0, Score, [], "HTML without plain text";
    LinkMismatch = "LINK_MISMATCH", Message, 4.0, Score, [], "link text and target differ";
    LinkShortener = "LINK_SHORTENER", Message, 1.5, Score, ["domains"], "shortened links";
    LinkHeavy = "LINK_HEAVY", Message, 1.0, Score, ["max_links"], "too many links";
    BodySpamPhrase = "BODY_SPAM_PHRASE", Message, 0.5, Score, ["phrases", "max_hits"], "spam phrases in text";
    Mojibake = "MOJIBAKE", Message, 6.0, Score, [], "garbled characters (charset)";
    WrongLanguage = "WRONG_LANGUAGE", Recipient, 6.0, Score, ["min_chars"], "Chinese passage for a foreign reader";
    WallOfText = "WALL_OF_TEXT", Message, 0.5, Score, ["max_paragraph_words", "max_words"], "wall of text";
    VisibleRecipients = "VISIBLE_RECIPIENTS", Message, 4.0, Score, ["max_recipients"], "customers see each other's addresses";
    BulkNoUnsubscribe = "BULK_NO_UNSUBSCRIBE", Message, 2.0, Score, ["max_recipients"], "bulk mail without List-Unsubscribe";
    AttachExecutable = "ATTACH_EXECUTABLE", Message, 10.0, Reject, ["extensions"], "executable attachment";
    AttachLarge = "ATTACH_LARGE", Message, 3.0, Score, ["max_mb"], "attachments too large";
    AttachArchive = "ATTACH_ARCHIVE", Message, 1.5, Score, ["extensions"], "archive attachment";
    AttachOnCold = "ATTACH_ON_COLD", Recipient, 2.0, Score, [], "attachment on first contact";
    FreemailSender = "FREEMAIL_SENDER", Message, 2.0, Score, ["domains"], "free mailbox as sender";
    SenderNotAllowed = "SENDER_NOT_ALLOWED", Message, 10.0, Reject, [], "you may not send as this From address";
    DmarcWillFail = "DMARC_WILL_FAIL", Message, 3.0, Score, [], "From domain DMARC will fail";
    ReadReceiptCold = "READ_RECEIPT_COLD", Recipient, 0.0, Strip, [], "read receipt on first contact";
    MissingDate = "MISSING_DATE", Elsewhere, 0.0, Score, [], "no Date header";
    MissingMessageId = "MISSING_MESSAGE_ID", Elsewhere, 0.0, Score, [], "no Message-ID header";
    RcptSyntax = "RCPT_SYNTAX", Elsewhere, 0.0, Reject, [], "invalid address";
    RcptNoDomain = "RCPT_NO_DOMAIN", Elsewhere, 0.0, Reject, [], "domain does not exist";
    RcptNoMail = "RCPT_NO_MAIL", Elsewhere, 0.0, Reject, [], "domain takes no mail";
    RcptTypo = "RCPT_TYPO", Recipient, 0.0, Reject, ["domains"], "likely typo in the recipient domain";
    RcptNoReply = "RCPT_NO_REPLY", Recipient, 0.0, Reject, [], "no-reply recipient";
    RcptDisposable = "RCPT_DISPOSABLE", Recipient, 0.0, Hold, ["domains"], "throwaway recipient address";
    RcptSuppressed = "RCPT_SUPPRESSED", Elsewhere, 0.0, Reject, [], "recipient suppressed";
    CapDaily = "CAP_DAILY", Elsewhere, 0.0, Score, [], "daily cap";
    CapColdGap = "CAP_COLD_GAP", Elsewhere, 0.0, Score, [], "cold gap";
    CapDomainDaily = "CAP_DOMAIN_DAILY", Elsewhere, 0.0, Score, [], "domain daily cap";
    RepeatContent = "REPEAT_CONTENT", Elsewhere, 0.0, Hold, [], "same content sent again";
    ReplyFastPath = "REPLY_FAST_PATH", Elsewhere, 0.0, Score, [], "reply fast path";
    OutsideBusinessHours = "OUTSIDE_BUSINESS_HOURS", Elsewhere, 0.0, Score, [], "outside business hours";
    Weekend = "WEEKEND", Elsewhere, 0.0, Score, [], "weekend";
    PublicHoliday = "PUBLIC_HOLIDAY", Elsewhere, 0.0, Score, [], "public holiday";
    RecipientAway = "RECIPIENT_AWAY", Elsewhere, 0.0, Score, [], "recipient away";
    EtiquetteDeFormal = "ETIQUETTE_DE_FORMAL", Advice, 0.5, Score, [], "informal greeting for a German reader";
    EtiquetteJpHonorific = "ETIQUETTE_JP_HONORIFIC", Advice, 0.5, Score, [], "no honorific for a Japanese reader";
    EtiquetteRedPayment = "ETIQUETTE_RED_PAYMENT", Advice, 0.5, Score, [], "payment reminder in red";
}

impl RuleSpec {
    /// The actions a rule may be configured with.
    pub fn allowed_actions(&self) -> &'static [Action] {
        match self.action {
            Action::Strip => &[Action::Strip, Action::Score, Action::Hold, Action::Reject],
            _ => &[Action::Score, Action::Hold, Action::Reject],
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for id in RuleId::ALL {
            assert_eq!(RuleId::parse(id.as_str()), Some(*id));
            assert!(seen.insert(id.as_str()));
            assert!(id.spec().summary.is_ascii());
        }
        assert_eq!(RuleId::parse("SUBJECT_EMOJI"), Some(RuleId::SubjectEmoji));
        assert_eq!(RuleId::parse("subject_emoji"), None);
    }
}
