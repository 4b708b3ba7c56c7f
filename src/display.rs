//! How values are shown to people, the same on every surface (CLI, pages,
//! notices, API, audit): clipped text, scores, aligned tables.

/// `text` cut to `n` characters with an ellipsis.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A score as a number people read: rounded to a tenth, never `-0`.
pub fn score(s: f64) -> f64 {
    let r = (s * 10.0).round() / 10.0;
    if r == 0.0 { 0.0 } else { r }
}

/// A score as text: `7.5`, `7`, `0` (never `-0` or `-0.0`).
pub fn score_text(s: f64) -> String {
    format!("{}", score(s))
}

/// An error and its causes on one line, each said once: a cause whose text
/// its parent already contains is left out (thiserror messages often quote
/// their source), and an OS error says its cause in words, for whom.
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => io_cause(io),
            None => cause.to_string(),
        };
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// An OS error in words: "permission denied for user sendwell", "no such
/// file or directory", "read-only file system".
pub fn io_cause(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::PermissionDenied => format!("permission denied for user {}", user_name()),
        ErrorKind::NotFound => "no such file or directory".to_string(),
        ErrorKind::ReadOnlyFilesystem => "read-only file system".to_string(),
        ErrorKind::AlreadyExists => "it already exists".to_string(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_lowercase(),
                None => text,
            }
        }
    }
}

/// Who this process runs as: `$USER`, else the numeric uid.
pub fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("Uid:"))
                        .and_then(|l| l.split_whitespace().nth(1).map(|u| format!("uid {u}")))
                })
                .unwrap_or_else(|| "this user".to_string())
        })
}

/// Rows as a table whose columns line up under their headers, measured in
/// characters as a terminal shows them (CJK characters take two columns).
pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(width(cell));
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(cell);
            if i + 1 < widths.len() {
                out.push_str(&" ".repeat(widths[i].saturating_sub(width(cell))));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(&mut head.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// Terminal columns of a text: wide (East Asian) characters count two.
pub fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("upstream.password_env: variable X is not set")]
        struct Inner;
        #[derive(Debug, thiserror::Error)]
        #[error("upstream: {0}")]
        struct Outer(#[from] Inner);
        let e = anyhow::Error::from(Outer(Inner));
        assert_eq!(
            error_chain(&e),
            "upstream: upstream.password_env: variable X is not set"
        );
        let io = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
            .context("data_dir: cannot write /srv/mail");
        assert!(
            error_chain(&io)
                .starts_with("data_dir: cannot write /srv/mail: permission denied for user ")
        );
    }

    #[test]
    fn no_negative_zero() {
        assert_eq!(score_text(-0.0), "0");
        assert_eq!(score_text(-0.04), "0");
        assert_eq!(score_text(7.5), "7.5");
        assert_eq!(score_text(-1.5), "-1.5");
        assert!(score(-0.0).is_sign_positive());
    }

    #[test]
    fn tables_line_up() {
        let t = table(
            &["ID", "SUBJECT", "TO"],
            &[
                vec!["1".into(), "报价单".into(), "a@b.de".into()],
                vec!["22".into(), "Quote".into(), "c@d.fr".into()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        let to_at: Vec<usize> = lines
            .iter()
            .zip(["TO", "a@b.de", "c@d.fr"])
            .map(|(l, v)| width(&l[..l.find(v).unwrap()]))
            .collect();
        assert_eq!(to_at[0], to_at[1]);
        assert_eq!(to_at[1], to_at[2]);
    }
}
