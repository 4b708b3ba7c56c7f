//! What the watcher does with a [`Lesson`]: write what was learned to the
//! store, move the copies of a buyer who is away, hold the follow-ups of a
//! buyer who answered (and tell the seller), suppress addresses that bounced
//! for good.

use jiff::{SignedDuration, Timestamp};

use super::learn::{self, AutoReply, BounceFact, Lesson, Reply};
use crate::audit::{Event, Kind};
use crate::config::Config;
use crate::gateway::assess::recipient_of;
use crate::message::MessageFacts;
use crate::message::notice::{self, Notice};
use crate::policy::Language;
use crate::schedule::Schedule;
use crate::store::{self, Store, SuppressionSource, WaitingCopy};

/// Everything a lesson needs.
pub struct Ears<'a> {
    pub store: &'a Store,
    pub schedule: &'a Schedule,
    pub config: &'a Config,
    /// The mailbox's owner (mail from it is the seller's own).
    pub owner: Option<&'a str>,
}

/// What applying a lesson changed, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub suppressed: Vec<String>,
    pub moved: usize,
    pub held: usize,
    pub learned_zone: Option<String>,
}

impl Ears<'_> {
    pub async fn apply(&self, lesson: Lesson, now: Timestamp) -> store::Result<Applied> {
        match lesson {
            Lesson::Bounce(facts) => self.bounces(&facts, now).await,
            Lesson::AutoReply(a) => self.away(&a, now).await,
            Lesson::Reply(r) => self.reply(&r, now).await,
            Lesson::Nothing => Ok(Applied::default()),
        }
    }

    async fn bounces(&self, facts: &[BounceFact], now: Timestamp) -> store::Result<Applied> {
        let mut out = Applied::default();
        for f in facts {
            // A provider's free-text report may name other addresses: only
            // one sendwell wrote to can be the one that failed.
            if !f.standard && !self.store.wrote_to(&f.address).await? {
                continue;
            }
            self.store
                .record_late_bounce(&f.address, f.gone, &f.status, &f.reason, now)
                .await?;
            if f.gone {
                let reason = format!("late bounce {} {}", f.status, f.reason)
                    .trim()
                    .to_string();
                let event = Event::new(
                    now,
                    Kind::Suppressed,
                    "inbox",
                    serde_json::json!({"address": f.address, "reason": reason, "source": "bounce"}),
                );
                if self
                    .store
                    .suppress(
                        &f.address,
                        &reason,
                        SuppressionSource::Bounce,
                        now,
                        Some(event),
                    )
                    .await?
                {
                    out.suppressed.push(f.address.clone());
                }
            }
        }
        Ok(out)
    }

    async fn away(&self, a: &AutoReply, now: Timestamp) -> store::Result<Applied> {
        if !a.out_of_office && a.until.is_none() {
            return Ok(Applied::default()); // "we received your mail": nothing to learn
        }
        let contact = self.store.contact(&a.from).await?;
        let learned = self.store.learned(&a.from).await?;
        let person = recipient_of(self.schedule, &a.from, contact.as_ref(), learned.as_ref());
        let sched = &self.schedule.config;
        let until = match a.until {
            Some(day) => day
                .checked_add(jiff::Span::new().days(i64::from(sched.away_margin_days)))
                .ok()
                .and_then(|d| d.to_zoned(person.placement.zone.clone()).ok())
                .map(|z| z.timestamp()),
            None => None,
        }
        .unwrap_or_else(|| {
            a.date
                .unwrap_or(now)
                .checked_add(SignedDuration::try_from(sched.away_default).unwrap_or_default())
                .unwrap_or(now)
        });
        if until <= now {
            return Ok(Applied::default());
        }
        let note: String = a.subject.chars().take(120).collect();
        self.store.learn_away(&a.from, until, &note, now).await?;
        let mut out = Applied::default();
        for c in self.store.waiting_copies_to(&a.from).await? {
            if c.deliver_at >= until {
                continue;
            }
            let at = self
                .schedule
                .plan(
                    until,
                    &person.placement,
                    false,
                    &format!("{}/{}", c.message, c.rcpt),
                )
                .at;
            let record = Event::new(
                now,
                Kind::Postponed,
                "inbox",
                serde_json::json!({
                    "rcpts": [c.rcpt],
                    "until": at.to_string(),
                    "why": format!("out of office until {until}: {note}"),
                }),
            )
            .about(c.message);
            if self
                .store
                .postpone_copy(c.delivery, at, now, record)
                .await?
            {
                out.moved += 1;
            }
        }
        Ok(out)
    }

    async fn reply(&self, r: &Reply, now: Timestamp) -> store::Result<Applied> {
        let mut out = Applied::default();
        if self.owner.is_some_and(|o| o.eq_ignore_ascii_case(&r.from))
            || !self.store.wrote_to(&r.from).await?
        {
            return Ok(out); // the seller's own mail, or a stranger's first letter
        }
        let at = r.date.unwrap_or(now).min(now);
        self.store.learn_reply(&r.from, at, &r.subject, now).await?;
        if let (Some(offset), Some(date)) = (r.offset, r.date) {
            let domain = r.from.rsplit_once('@').map_or("", |(_, d)| d);
            let tld = crate::policy::inputs::country_of_domain(domain);
            let hints: Vec<&str> = r.phone_country.as_deref().into_iter().chain(tld).collect();
            if let Some((tz, country)) =
                learn::zone_for_offset(offset, date, &hints, &self.schedule.placer)
            {
                let name = tz.iana_name().unwrap_or("UTC").to_string();
                let source = format!(
                    "learned from their mail of {} ({})",
                    date.to_zoned(tz.clone()).strftime("%Y-%m-%d"),
                    learn::offset_label(offset)
                );
                self.store
                    .learn_zone(&r.from, &name, &source, country.as_deref(), now)
                    .await?;
                out.learned_zone = Some(name);
            }
        }
        // Follow-ups that wait to someone who just answered are held.
        for c in self.store.waiting_copies_to(&r.from).await? {
            if c.received_at >= at || c.mail_from.is_empty() {
                continue;
            }
            let data = self.store.message_data(c.message).await?;
            let is_reply = MessageFacts::parse(&data).is_ok_and(|f| f.thread.is_reply());
            if is_reply {
                continue;
            }
            let record = Event::new(
                now,
                Kind::Held,
                "inbox",
                serde_json::json!({
                    "rcpts": [c.rcpt],
                    "why": format!("{} replied at {at} ({}): a follow-up waits for review", r.from, r.subject),
                }),
            )
            .about(c.message);
            if self
                .store
                .hold_waiting_copy(c.delivery, now, record)
                .await?
            {
                out.held += 1;
                self.tell_seller(&c, r, at, now).await;
            }
        }
        Ok(out)
    }

    /// "Anna replied at 10:02 (Re: …); your follow-up 'Checking in' is held".
    async fn tell_seller(&self, c: &WaitingCopy, r: &Reply, at: Timestamp, now: Timestamp) {
        let subject = c.subject.clone().unwrap_or_default();
        let when = at.to_zoned(self.schedule.placer.default_zone().clone());
        let when = when.strftime("%a %d %b %H:%M %Z").to_string();
        let (title, body) = match self.config.notices.language {
            Language::ZhCn => (
                format!("[sendwell] {} 已回复，跟进邮件已暂停：{subject}", r.from),
                format!(
                    "{} 已于 {when} 回复（{}）。\n\n您的跟进邮件《{subject}》尚未发出，已被暂停，以免打断对话。\n\
                     请在审核页面放行或删除它（邮件 {}）。\n",
                    r.from, r.subject, c.message
                ),
            ),
            _ => (
                format!("[sendwell] {} replied; follow-up held: {subject}", r.from),
                format!(
                    "{} replied at {when} ({}).\n\nYour follow-up \"{subject}\" had not gone yet and is held, \
                     so it does not talk over their answer: release it or drop it on the review page \
                     (message {}).\n",
                    r.from, r.subject, c.message
                ),
            ),
        };
        // The seller's own route (by their address), so the notice goes out
        // under a login that may send to them.
        let route = self.config.route_for(None, &c.mail_from);
        let raw = notice::build(&Notice {
            host: &self.config.server.hostname,
            from: self.config.own_sender_on(route),
            to: &c.mail_from,
            subject: &title,
            body: &body,
            in_reply_to: None,
            now,
        });
        if let Err(e) =
            crate::notices::queue_notice(self.store, route, &c.mail_from, raw, now).await
        {
            tracing::error!(error = %e, to = %c.mail_from, "could not queue the follow-up notice");
        }
    }
}
