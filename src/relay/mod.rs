//! The courier: claims due deliveries from the store, sends them through the
//! [`Upstream`], retries temporary failures with backoff and bounces
//! permanent ones to the envelope sender (RFC 3464). Knows nothing of policy.

pub mod upstream;

pub use upstream::{OutboundMessage, RcptResult, Upstream};
