//! Arbitrary bytes as a submitted message: the header helpers every
//! listing uses, then canonicalised, parsed once into facts and assessed
//! with the default policy as the server does (the one `assess`), then
//! reported in both formats and as the SMTP reply.
//! A malformed message must get a verdict or a clear error, never a panic.
//! Run with `-O` (mail-parser 0.11.9 has `debug_assert!`s reachable from
//! malformed input; release builds do not have them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sendwell::message::MessageFacts;
use sendwell::message::prepare::canonicalize;
use sendwell::gateway::assess::{Input, assess, recipient_of};
use sendwell::message::headers;
use sendwell::policy::{Judge, Language, PolicyConfig, SenderFacts, report};
use sendwell::schedule::{Schedule, ScheduleConfig};

fuzz_target!(|input: &[u8]| {
    for name in ["Subject", "Message-ID", "From", "Fr"] {
        let _ = headers::header_value(input, name);
        let _ = headers::has_header(input, name);
        let _ = headers::count(input, name);
    }
    let _ = headers::decoded_subject(input);
    let data = canonicalize(input);
    let Ok(facts) = MessageFacts::parse(&data) else {
        return;
    };
    // Built once: the word lists and holiday tables are the same for every input.
    static PARTS: std::sync::OnceLock<(Judge, Schedule)> = std::sync::OnceLock::new();
    let (judge, schedule) = PARTS.get_or_init(|| {
        (
            Judge::new(&PolicyConfig::default()),
            Schedule::new(&ScheduleConfig::default()).expect("default schedule"),
        )
    });
    let people = [
        recipient_of(schedule, "hans@buyer.example.de", None, None),
        recipient_of(schedule, "ben@example.com.au", None, None),
    ];
    let a = assess(&Input {
        facts: Some(&facts),
        sender: SenderFacts::default(),
        people: &people,
        judge: Some(judge),
        schedule,
        now: jiff::Timestamp::UNIX_EPOCH,
    });
    let verdict = a.verdict.as_ref().expect("judged");
    assert_eq!(verdict.recipients.len(), people.len());
    let reply = a.reply("1", &jiff::tz::TimeZone::UTC, false);
    let wire = reply.to_wire();
    assert!(wire.is_ascii(), "a reply without SMTPUTF8 is ASCII: {reply}");
    let _ = report::to_json(verdict, Language::ZhCn);
    let _ = report::render_text(verdict, Language::En, false);
});
