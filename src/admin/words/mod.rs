//! Every word of the review page and the sender's view, once per language:
//! the struct names each text, `en.rs` and `zh_cn.rs` fill it (a missing
//! text is a compile error; the test below catches an untranslated one).
//! Texts with `{}` take their values in order through [`fill`]. Which
//! language a request gets: [`super::lang`].

use jiff::Zoned;

use crate::policy::Language;
use crate::store::DeliveryState;

mod en;
mod zh_cn;

/// Declares [`Words`] and the list of its texts the tests walk.
macro_rules! words {
    ($($name:ident),* $(,)?) => {
        /// The texts of the page in one language.
        pub struct Words {
            $(pub $name: &'static str,)*
            /// Chart series: accepted, held, refused at the door, delivered, bounced.
            pub series: [&'static str; 5],
            /// One word per `DeliveryState::ALL`, in its order.
            pub states: [&'static str; 9],
            /// Monday first.
            pub weekdays: [&'static str; 7],
            pub months: [&'static str; 12],
        }

        impl Words {
            /// Every text, for the tests.
            #[cfg(test)]
            fn all(&self) -> Vec<&'static str> {
                let mut v = vec![$(self.$name),*];
                v.extend(self.series);
                v.extend(self.states);
                v.extend(self.weekdays);
                v.extend(self.months);
                v
            }
        }
    };
}

words!(
    html_lang,
    other_language,
    other_code,
    review,
    overview,
    held,
    queue,
    decisions,
    door,
    suppressions,
    log_out,
    foot,
    metrics,
    health,
    reload,
    reload_title,
    your_message,
    visitor_foot,
    problem,
    did_not_work,
    back_to_overview,
    copies_one,
    copies_many,
    overview_lead,
    tile_held,
    tile_waiting,
    tile_retrying,
    tile_delivered,
    tile_bounced,
    tile_own,
    paused_title,
    paused_text,
    paused_said,
    paused_resume,
    last_days,
    recent_decisions,
    all_decisions,
    chart_label,
    chart_note,
    no_mail,
    score,
    no_subject,
    th_received,
    th_message,
    th_verdict,
    th_copies,
    decisions_lead,
    door_title,
    door_lead,
    door_empty,
    th_when,
    th_at,
    th_from,
    th_to,
    th_reply_seen,
    login_as,
    held_title,
    held_lead,
    held_empty,
    from,
    review_btn,
    th_held_since,
    message,
    received,
    why,
    the_message,
    recipients,
    details,
    envelope_from,
    logged_in_as,
    client,
    size,
    as_html,
    what_now,
    what_now_text,
    your_decision,
    release_btn,
    reason_placeholder,
    refuse_btn,
    decision_help,
    waiting_title,
    send_now,
    back_to_held,
    not_judged_text,
    message_score,
    nothing_to_fix,
    fix,
    for_rcpt,
    unreadable,
    cut,
    released,
    refused_told,
    refused_quiet,
    queue_title,
    queue_lead,
    queue_empty,
    attempts,
    th_goes_at,
    th_your_time,
    th_state,
    more,
    drop_btn,
    due_now,
    dropped,
    supp_title,
    supp_lead,
    supp_empty,
    th_address,
    th_why,
    th_source,
    th_since,
    why_placeholder,
    suppress_btn,
    remove_btn,
    supp_added,
    supp_already,
    supp_removed,
    reloaded,
    reloaded_restart,
    log_in,
    login_lead,
    wrong_token,
    locked,
    verdict_held,
    verdict_refused,
    verdict_accepted,
    verdict_not_judged,
    zone_learned,
    zone_guessed,
    away_until,
    replied_at,
    date_format,
);

impl Words {
    pub fn of(lang: Language) -> &'static Words {
        match lang {
            Language::En => &en::WORDS,
            Language::ZhCn => &zh_cn::WORDS,
        }
    }

    /// Which language these are.
    pub fn lang(&self) -> Language {
        if self.html_lang == "zh-CN" {
            Language::ZhCn
        } else {
            Language::En
        }
    }

    /// `n` copies, in words.
    pub fn copies(&self, n: u64) -> String {
        fill(
            if n == 1 {
                self.copies_one
            } else {
                self.copies_many
            },
            &[&n.to_string()],
        )
    }

    /// A delivery state in words.
    pub fn state(&self, s: DeliveryState) -> &'static str {
        let i = DeliveryState::ALL.iter().position(|x| *x == s).unwrap_or(0);
        self.states.get(i).copied().unwrap_or("")
    }

    /// `Mon 07 Dec 09:00` / `12月7日 周一 09:00`.
    pub fn date_time(&self, z: &Zoned) -> String {
        let wd = self
            .weekdays
            .get(z.weekday().to_monday_zero_offset() as usize)
            .copied()
            .unwrap_or("");
        let month = self
            .months
            .get(usize::try_from(z.month() - 1).unwrap_or(0))
            .copied()
            .unwrap_or("");
        self.date_format
            .replace("{wd}", wd)
            .replace("{d}", &z.day().to_string())
            .replace("{mon}", month)
            .replace("{hm}", &z.strftime("%H:%M").to_string())
    }
}

/// `template` with each `{}` replaced by the next value.
pub fn fill(template: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut values = values.iter();
    let mut rest = template;
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        out.push_str(values.next().copied().unwrap_or(""));
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs() -> Vec<(&'static str, &'static str)> {
        let (e, z) = (en::WORDS.all(), zh_cn::WORDS.all());
        assert_eq!(e.len(), z.len());
        e.into_iter().zip(z).collect()
    }

    #[test]
    fn every_text_is_there_in_both_languages_with_the_same_blanks() {
        for (e, z) in pairs() {
            assert!(!e.is_empty() && !z.is_empty(), "{e:?} / {z:?}");
            assert_eq!(
                e.matches("{}").count(),
                z.matches("{}").count(),
                "{e} / {z}"
            );
        }
    }

    #[test]
    fn chinese_texts_carry_no_english_words() {
        // Markup, code and names stay: tags, `sendwell`, config keys in <span class="mono">.
        let allowed = [
            "sendwell",
            "SIGHUP",
            "mono",
            "span",
            "class",
            "admin",
            "token",
            "reviewers",
            "zh",
            "CN",
            "English",
            "en",
            "wd",
            "mon",
            "hm",
        ];
        for (_, z) in pairs() {
            let plain = strip_tags(z);
            for word in plain.split(|c: char| !c.is_ascii_alphabetic()) {
                assert!(
                    word.len() < 2 || allowed.contains(&word),
                    "English word '{word}' in zh-CN text: {z}"
                );
            }
        }
    }

    fn strip_tags(s: &str) -> String {
        let mut out = String::new();
        let mut inside = false;
        for c in s.chars() {
            match c {
                '<' => inside = true,
                '>' => inside = false,
                c if !inside => out.push(c),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn dates_read_naturally() {
        let z: Zoned = "2026-12-07T09:05[Europe/Berlin]".parse().unwrap();
        assert_eq!(en::WORDS.date_time(&z), "Mon 7 Dec 09:05");
        assert_eq!(zh_cn::WORDS.date_time(&z), "12月7日 周一 09:05");
    }
}
