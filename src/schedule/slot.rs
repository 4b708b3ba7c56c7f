//! When a copy may go: now if the recipient is inside a business window,
//! else the start of their next window plus a fixed jitter.
//!
//! Pure: `now`, a [`Placement`], the [`Calendar`] and the config in, a
//! [`Slot`] out. Local times are turned into instants with jiff's
//! "compatible" rule, so a window starting in a DST gap starts at the first
//! instant after it, and a day across a DST change keeps its civil hours.

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::config::{ScheduleConfig, minutes_to_time};
use super::holidays::Calendar;
use super::placement::Placement;

/// How many days ahead we look for a window. A year outlasts any run of
/// holidays; past it the config has no working day and the copy goes now.
pub const MAX_SCAN_DAYS: usize = 366;

/// Why a copy goes when it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// `[schedule] enabled = false`.
    Disabled,
    /// A reply in a conversation, with `reply_fast_path`.
    Reply,
    /// Inside a business window now.
    InWindow,
    /// Outside the day's windows.
    OutsideHours,
    /// The recipient's weekend.
    Weekend,
    /// A public holiday of the recipient's country (its name).
    Holiday(String),
    /// No working window within [`MAX_SCAN_DAYS`] (a config without one).
    NoWindow,
    /// The recipient said they are out of the office until then (an
    /// automatic reply the inbox read).
    Away(Timestamp),
}

impl Why {
    /// The RULES.md "Timing" rule behind a deferral, if it is one.
    pub fn rule_id(&self) -> Option<&'static str> {
        match self {
            Why::OutsideHours => Some("OUTSIDE_BUSINESS_HOURS"),
            Why::Weekend => Some("WEEKEND"),
            Why::Holiday(_) => Some("PUBLIC_HOLIDAY"),
            Why::Away(_) => Some("RECIPIENT_AWAY"),
            _ => None,
        }
    }

    /// Whether the copy waits.
    pub fn deferred(&self) -> bool {
        self.rule_id().is_some()
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Disabled => f.write_str("scheduling off"),
            Why::Reply => f.write_str("reply"),
            Why::InWindow => f.write_str("inside business hours"),
            Why::OutsideHours => f.write_str("outside business hours"),
            Why::Weekend => f.write_str("weekend"),
            Why::Holiday(n) => write!(f, "public holiday: {n}"),
            Why::NoWindow => f.write_str("no business window configured"),
            Why::Away(until) => write!(
                f,
                "away until {}",
                until.to_zoned(TimeZone::UTC).strftime("%a %d %b")
            ),
        }
    }
}

/// A delivery time and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub at: Timestamp,
    pub why: Why,
}

/// The instant of local civil `minutes` after midnight of `date` in `tz`
/// (24:00 is the next midnight).
fn local(date: Date, minutes: u16, tz: &TimeZone) -> Option<Timestamp> {
    let (date, minutes) = if minutes >= 24 * 60 {
        (date.tomorrow().ok()?, 0)
    } else {
        (date, minutes)
    };
    let z = date
        .to_datetime(minutes_to_time(minutes))
        .to_zoned(tz.clone())
        .ok()?;
    Some(z.timestamp())
}

