//! Applying a recipient's rewrites to the raw message bytes.
//!
//! Byte-level and careful: only the header section is touched, a removed
//! field goes with all its folded continuation lines, and everything else
//! comes back byte for byte.

use super::verdict::Rewrite;

/// The message with every rewrite applied.
pub fn apply_rewrites(raw: &[u8], rewrites: &[Rewrite]) -> Vec<u8> {
    let strip: Vec<&str> = rewrites
        .iter()
        .flat_map(|r| match r {
            Rewrite::StripHeaders(names) => names.iter().map(String::as_str),
        })
        .collect();
    if strip.is_empty() {
        return raw.to_vec();
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut pos = 0;
    let mut skipping = false;
    while pos < raw.len() {
        let end = raw
            .get(pos..)
            .and_then(|r| r.iter().position(|&b| b == b'\n'))
            .map(|p| pos + p + 1)
            .unwrap_or(raw.len());
        let line = raw.get(pos..end).unwrap_or(&[]);
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            // End of the header section: the body follows untouched.
            out.extend_from_slice(raw.get(pos..).unwrap_or(&[]));
            return out;
        }
        let continuation = matches!(content.first(), Some(b' ' | b'\t'));
        if !continuation {
            skipping = field_name(content)
                .is_some_and(|n| strip.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(n)));
        }
        if !skipping {
            out.extend_from_slice(line);
        }
        pos = end;
    }
    out
}

fn field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line.get(..colon)?;
    let trimmed_len = name
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map(|p| p + 1)
        .unwrap_or(0);
    name.get(..trimmed_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_folded_fields_case_insensitively_and_keeps_body() {
        let raw = b"From: a@b\r\nDisposition-Notification-To:\r\n \"Li\" <li@shop.example>\r\nSubject: x\r\nreturn-receipt-to: li@shop.example\r\n\r\nDisposition-Notification-To: in the body stays\r\n";
        let out = apply_rewrites(
            raw,
            &[Rewrite::StripHeaders(vec![
                "Disposition-Notification-To".into(),
                "Return-Receipt-To".into(),
            ])],
        );
        assert_eq!(
            out,
            b"From: a@b\r\nSubject: x\r\n\r\nDisposition-Notification-To: in the body stays\r\n"
                .to_vec()
        );
    }

    #[test]
    fn nothing_to_do_is_identity() {
        let raw = b"From: a@b\r\n\r\nbody\r\n";
        assert_eq!(apply_rewrites(raw, &[]), raw.to_vec());
        assert_eq!(
            apply_rewrites(raw, &[Rewrite::StripHeaders(vec!["X-None".into()])]),
            raw.to_vec()
        );
    }
}
