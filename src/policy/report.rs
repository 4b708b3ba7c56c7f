//! Showing a verdict to people: the readable report (for `sendwell check`,
//! held-message review and sender notices) and the stable JSON shape of
//! `sendwell check --format json`.

use serde::Serialize;
use serde_json::Value;

use super::config::Language;
use super::verdict::{Decision, Hit, Rewrite, Verdict, fmt_score};

#[derive(Serialize)]
struct JsonHit<'a> {
    id: &'static str,
    score: f64,
    explanation: &'a str,
    fix: &'a str,
    /// Explanation and fix in every language, so a page or notice shown in
    /// the other one (the review page follows the reader's language) says
    /// it in theirs.
    texts: JsonTexts<'a>,
    /// `hold` or `reject` when the rule forces it whatever the score.
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    /// Advice only: never counted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    advice: bool,
}

#[derive(Serialize)]
struct JsonText<'a> {
    explanation: &'a str,
    fix: &'a str,
}

#[derive(Serialize)]
struct JsonTexts<'a> {
    en: JsonText<'a>,
    #[serde(rename = "zh-CN")]
    zh_cn: JsonText<'a>,
}

/// A stored hit's explanation and fix in `lang` (reports stored before
/// they carried `texts` have only the language they were judged in).
pub fn hit_texts(h: &Value, lang: Language) -> (&str, &str) {
    let code = match lang {
        Language::En => "en",
        Language::ZhCn => "zh-CN",
    };
    let t = &h["texts"][code];
    match (t["explanation"].as_str(), t["fix"].as_str()) {
        (Some(e), Some(f)) => (e, f),
        _ => (
            h["explanation"].as_str().unwrap_or_default(),
            h["fix"].as_str().unwrap_or_default(),
        ),
    }
}

#[derive(Serialize)]
struct JsonRecipient<'a> {
    address: &'a str,
    verdict: &'static str,
    hits: Vec<JsonHit<'a>>,
    deliver_at: Option<String>,
    timezone: Option<String>,
    timezone_source: Option<String>,
    /// Header fields removed from this recipient's copy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    removed: Vec<&'a str>,
}

#[derive(Serialize)]
struct JsonVerdict<'a> {
    verdict: &'static str,
    score: f64,
    hits: Vec<JsonHit<'a>>,
    recipients: Vec<JsonRecipient<'a>>,
}

/// Two decimals, never -0.
fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

fn json_hits(hits: &[Hit], lang: Language) -> Vec<JsonHit<'_>> {
    hits.iter()
        .map(|h| JsonHit {
            id: h.id.as_str(),
            score: round(h.score),
            explanation: h.explanation.get(lang),
            fix: h.fix.get(lang),
            texts: JsonTexts {
                en: JsonText {
                    explanation: h.explanation.get(Language::En),
                    fix: h.fix.get(Language::En),
                },
                zh_cn: JsonText {
                    explanation: h.explanation.get(Language::ZhCn),
                    fix: h.fix.get(Language::ZhCn),
                },
            },
            action: h.action.map(Decision::as_str),
            advice: h.advice,
        })
        .collect()
}

/// The documented JSON of `sendwell check --format json`. `verdict` is the
/// worst decision over the message and its recipients (what the text report
/// says), `score` the message-level score; each recipient has its own
/// `verdict`. `deliver_at` and the time
/// zone fields are filled by the schedule stage (null here).
pub fn to_json(v: &Verdict, lang: Language) -> serde_json::Value {
    let j = JsonVerdict {
        verdict: v.overall().as_str(),
        score: round(v.score),
        hits: json_hits(&v.hits, lang),
        recipients: v
            .recipients
            .iter()
            .map(|r| JsonRecipient {
                address: &r.address,
                verdict: r.action.as_str(),
                hits: json_hits(&r.hits, lang),
                deliver_at: None,
                timezone: None,
                timezone_source: None,
                removed: r
                    .rewrites
                    .iter()
                    .flat_map(|Rewrite::StripHeaders(names)| names.iter().map(String::as_str))
                    .collect(),
            })
            .collect(),
    };
    // Serialising plain structs of strings and numbers cannot fail.
    serde_json::to_value(j).unwrap_or(serde_json::Value::Null)
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn decision(&self, d: Decision, lang: Language) -> String {
        let (word, code) = match (d, lang) {
            (Decision::Accept, Language::En) => ("ACCEPT", "1;32"),
            (Decision::Hold, Language::En) => ("HOLD", "1;33"),
            (Decision::Reject, Language::En) => ("REJECT", "1;31"),
            (Decision::Accept, Language::ZhCn) => ("通过", "1;32"),
            (Decision::Hold, Language::ZhCn) => ("暂扣待审", "1;33"),
            (Decision::Reject, Language::ZhCn) => ("拒绝", "1;31"),
        };
        self.paint(code, word)
    }
}

