//! An SMTP reply: code, enhanced status code (RFC 3463) and text.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The enhanced status code, e.g. `(5, 7, 1)`.
    pub status: (u8, u8, u8),
    /// One line of text; multi-line replies join lines with `\n`.
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, status: (u8, u8, u8), text: impl Into<String>) -> Self {
        Reply { code, status, text: text.into() }
    }

    pub fn ok(text: impl Into<String>) -> Self {
        Reply::new(250, (2, 0, 0), text)
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// The reply as it goes on the wire: every line prefixed, CRLF-terminated,
    /// control characters removed so no text can break the framing.
    pub fn to_wire(&self) -> Vec<u8> {
        let (a, b, c) = self.status;
        let lines: Vec<&str> = self.text.split('\n').collect();
        let mut out = Vec::with_capacity(self.text.len() + 16 * lines.len());
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            let clean: String = line.chars().filter(|c| !c.is_control()).collect();
            if self.code >= 200 && a > 0 {
                out.extend_from_slice(format!("{}{sep}{a}.{b}.{c} {clean}\r\n", self.code).as_bytes());
            } else {
                out.extend_from_slice(format!("{}{sep}{clean}\r\n", self.code).as_bytes());
            }
        }
        out
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, c) = self.status;
        write!(f, "{} {a}.{b}.{c} {}", self.code, self.text.replace('\n', " / "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_and_control_chars() {
        let r = Reply::new(550, (5, 7, 1), "first\nsec\rond");
        assert_eq!(r.to_wire(), b"550-5.7.1 first\r\n550 5.7.1 second\r\n".to_vec());
    }

    #[test]
    fn no_enhanced_code_for_greeting_style() {
        let r = Reply::new(220, (0, 0, 0), "ready");
        assert_eq!(r.to_wire(), b"220 ready\r\n".to_vec());
    }
}
