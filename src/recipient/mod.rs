//! The recipient desk: the IO edge that learns facts about a recipient
//! before (and after) mail goes to them. Does the domain exist and take
//! mail (DNS), is the address on the suppression list, what do we know of
//! the person (contacts). The judge (`policy/`) stays pure; the gateway asks
//! here at RCPT time and turns the answers into replies.
//!
//! - [`config`]: the `[dns]` section.
//! - [`dns`]: [`RecipientChecker::check_domain`] → [`DomainVerdict`].
//! - [`suppression`]: which upstream bounces put an address on the list.
//! - [`import`]: CSV files of suppressions and contacts, row by row.
//!
//! Knows nothing of the SMTP session or of the message's content.

pub mod address;
pub mod config;
pub mod dns;
pub mod import;
pub mod suppression;

pub use config::DnsConfig;
pub use dns::{DomainProblem, DomainVerdict, MailRoute, RecipientChecker};
pub use suppression::bounce_means_gone;
