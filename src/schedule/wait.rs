//! Why a copy waits: one reason per waiting copy, named by the one decision
//! (the slot's [`Why`] for hours, weekends and holidays; the caps' rule for
//! the daily cap, the cold gap and the domain cap). It is stored with the
//! delivery, so the 250 reply, `queue list`, the API and the review page
//! all name the same reason. Pure: a value and its words, nothing else.
//!
//! A new reason is one variant here plus its three texts (code, phrase,
//! [`Wait::text`]); the compiler finds every place that must learn it.

use std::fmt;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::slot::Why;
use crate::policy::{RuleId, Text};

/// Why a queued copy waits for a later time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum Wait {
    /// Outside the recipient's business hours today.
    Hours,
    /// The recipient's weekend.
    Weekend,
    /// A public holiday in the recipient's country, by its name.
    Holiday(String),
    /// CAP_DAILY: enough copies to this recipient within 24 hours.
    DailyCap,
    /// CAP_COLD_GAP: another first-contact mail to them is too close.
    ColdGap,
    /// CAP_DOMAIN_DAILY: enough copies to this company within 24 hours.
    DomainCap,
    /// The recipient's out-of-office reply says they are away (the inbox
    /// watcher learned it); the copy goes once they are back.
    Away,
}

impl Wait {
    /// The reason behind a slot, if the slot makes the copy wait.
    pub fn from_slot(why: &Why) -> Option<Wait> {
        match why {
            Why::OutsideHours => Some(Wait::Hours),
            Why::Weekend => Some(Wait::Weekend),
            Why::Holiday(name) => Some(Wait::Holiday(name.clone())),
            Why::Away(_) => Some(Wait::Away),
            Why::Disabled | Why::Reply | Why::InWindow | Why::NoWindow => None,
        }
    }

    /// The reason behind a cap that moved a copy.
    pub fn from_cap(rule: RuleId) -> Option<Wait> {
        match rule {
            RuleId::CapDaily => Some(Wait::DailyCap),
            RuleId::CapColdGap => Some(Wait::ColdGap),
            RuleId::CapDomainDaily => Some(Wait::DomainCap),
            _ => None,
        }
    }

    /// The stored form (`deliveries.wait`): `hours`, `weekend`,
    /// `holiday:NAME`, `daily_cap`, `cold_gap`, `domain_cap`.
    pub fn code(&self) -> String {
        match self {
            Wait::Hours => "hours".into(),
            Wait::Weekend => "weekend".into(),
            Wait::Holiday(name) => format!("holiday:{name}"),
            Wait::DailyCap => "daily_cap".into(),
            Wait::ColdGap => "cold_gap".into(),
            Wait::DomainCap => "domain_cap".into(),
            Wait::Away => "away".into(),
        }
    }

    /// Reads [`Wait::code`]; `None` for a code this build does not know
    /// (written by a newer node): the copy still goes, only unexplained.
    pub fn parse(code: &str) -> Option<Wait> {
        Some(match code {
            "hours" => Wait::Hours,
            "weekend" => Wait::Weekend,
            "daily_cap" => Wait::DailyCap,
            "cold_gap" => Wait::ColdGap,
            "domain_cap" => Wait::DomainCap,
            "away" => Wait::Away,
            _ => Wait::Holiday(code.strip_prefix("holiday:")?.to_string()),
        })
    }

    /// The short English words of the 250 reply and `queue list`. ASCII,
    /// so the reply stays ASCII without SMTPUTF8 (a holiday's name loses
    /// its accents: "Martin Miguel de Guemes").
    pub fn phrase(&self) -> String {
        match self {
            Wait::Hours => "outside business hours".into(),
            Wait::Weekend => "weekend".into(),
            Wait::Holiday(name) => {
                let name: String = name
                    .nfd()
                    .filter(|c| c.is_ascii() && !c.is_ascii_control())
                    .collect();
                match name.trim() {
                    "" => "public holiday".into(),
                    n => format!("holiday: {n}"),
                }
            }
            Wait::DailyCap => "daily cap for this person".into(),
            Wait::ColdGap => "gap between first-contact mails".into(),
            Wait::DomainCap => "daily cap for this company".into(),
            Wait::Away => "out of office".into(),
        }
    }

    /// The reason in both languages, short, for the review page, the API
    /// and `queue list`.
    pub fn text(&self) -> Text {
        match self {
            Wait::Hours => Text::new("outside business hours", "不在对方工作时间"),
            Wait::Weekend => Text::new("weekend", "对方周末"),
            Wait::Holiday(name) => Text::new(
                format!("public holiday: {name}"),
                format!("对方公共假日：{name}"),
            ),
            Wait::DailyCap => Text::new("daily cap for this person", "每日上限（这位收件人）"),
            Wait::ColdGap => Text::new("gap between first-contact mails", "初次联系邮件的间隔"),
            Wait::DomainCap => Text::new("daily cap for this company", "每日上限（这家公司）"),
            Wait::Away => Text::new("out of office (their auto-reply)", "对方外出（自动回复）"),
        }
    }
}

impl From<Wait> for String {
    fn from(w: Wait) -> String {
        w.code()
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.phrase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_survives_the_store_and_its_phrase_is_ascii() {
        let all = [
            Wait::Hours,
            Wait::Weekend,
            Wait::Holiday("Christmas Day".into()),
            Wait::Holiday("Fête nationale".into()),
            Wait::DailyCap,
            Wait::ColdGap,
            Wait::DomainCap,
            Wait::Away,
        ];
        for w in all {
            assert_eq!(Wait::parse(&w.code()), Some(w.clone()));
            assert!(w.phrase().is_ascii(), "{}", w.phrase());
            assert!(!w.text().zh.is_empty());
        }
        assert_eq!(
            Wait::Holiday("Fête nationale".into()).phrase(),
            "holiday: Fete nationale"
        );
        assert_eq!(Wait::parse("something new"), None);
        assert_eq!(
            Wait::from_slot(&Why::Holiday("Christmas Day".into())),
            Some(Wait::Holiday("Christmas Day".into()))
        );
        assert_eq!(Wait::from_slot(&Why::InWindow), None);
        assert_eq!(Wait::from_cap(RuleId::CapColdGap), Some(Wait::ColdGap));
    }
}
