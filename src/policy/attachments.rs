//! Attachment rules (seed 000 §8): files a receiving server refuses or a
//! customer should not be asked to open, and any file on a first contact.

use super::engine::Ctx;
use super::inputs::RecipientFacts;
use super::rules::RuleId;
use super::verdict::{Finding, Text};
use crate::message::facts::{Attachment, extension_of};

/// Programs and macro documents: refused by most receiving servers, and
/// what malware arrives as.
pub const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe", "scr", "bat", "cmd", "com", "js", "jse", "vbs", "vbe", "wsf", "jar", "msi", "ps1",
    "pif", "hta", "cpl", "lnk", "reg", "docm", "xlsm", "pptm", "dotm", "xltm", "iso", "img",
];

/// Archives: receiving servers cannot look inside, so they distrust them.
pub const ARCHIVE_EXTENSIONS: &[&str] = &[
    "zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz", "cab", "arj",
];

fn name(a: &Attachment) -> &str {
    a.filename.as_deref().unwrap_or("(unnamed)")
}

pub fn executable(ctx: &Ctx<'_>) -> Option<Finding> {
    let exts = &ctx.params.executable_ext;
    let mut found: Vec<String> = Vec::new();
    for a in ctx.facts.files() {
        if a.extension.as_ref().is_some_and(|e| exts.contains(e)) {
            found.push(name(a).to_string());
        }
        for inner in &a.inner_names {
            if extension_of(inner).is_some_and(|e| exts.contains(&e)) {
                found.push(format!("{} (in {})", inner, name(a)));
            }
        }
    }
    if found.is_empty() {
        return None;
    }
    let list = found.join(", ");
    Some(Finding::new(
        RuleId::AttachExecutable,
        list.clone(),
        Text::new(
            format!(
                "Your message carries a program or macro file: {list}. Receiving servers refuse such files because this is how viruses travel, and a customer must never be asked to run one."
            ),
            format!(
                "邮件附带了程序或宏文件：{list}。收件服务器会拒收这类文件，因为病毒就是这样传播的；也绝不应该让客户去运行它。"
            ),
        ),
        Text::new(
            "Remove the file. Send documents as PDF, and Office files without macros (.docx, .xlsx); share software through a download link on your website.",
            "删除这个文件。文档请用 PDF，Office 文件用不带宏的格式（.docx、.xlsx）；软件请通过网站下载链接提供。",
        ),
    ))
}

pub fn large(ctx: &Ctx<'_>) -> Option<Finding> {
    let total: u64 = ctx.facts.attachments.iter().map(|a| a.size as u64).sum();
    if total <= ctx.params.max_attachment_bytes {
        return None;
    }
    let mb = total as f64 / (1024.0 * 1024.0);
    let max_mb = ctx.params.max_attachment_bytes as f64 / (1024.0 * 1024.0);
    Some(Finding::new(
        RuleId::AttachLarge,
        format!("{mb:.1} MB"),
        Text::new(
            format!(
                "Your attachments add up to {mb:.1} MB. Many receiving servers refuse mail over 10 to 25 MB, and a large mail fills the customer's mailbox."
            ),
            format!(
                "附件总共 {mb:.1} MB。很多收件服务器会拒收超过 10 到 25 MB 的邮件，大邮件也会占满客户的邮箱。"
            ),
        ),
        Text::new(
            format!(
                "Keep attachments under {max_mb:.0} MB: compress the PDF or images, or share a download link instead."
            ),
            format!("附件请控制在 {max_mb:.0} MB 以内：压缩 PDF 或图片，或改为发送下载链接。"),
        ),
    ))
}

