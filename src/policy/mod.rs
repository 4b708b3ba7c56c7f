//! The judge: the rules of RULES.md, each a small unit, and the engine that
//! sums their hits into a verdict. Pure: data and a time in, a decision out.
//!
//! ```no_run
//! use sendwell::message::MessageFacts;
//! use sendwell::policy::{Judge, PolicyConfig, RecipientFacts, SenderFacts, apply_rewrites};
//! # fn demo(raw: &[u8]) -> Result<(), sendwell::message::FactsError> {
//! let judge = Judge::new(&PolicyConfig::default());
//! let facts = MessageFacts::parse(raw)?;
//! let rcpts = [RecipientFacts::from_address("buyer@example.de")];
//! let verdict = judge.evaluate(&facts, &SenderFacts::default(), &rcpts, jiff::Timestamp::now());
//! for r in &verdict.recipients {
//!     let copy = apply_rewrites(raw, &r.rewrites);
//! #   let _ = copy;
//! }
//! # Ok(()) }
//! ```
//!
//! Family files hold the rules (`subject`, `body`, `attachments`, `sender`,
//! `recipient`, `etiquette`); `rules` the catalogue of IDs and defaults;
//! `engine` the weighing; `report` how a verdict is shown.

pub mod attachments;
pub mod body;
pub mod config;
pub mod engine;
pub mod etiquette;
pub mod explain;
pub mod inputs;
pub mod recipient;
pub mod report;
pub mod rewrite;
pub mod rules;
pub mod sender;
pub mod subject;
pub mod verdict;
pub mod words;

pub use config::{Advice, Language, NoticesConfig, PolicyConfig, RuleConfig};
pub use engine::Judge;
pub use inputs::{RecipientFacts, SenderFacts};
pub use rewrite::apply_rewrites;
pub use rules::{Action, RuleId};
pub use verdict::{Decision, Hit, RecipientVerdict, Refusal, Rewrite, Text, Verdict};

#[cfg(test)]
pub(crate) mod testutil {
    use super::engine::{Ctx, Params};
    use super::{PolicyConfig, RecipientFacts, SenderFacts};
    use crate::message::MessageFacts;

    pub fn plain(subject: &str, body: &str) -> String {
        plain_from("li@shop.example", subject, body)
    }

    pub fn plain_from(from: &str, subject: &str, body: &str) -> String {
        format!(
            "From: {from}\r\nTo: buyer@example.de\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
    }

    pub fn with_sender<T>(raw: &str, sender: &SenderFacts, f: impl FnOnce(&Ctx<'_>) -> T) -> T {
        let facts = MessageFacts::parse(raw.as_bytes()).expect("test message parses");
        let params = Params::new(&PolicyConfig::default());
        let ctx = Ctx::new(&facts, sender, 1, &params);
        f(&ctx)
    }

    pub fn with_facts<T>(raw: &str, f: impl FnOnce(&Ctx<'_>) -> T) -> T {
        with_sender(raw, &SenderFacts::default(), f)
    }

    pub fn with_rcpt<T>(
        raw: &str,
        rcpt: &str,
        established: bool,
        f: impl FnOnce(&Ctx<'_>, &RecipientFacts) -> T,
    ) -> T {
        let r = RecipientFacts {
            established,
            ..RecipientFacts::from_address(rcpt)
        };
        with_facts(raw, |ctx| f(ctx, &r))
    }
}
