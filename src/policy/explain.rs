//! What `sendwell explain RULE_ID` says of a rule, in the notices' language:
//! what it checks, why buyers mind, how to fix the message, and how the rule
//! acts under the given policy. The words are data, one file per language
//! (`config/explain/en.toml`, `config/explain/zh-CN.toml`), embedded at build
//! time and tested to cover every rule ID; the defaults come from the
//! catalogue in `rules.rs`. Pure: no IO.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::rules::{Action, RuleId, Scope};
use super::{Language, PolicyConfig};
use crate::display;

/// Every language file, tagged with its language.
pub const FILES: &[(Language, &str, &str)] = &[
    (
        Language::En,
        "en",
        include_str!("../../config/explain/en.toml"),
    ),
    (
        Language::ZhCn,
        "zh-CN",
        include_str!("../../config/explain/zh-CN.toml"),
    ),
];

/// One rule, explained for a seller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Explanation {
    /// What makes the rule fire.
    pub checks: String,
    /// Why buyers (and their mail filters) mind.
    pub why: String,
    /// What the seller does about it.
    pub fix: String,
}

/// One language file, parsed: rule ID → explanation.
pub fn parse(name: &str, text: &str) -> Result<HashMap<String, Explanation>, String> {
    toml::from_str(text).map_err(|e| format!("config/explain/{name}.toml: {}", e.message()))
}

/// The embedded files (checked by `explain::tests::every_rule_in_every_language`).
static TEXTS: LazyLock<Vec<(Language, HashMap<String, Explanation>)>> = LazyLock::new(|| {
    FILES
        .iter()
        // A file that does not parse fails the tests; at run time its
        // language only has no explanations.
        .map(|(lang, name, text)| (*lang, parse(name, text).unwrap_or_default()))
        .collect()
});

/// The explanation of `id` in `lang`, if the file has it.
pub fn explanation(id: RuleId, lang: Language) -> Option<&'static Explanation> {
    TEXTS
        .iter()
        .find(|(l, _)| *l == lang)
        .and_then(|(_, m)| m.get(id.as_str()))
}

/// Labels of the printed explanation, per language.
struct Labels {
    acts: &'static str,
    checks: &'static str,
    why: &'static str,
    fix: &'static str,
}

fn labels(lang: Language) -> Labels {
    match lang {
        Language::En => Labels {
            acts: "How it acts",
            checks: "What it checks",
            why: "Why buyers mind",
            fix: "How to fix",
        },
        Language::ZhCn => Labels {
            acts: "处理方式",
            checks: "检查什么",
            why: "买家为什么在意",
            fix: "怎么改",
        },
    }
}

/// How the rule acts under `policy` (its `[policy.rules.ID]` over the defaults).
pub fn how_it_acts(id: RuleId, policy: &PolicyConfig, lang: Language) -> String {
    let spec = id.spec();
    let cfg = policy.rule(id);
    let zh = lang == Language::ZhCn;
    if cfg.and_then(|c| c.enabled) == Some(false) {
        return if zh {
            format!("在当前配置中已关闭（[policy.rules.{id}] enabled = false）。")
        } else {
            format!("switched off in this configuration ([policy.rules.{id}] enabled = false).")
        };
    }
    let weight = cfg.and_then(|c| c.weight).unwrap_or(spec.weight);
    let action = cfg.and_then(|c| c.action).unwrap_or(spec.action);
    let w = display::score_text(weight);
    let (hold, reject) = (
        display::score_text(policy.hold_at),
        display::score_text(policy.reject_at),
    );
    let whole = spec.scope == Scope::Message;
    match (spec.scope, action) {
        (Scope::Advice, _) => {
            if zh {
                "仅为建议：出现在报告和通知里，从不暂扣或拒发。".to_string()
            } else {
                "advice only: shown in reports and notices, never holds or refuses.".to_string()
            }
        }
        (_, Action::Reject) if whole => {
            if zh {
                "不论分数，一律拒发这封邮件。".to_string()
            } else {
                "refuses the message whatever the score.".to_string()
            }
        }
        (_, Action::Reject) => {
            if zh {
                "在邮件程序连接时当场拒发这个收件人。".to_string()
            } else {
                "refuses that recipient while the mail program is connected.".to_string()
            }
        }
        (_, Action::Hold) if whole => {
            if zh {
                format!("不论分数，一律暂扣待审核（分值 {w}）。")
            } else {
                format!("holds the message for review whatever the score (weight {w}).")
            }
        }
        (_, Action::Hold) => {
            if zh {
                "暂扣这个收件人的副本，等待审核。".to_string()
            } else {
                "holds that recipient's copy for review.".to_string()
            }
        }
        (_, Action::Strip) => {
            if zh {
                "从这个收件人的副本里去掉这些邮件头，邮件照常发出。".to_string()
            } else {
                "removes those headers from that recipient's copy; the mail goes on.".to_string()
            }
        }
        (Scope::Elsewhere, Action::Score) => {
            if zh {
                "不计分：由发送时间安排或 sendwell 自己处理（见下文）。".to_string()
            } else {
                "not scored: the schedule or sendwell itself deals with it (see below).".to_string()
            }
        }
        (_, Action::Score) => {
            if zh {
                format!("分数加 {w}（满 {hold} 分暂扣待审核，满 {reject} 分拒发）。")
            } else {
                format!("adds {w} to the score (held for review at {hold}, refused at {reject}).")
            }
        }
    }
}

