//! Address syntax: whether a forward path is a deliverable address
//! (`local@domain.tld`, Unicode allowed, no display name, at most 254
//! octets). The door answers `553 5.1.3` for one that is not.

use email_address::{EmailAddress, Options};

pub fn is_valid(rcpt: &str) -> bool {
    if rcpt.is_empty() || rcpt.len() > 254 {
        return false;
    }
    let opts = Options::default()
        .with_required_tld()
        .without_display_text();
    EmailAddress::parse_with_options(rcpt, opts).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax() {
        assert!(is_valid("buyer@example.de"));
        assert!(is_valid("käufer@müller.de"));
        for bad in ["", "nobody", "a@b", "a@@b.de", "Hans <h@x.de>", "李@"] {
            assert!(!is_valid(bad), "{bad}");
        }
        assert!(!is_valid(&format!("{}@x.de", "a".repeat(260))));
    }
}
