//! The file names inside a `.zip` attachment, read from its central
//! directory by hand: no decompression, bounded work, no crate.
//!
//! Knows nothing of MIME or policy; a damaged archive yields what could be read.

/// Most names read from one archive.
pub const MAX_ZIP_ENTRIES: usize = 1000;
/// The end-of-central-directory record sits within the last 22 + 65 535 bytes
/// (its comment is at most 65 535 bytes long), per the ZIP APPNOTE §4.3.16.
const EOCD_SEARCH: usize = 22 + 65_535;
const EOCD_SIG: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
const CDH_SIG: [u8; 4] = [0x50, 0x4b, 0x01, 0x02];

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_le_bytes([*s.first()?, *s.get(1)?]) as usize)
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([*s.first()?, *s.get(1)?, *s.get(2)?, *s.get(3)?]) as usize)
}

/// The names of the entries of a ZIP archive (empty when it is not one).
pub fn zip_names(data: &[u8]) -> Vec<String> {
    let start = data.len().saturating_sub(EOCD_SEARCH);
    let Some(tail) = data.get(start..) else {
        return Vec::new();
    };
    let Some(eocd) = tail
        .windows(4)
        .rposition(|w| w == EOCD_SIG)
        .map(|p| start + p)
    else {
        return Vec::new();
    };
    let (Some(count), Some(mut pos)) = (u16_at(data, eocd + 10), u32_at(data, eocd + 16)) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for _ in 0..count.min(MAX_ZIP_ENTRIES) {
        if data.get(pos..pos + 4) != Some(&CDH_SIG[..]) {
            break;
        }
        let (Some(name_len), Some(extra_len), Some(comment_len)) = (
            u16_at(data, pos + 28),
            u16_at(data, pos + 30),
            u16_at(data, pos + 32),
        ) else {
            break;
        };
        let Some(name) = data.get(pos + 46..pos + 46 + name_len) else {
            break;
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        pos += 46 + name_len + extra_len + comment_len;
    }
    names
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stored (uncompressed) ZIP with the given (name, content) entries.
    pub(crate) fn make_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, content) in entries {
            let offset = out.len() as u32;
            let mut local = vec![0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            local.extend_from_slice(&[0; 4]); // crc (unchecked here)
            local.extend_from_slice(&(content.len() as u32).to_le_bytes());
            local.extend_from_slice(&(content.len() as u32).to_le_bytes());
            local.extend_from_slice(&(name.len() as u16).to_le_bytes());
            local.extend_from_slice(&[0, 0]);
            local.extend_from_slice(name.as_bytes());
            local.extend_from_slice(content);
            out.extend_from_slice(&local);
            let mut c = vec![0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            c.extend_from_slice(&[0; 4]);
            c.extend_from_slice(&(content.len() as u32).to_le_bytes());
            c.extend_from_slice(&(content.len() as u32).to_le_bytes());
            c.extend_from_slice(&(name.len() as u16).to_le_bytes());
            c.extend_from_slice(&[0; 12]); // extra, comment, disk, internal and external attributes
            c.extend_from_slice(&offset.to_le_bytes());
            c.extend_from_slice(name.as_bytes());
            central.extend_from_slice(&c);
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&EOCD_SIG);
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn reads_names() {
        let z = make_zip(&[("invoice.pdf", b"%PDF"), ("setup.exe", b"MZ")]);
        assert_eq!(zip_names(&z), vec!["invoice.pdf", "setup.exe"]);
    }

    #[test]
    fn garbage_is_empty() {
        assert!(zip_names(b"not a zip").is_empty());
        let mut z = make_zip(&[("a.txt", b"x")]);
        let n = z.len();
        z.truncate(n - 10);
        assert!(zip_names(&z).len() <= 1);
    }
}