/// The whole text `sendwell explain` prints; `None` when the language file
/// lacks the rule (the tests keep that from happening).
pub fn render(id: RuleId, policy: &PolicyConfig, lang: Language) -> Option<String> {
    let e = explanation(id, lang)?;
    let l = labels(lang);
    let sep = if lang == Language::ZhCn { "：" } else { ": " };
    Some(format!(
        "{id}\n\n{acts}{sep}{how}\n\n{checks}{sep}{c}\n\n{why}{sep}{y}\n\n{fix}{sep}{f}\n",
        acts = l.acts,
        how = how_it_acts(id, policy, lang),
        checks = l.checks,
        c = e.checks,
        why = l.why,
        y = e.why,
        fix = l.fix,
        f = e.fix,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_in_every_language() {
        for (_, name, text) in FILES {
            let m = parse(name, text).expect("the file parses");
            for id in RuleId::ALL {
                let e = m
                    .get(id.as_str())
                    .unwrap_or_else(|| panic!("config/explain/{name}.toml lacks [{id}]"));
                assert!(
                    !e.checks.trim().is_empty()
                        && !e.why.trim().is_empty()
                        && !e.fix.trim().is_empty(),
                    "config/explain/{name}.toml: [{id}] has an empty field"
                );
            }
            for key in m.keys() {
                assert!(
                    RuleId::parse(key).is_some(),
                    "config/explain/{name}.toml explains [{key}], which is no rule"
                );
            }
        }
    }

    #[test]
    fn the_chinese_explanations_are_chinese() {
        for id in RuleId::ALL {
            let e = explanation(*id, Language::ZhCn).expect("explained");
            assert!(
                e.why
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "[{id}] why: {}",
                e.why
            );
        }
    }

    #[test]
    fn how_it_acts_follows_the_config() {
        let mut p = PolicyConfig::default();
        let acts = |p: &PolicyConfig| how_it_acts(RuleId::SubjectEmoji, p, Language::En);
        assert_eq!(
            acts(&p),
            "adds 2 to the score (held for review at 6, refused at 12)."
        );
        p.rules.insert(
            "SUBJECT_EMOJI".into(),
            toml::from_str("weight = 4.5").expect("a rule table"),
        );
        assert!(acts(&p).starts_with("adds 4.5 "), "{}", acts(&p));
        p.rules.insert(
            "SUBJECT_EMOJI".into(),
            toml::from_str("enabled = false").expect("a rule table"),
        );
        assert!(acts(&p).starts_with("switched off"), "{}", acts(&p));
        assert!(
            how_it_acts(
                RuleId::AttachExecutable,
                &PolicyConfig::default(),
                Language::ZhCn
            )
            .contains("拒发")
        );
    }
}
