//! When a recipient's copy may go: frequency caps (business hours join here).

pub mod caps;