fn push_hit(out: &mut String, h: &Value, lang: Language, st: &Style, indent: &str) {
    let zh = lang == Language::ZhCn;
    let tag = match (h["action"].as_str(), h["advice"].as_bool() == Some(true)) {
        (_, true) => {
            if zh {
                " (建议)"
            } else {
                " (advice)"
            }
        }
        (Some("reject"), _) => {
            if zh {
                " (直接拒绝)"
            } else {
                " (refuses)"
            }
        }
        (Some("hold"), _) => {
            if zh {
                " (暂扣)"
            } else {
                " (holds)"
            }
        }
        _ => "",
    };
    let id = st.paint("1", h["id"].as_str().unwrap_or_default());
    let score = fmt_score(h["score"].as_f64().unwrap_or_default());
    out.push_str(&format!("{indent}{id}  +{score}{tag}\n"));
    let (explanation, fix) = hit_texts(h, lang);
    out.push_str(&format!("{indent}  {explanation}\n"));
    let fix_label = if zh { "修改建议" } else { "Fix" };
    out.push_str(&format!("{indent}  {}: {fix}\n", st.paint("36", fix_label)));
}

/// Only the hits of a report in its JSON shape, each with its fix: the
/// message's, then each recipient's under their address. Empty when there
/// are none. For a message that went out (the advice notices), where the
/// verdict itself says nothing.
pub fn render_hits(j: &Value, lang: Language) -> String {
    let st = Style { color: false };
    let none = Vec::new();
    let mut out = String::new();
    for h in j["hits"].as_array().unwrap_or(&none) {
        push_hit(&mut out, h, lang, &st, "  ");
    }
    for r in j["recipients"].as_array().unwrap_or(&none) {
        let hits = r["hits"].as_array().unwrap_or(&none);
        if hits.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "  {}:\n",
            r["address"].as_str().unwrap_or_default()
        ));
        for h in hits {
            push_hit(&mut out, h, lang, &st, "    ");
        }
    }
    out
}

/// A readable report; ANSI colour only when `color` is set.
pub fn render_text(v: &Verdict, lang: Language, color: bool) -> String {
    render_report(&to_json(v, lang), lang, color)
}