pub fn archive(ctx: &Ctx<'_>) -> Option<Finding> {
    let found: Vec<&str> = ctx
        .facts
        .files()
        .filter(|a| {
            a.extension
                .as_ref()
                .is_some_and(|e| ctx.params.archive_ext.contains(e))
        })
        .map(name)
        .collect();
    if found.is_empty() {
        return None;
    }
    let list = found.join(", ");
    Some(Finding::new(
        RuleId::AttachArchive,
        list.clone(),
        Text::new(
            format!(
                "Your message carries an archive ({list}). Mail filters cannot look inside archives, so they distrust them, and many companies block them."
            ),
            format!(
                "邮件附带了压缩包（{list}）。邮件过滤器看不到压缩包里的内容，因此不信任它们，很多公司会直接拦截。"
            ),
        ),
        Text::new(
            "Attach the files themselves (PDF, JPG), or share a download link.",
            "直接附上文件本身（PDF、JPG），或提供下载链接。",
        ),
    ))
}

pub fn on_cold(ctx: &Ctx<'_>, r: &RecipientFacts) -> Option<Finding> {
    let files: Vec<&str> = ctx.facts.files().map(name).collect();
    if files.is_empty() || !ctx.is_cold(r) {
        return None;
    }
    let list = files.join(", ");
    Some(Finding::new(
        RuleId::AttachOnCold,
        list.clone(),
        Text::new(
            format!(
                "This is your first mail to {} and it carries an attachment ({list}). People do not open files from strangers, and filters are strict with attachments from unknown senders.",
                r.address
            ),
            format!(
                "这是你第一次给 {} 写信，却带了附件（{list}）。人们不会打开陌生人发来的文件，过滤器对陌生发件人的附件也格外严格。",
                r.address
            ),
        ),
        Text::new(
            "Write first without the attachment and offer it (\"May I send you our catalogue?\"), or link to it on your website.",
            "第一封信先不要带附件，可以询问对方（\"May I send you our catalogue?\"），或者附上网站上的链接。",
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::archive::tests::make_zip;
    use crate::policy::testutil::{with_facts, with_rcpt};
    use base64::Engine as _;

    fn with_file(name: &str, content: &[u8], reply: bool) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(content);
        let irt = if reply { "In-Reply-To: <x@y>\r\n" } else { "" };
        format!(
            "From: a@shop.example\r\nTo: b@example.de\r\nSubject: Invoice\r\n{irt}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nDear Ms Weber,\r\n\r\nattached is the invoice for order 1234, due on 15 May.\r\n\r\nBest regards,\r\nLi\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--B--\r\n"
        )
    }

    #[test]
    fn executables() {
        assert!(with_facts(&with_file("setup.exe", b"MZ", false), executable).is_some());
        assert!(with_facts(&with_file("Order.xlsm", b"x", false), executable).is_some());
        let zip = make_zip(&[("photo.jpg.exe", b"MZ")]);
        assert!(
            with_facts(&with_file("photos.zip", &zip, false), executable)
                .unwrap()
                .detail
                .contains("photo.jpg.exe")
        );
        assert!(with_facts(&with_file("Invoice-1234.pdf", b"%PDF", false), executable).is_none());
        assert!(with_facts(&with_file("Order.xlsx", b"x", false), executable).is_none());
    }

    #[test]
    fn archives_and_size() {
        let zip = make_zip(&[("a.pdf", b"%PDF")]);
        assert!(with_facts(&with_file("docs.zip", &zip, false), archive).is_some());
        assert!(with_facts(&with_file("docs.pdf", b"%PDF", false), archive).is_none());
        let big = vec![b'x'; 11 * 1024 * 1024];
        assert!(with_facts(&with_file("big.pdf", &big, false), large).is_some());
        assert!(with_facts(&with_file("small.pdf", b"%PDF", false), large).is_none());
    }

    #[test]
    fn attachment_on_cold_only() {
        let cold = with_file("Invoice-1234.pdf", b"%PDF", false);
        assert!(with_rcpt(&cold, "b@example.de", false, on_cold).is_some());
        // A legitimate PDF invoice on a reply.
        let reply = with_file("Invoice-1234.pdf", b"%PDF", true);
        assert!(with_rcpt(&reply, "b@example.de", false, on_cold).is_none());
        // An established contact.
        assert!(with_rcpt(&cold, "b@example.de", true, on_cold).is_none());
    }
}
