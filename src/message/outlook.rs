//! Files people save from a mail program that are not a mail: an Outlook
//! `.msg` is an OLE compound file ([MS-CFB], the container of old Office
//! documents) holding the message as MAPI properties ([MS-OXMSG]), not
//! RFC 5322 text. Read as a mail it is one with no subject and garbled
//! text, so `sendwell check` recognises it and says how to save an `.eml`.
//!
//! Not read: a draft from classic Outlook keeps its formatting as compressed
//! RTF and its recipients in binary property streams; judging only the parts
//! easy to reach would report on a different message than the one sent.

/// The first 8 bytes of every compound file ([MS-CFB] §2.2).
pub const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// How far into the file the directory is searched for Outlook's stream
/// names: a `.msg`'s directory comes early, and a large attachment after it
/// need not be scanned.
const MAX_SCAN: usize = 4 * 1024 * 1024;

/// What a file that is not a mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotMail {
    /// An Outlook message (`.msg`): a compound file with `__substg1.0_`
    /// property streams.
    OutlookMsg,
    /// Another compound file: an old Office document (`.doc`, `.xls`) or
    /// anything else in that container.
    CompoundFile,
}

/// `Some` when `raw` is a compound file, not a mail.
pub fn not_mail(raw: &[u8]) -> Option<NotMail> {
    if !raw.starts_with(&CFB_MAGIC) {
        return None;
    }
    // Directory entry names are UTF-16LE ([MS-CFB] §2.6.1).
    let name: Vec<u8> = "__substg1.0_"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let scanned = raw.get(..MAX_SCAN).unwrap_or(raw);
    let outlook = scanned.windows(name.len()).any(|w| w == name.as_slice());
    Some(if outlook {
        NotMail::OutlookMsg
    } else {
        NotMail::CompoundFile
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_is_mail_and_compound_files_are_told_apart() {
        assert_eq!(not_mail(b"Subject: hi\r\n\r\nhello\r\n"), None);
        assert_eq!(not_mail(b""), None);
        let mut doc = CFB_MAGIC.to_vec();
        doc.extend_from_slice(&[0; 512]);
        assert_eq!(not_mail(&doc), Some(NotMail::CompoundFile));
        let mut msg = doc.clone();
        msg.extend(
            "__substg1.0_0037001F"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert_eq!(not_mail(&msg), Some(NotMail::OutlookMsg));
        // The name in 8-bit text is no directory entry.
        let mut fake = doc;
        fake.extend_from_slice(b"__substg1.0_0037001F");
        assert_eq!(not_mail(&fake), Some(NotMail::CompoundFile));
    }
}