/// A readable report of a verdict in its JSON shape ([`to_json`], as the
/// server stores it with the message): `held show`, `check` and the notices
/// tell the story the server decided, holds by the caps included.
pub fn render_report(j: &Value, lang: Language, color: bool) -> String {
    let st = Style { color };
    let zh = lang == Language::ZhCn;
    let mut out = String::new();
    let decision = |x: &Value| match x.as_str() {
        Some("reject") => Decision::Reject,
        Some("hold") => Decision::Hold,
        _ => Decision::Accept,
    };
    let overall = decision(&j["verdict"]);
    let score = fmt_score(j["score"].as_f64().unwrap_or_default());
    if zh {
        out.push_str(&format!(
            "结论：{}（邮件得分 {score}）\n",
            st.decision(overall, lang)
        ));
    } else {
        out.push_str(&format!(
            "Verdict: {} (message score {score})\n",
            st.decision(overall, lang)
        ));
    }
    let none = Vec::new();
    let hits = j["hits"].as_array().unwrap_or(&none);
    if hits.is_empty() {
        out.push_str(if zh {
            "\n邮件本身没有发现问题。\n"
        } else {
            "\nNothing to fix in the message itself.\n"
        });
    } else {
        out.push_str(if zh {
            "\n邮件问题：\n"
        } else {
            "\nIn the message:\n"
        });
        for h in hits {
            push_hit(&mut out, h, lang, &st, "  ");
        }
    }
    let rcpts = j["recipients"].as_array().unwrap_or(&none);
    if !rcpts.is_empty() {
        out.push_str(if zh {
            "\n收件人：\n"
        } else {
            "\nRecipients:\n"
        });
        for r in rcpts {
            out.push_str(&format!(
                "  {}: {}\n",
                r["address"].as_str().unwrap_or_default(),
                st.decision(decision(&r["verdict"]), lang)
            ));
            for h in r["hits"].as_array().unwrap_or(&none) {
                push_hit(&mut out, h, lang, &st, "    ");
            }
            let removed: Vec<&str> = r["removed"]
                .as_array()
                .unwrap_or(&none)
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if !removed.is_empty() {
                if zh {
                    out.push_str(&format!("    将从这份邮件中删除：{}\n", removed.join(", ")));
                } else {
                    out.push_str(&format!(
                        "    Removed from this copy: {}\n",
                        removed.join(", ")
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MessageFacts;
    use crate::policy::{Judge, PolicyConfig, RecipientFacts, SenderFacts};

    fn verdict() -> Verdict {
        let raw = b"From: li@shop.example\r\nTo: hans@firma.de\r\nSubject: Sale! \xf0\x9f\x8e\x89\r\nDisposition-Notification-To: li@shop.example\r\n\r\nHi {{first_name}},\r\n\r\nnew lamps.\r\n";
        let facts = MessageFacts::parse(raw).unwrap();
        let judge = Judge::new(&PolicyConfig::default());
        judge.evaluate(
            &facts,
            &SenderFacts::default(),
            &[RecipientFacts::from_address("hans@firma.de")],
            jiff::Timestamp::UNIX_EPOCH,
        )
    }

    #[test]
    fn json_has_exactly_the_documented_shape() {
        let j = to_json(&verdict(), Language::En);
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        // The order of the README's documentation, kept by preserve_order.
        assert_eq!(keys, ["verdict", "score", "hits", "recipients"]);
        assert_eq!(j["verdict"], "hold");
        let hit = &j["hits"][0];
        let mut hk: Vec<&String> = hit.as_object().unwrap().keys().collect();
        hk.sort();
        assert_eq!(hk, ["explanation", "fix", "id", "score", "texts"]);
        let r = &j["recipients"][0];
        let mut rk: Vec<&String> = r.as_object().unwrap().keys().collect();
        rk.sort();
        assert_eq!(
            rk,
            [
                "address",
                "deliver_at",
                "hits",
                "removed",
                "timezone",
                "timezone_source",
                "verdict"
            ]
        );
        assert!(
            r["deliver_at"].is_null() && r["timezone"].is_null() && r["timezone_source"].is_null()
        );
        let zh = to_json(&verdict(), Language::ZhCn);
        let chinese = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        assert!(chinese(zh["hits"][0]["explanation"].as_str().unwrap()));
        // Judged in English, read in Chinese (the page follows its reader).
        let (e, f) = hit_texts(&j["hits"][0], Language::ZhCn);
        assert!(chinese(e) && chinese(f), "{e} / {f}");
        let (e, _) = hit_texts(&zh["hits"][0], Language::En);
        assert!(!chinese(e), "{e}");
    }

    #[test]
    fn text_report_colour_only_when_asked() {
        let v = verdict();
        let plain = render_text(&v, Language::En, false);
        assert!(!plain.contains('\x1b'));
        assert!(
            plain.contains("Verdict: HOLD")
                && plain.contains("TEMPLATE_PLACEHOLDER")
                && plain.contains("Fix:"),
            "{plain}"
        );
        assert!(
            plain.contains("Removed from this copy: Disposition-Notification-To"),
            "{plain}"
        );
        assert!(render_text(&v, Language::En, true).contains("\x1b[1;33m"));
        assert!(render_text(&v, Language::ZhCn, false).contains("修改建议"));
    }
}