/// FNV-1a: stable across builds and platforms, unlike `DefaultHasher`.
fn fnv1a(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Seconds to add to a window start: fixed for a key, in `0..=max`, and
/// short of the window's end.
pub fn jitter_seconds(key: &str, max: std::time::Duration, window_secs: i64) -> i64 {
    let max = i64::try_from(max.as_secs())
        .unwrap_or(i64::MAX)
        .min(window_secs.saturating_sub(1))
        .max(0);
    // max + 1 > 0 here, and the result fits i64 since it is ≤ max.
    (fnv1a(key) % (max as u64 + 1)) as i64
}

/// When the copy to the recipient at `placement` may go, and why.
/// `jitter_key` (e.g. the message id and the address) fixes the jitter.
pub fn plan(
    now: Timestamp,
    placement: &Placement,
    calendar: &Calendar,
    cfg: &ScheduleConfig,
    is_reply: bool,
    jitter_key: &str,
) -> Slot {
    if !cfg.enabled {
        return Slot {
            at: now,
            why: Why::Disabled,
        };
    }
    if is_reply && cfg.reply_fast_path {
        return Slot {
            at: now,
            why: Why::Reply,
        };
    }
    if !placement.markets.is_empty() {
        return plan_markets(now, placement, calendar, cfg, jitter_key);
    }
    let tz = &placement.zone;
    let country = placement.country.as_deref();
    let hours = placement
        .business_hours
        .as_ref()
        .or_else(|| {
            cfg.countries
                .get(country?)
                .and_then(|o| o.business_hours.as_ref())
        })
        .unwrap_or(&cfg.business_hours);

    let closed = |date: Date| {
        if let Some(name) = calendar.holiday(country, date) {
            Some(Why::Holiday(name.to_string()))
        } else if calendar.is_weekend(country, date) {
            Some(Why::Weekend)
        } else {
            None
        }
    };
    let windows = |date: Date| {
        hours
            .on(date.weekday())
            .iter()
            .filter_map(|w| Some((local(date, w.start, tz)?, local(date, w.end, tz)?)))
            .collect::<Vec<_>>()
    };
    first_window(
        now,
        now.to_zoned(tz.clone()).date(),
        closed,
        windows,
        cfg,
        jitter_key,
    )
}

/// The day scan both plans share: from `date` on, each day that is not
/// `closed` offers its `windows` (in time order); the copy goes at the
/// first window still ahead (with its jitter), or now when inside one.
/// The reason is the first closed day passed, else "outside hours".
fn first_window(
    now: Timestamp,
    mut date: Date,
    closed: impl Fn(Date) -> Option<Why>,
    windows: impl Fn(Date) -> Vec<(Timestamp, Timestamp)>,
    cfg: &ScheduleConfig,
    jitter_key: &str,
) -> Slot {
    let mut first_closed: Option<Why> = None;
    for _ in 0..MAX_SCAN_DAYS {
        match closed(date) {
            Some(why) => {
                first_closed.get_or_insert(why);
            }
            None => {
                for (start, end) in windows(date) {
                    if now < start {
                        let span = end.duration_since(start).as_secs();
                        let j = jitter_seconds(jitter_key, cfg.jitter, span);
                        let at = start
                            .checked_add(SignedDuration::from_secs(j))
                            .unwrap_or(start);
                        return Slot {
                            at,
                            why: first_closed.unwrap_or(Why::OutsideHours),
                        };
                    }
                    if now < end {
                        return Slot {
                            at: now,
                            why: Why::InWindow,
                        };
                    }
                }
            }
        }
        match date.tomorrow() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    Slot {
        at: now,
        why: Why::NoWindow,
    }
}

/// [`plan`] for a recipient who may be away: nothing goes before
/// `away_until`; from then on the usual plan (their business hours).
pub fn plan_away(
    now: Timestamp,
    placement: &Placement,
    calendar: &Calendar,
    cfg: &ScheduleConfig,
    is_reply: bool,
    jitter_key: &str,
    away_until: Option<Timestamp>,
) -> Slot {
    match away_until {
        Some(until) if until > now && cfg.enabled => Slot {
            at: plan(until, placement, calendar, cfg, false, jitter_key).at,
            why: Why::Away(until),
        },
        _ => plan(now, placement, calendar, cfg, is_reply, jitter_key),
    }
}

/// The markets guess: on each UTC day that is a working day in every
/// market (Saturday and Sunday off, and the holidays they all share), the
/// stretches when the most markets are inside their business hours; the
/// copy goes at the first of them still ahead (now, when inside one).
fn plan_markets(
    now: Timestamp,
    placement: &Placement,
    calendar: &Calendar,
    cfg: &ScheduleConfig,
    jitter_key: &str,
) -> Slot {
    use jiff::civil::Weekday;
    let closed = |date: Date| {
        let shared_holiday = placement
            .markets
            .iter()
            .map(|(cc, _)| calendar.holiday(Some(cc), date))
            .try_fold(None::<&str>, |first, h| h.map(|n| first.or(Some(n))))
            .flatten();
        if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            Some(Why::Weekend)
        } else {
            shared_holiday.map(|n| Why::Holiday(n.to_string()))
        }
    };
    let windows = |date: Date| best_overlap(date, placement, calendar, cfg);
    first_window(
        now,
        now.to_zoned(TimeZone::UTC).date(),
        closed,
        windows,
        cfg,
        jitter_key,
    )
}

/// The stretches of the UTC day `date` when the most markets are at work
/// (business hours on one of their working days), in time order; none when
/// no market is.
fn best_overlap(
    date: Date,
    placement: &Placement,
    calendar: &Calendar,
    cfg: &ScheduleConfig,
) -> Vec<(Timestamp, Timestamp)> {
    let utc = TimeZone::UTC;
    let (Some(day_start), Some(day_end)) = (local(date, 0, &utc), local(date, 24 * 60, &utc))
    else {
        return Vec::new();
    };
    // Each market's windows that touch this UTC day (its local yesterday,
    // today and tomorrow), cut to the day.
    let mut spans: Vec<Vec<(Timestamp, Timestamp)>> = Vec::with_capacity(placement.markets.len());
    for (cc, tz) in &placement.markets {
        let hours = cfg
            .countries
            .get(cc)
            .and_then(|o| o.business_hours.as_ref())
            .unwrap_or(&cfg.business_hours);
        let mut own = Vec::new();
        for d in [date.yesterday().ok(), Some(date), date.tomorrow().ok()]
            .into_iter()
            .flatten()
        {
            if calendar.holiday(Some(cc), d).is_some() || calendar.is_weekend(Some(cc), d) {
                continue;
            }
            for w in hours.on(d.weekday()) {
                if let (Some(s), Some(e)) = (local(d, w.start, tz), local(d, w.end, tz)) {
                    let (s, e) = (s.max(day_start), e.min(day_end));
                    if s < e {
                        own.push((s, e));
                    }
                }
            }
        }
        spans.push(own);
    }
    let mut points: Vec<Timestamp> = spans.iter().flatten().flat_map(|(s, e)| [*s, *e]).collect();
    points.sort();
    points.dedup();
    let covering = |t: Timestamp| {
        spans
            .iter()
            .filter(|own| own.iter().any(|(s, e)| *s <= t && t < *e))
            .count()
    };
    let segments: Vec<(Timestamp, Timestamp, usize)> = points
        .windows(2)
        .filter_map(|p| match p {
            [a, b] => Some((*a, *b, covering(*a))),
            _ => None,
        })
        .collect();
    let best = segments.iter().map(|s| s.2).max().unwrap_or(0);
    if best == 0 {
        return Vec::new();
    }
    let mut out: Vec<(Timestamp, Timestamp)> = Vec::new();
    for (a, b, n) in segments {
        if n != best {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => out.push((a, b)),
        }
    }
    out
}

/// [`plan`]'s time alone.
pub fn next_slot(
    now: Timestamp,
    placement: &Placement,
    calendar: &Calendar,
    cfg: &ScheduleConfig,
    is_reply: bool,
    jitter_key: &str,
) -> Timestamp {
    plan(now, placement, calendar, cfg, is_reply, jitter_key).at
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn jitter_is_fixed_per_key_within_bounds_and_spread() {
        let max = Duration::from_secs(900);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..1000 {
            let key = format!("msg-{i}/buyer{i}@example.de");
            let j = jitter_seconds(&key, max, 8 * 3600);
            assert!((0..=900).contains(&j));
            assert_eq!(j, jitter_seconds(&key, max, 8 * 3600));
            seen.insert(j / 60);
        }
        assert!(
            seen.len() >= 14,
            "jitter should spread over the minutes: {seen:?}"
        );
        assert_eq!(jitter_seconds("k", Duration::ZERO, 3600), 0);
        assert!(jitter_seconds("k", max, 60) < 60);
        // A known value, so a change of hash shows up in review.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
    }
}
