//! Arbitrary bytes as a submitted message: canonicalised, parsed once into
//! facts and judged with the default policy, then reported in both formats.
//! A malformed message must get a verdict or a clear error, never a panic.
//! Run with `-O` (mail-parser 0.11.9 has `debug_assert!`s reachable from
//! malformed input; release builds do not have them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sendwell::message::MessageFacts;
use sendwell::message::prepare::canonicalize;
use sendwell::policy::{Judge, Language, PolicyConfig, RecipientFacts, SenderFacts, report};

fuzz_target!(|input: &[u8]| {
    let data = canonicalize(input);
    let Ok(facts) = MessageFacts::parse(&data) else {
        return;
    };
    let judge = Judge::new(&PolicyConfig::default());
    let rcpts = [
        RecipientFacts::from_address("hans@buyer.example.de"),
        RecipientFacts::from_address("ben@example.com.au"),
    ];
    let verdict = judge.evaluate(
        &facts,
        &SenderFacts::default(),
        &rcpts,
        jiff::Timestamp::UNIX_EPOCH,
    );
    assert_eq!(verdict.recipients.len(), rcpts.len());
    let line = verdict.smtp_summary();
    assert!(
        line.is_ascii() && !line.contains(['\r', '\n']),
        "SMTP summary must be one ASCII line: {line:?}"
    );
    let _ = report::to_json(&verdict, Language::ZhCn);
    let _ = report::render_text(&verdict, Language::En, false);
});
