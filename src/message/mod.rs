//! The message itself: canonical bytes and submission headers
//! ([`prepare`]), and (for the judge) the facts parsed once from it.
//! Knows nothing of recipients or time beyond the `Date:` it may add.

pub mod archive;
pub mod charset;
pub mod facts;
pub mod headers;
pub mod html;
pub mod notice;
pub mod outlook;
pub mod prepare;
pub mod text;

pub use facts::{FactsError, MessageFacts};
