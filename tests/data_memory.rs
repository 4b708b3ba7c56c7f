//! The DATA memory budget (`[limits] data_memory`): several large messages
//! at once never hold more than the budget; those that do not fit are
//! answered `452 4.3.1` (try again later) and nothing accepted is lost.

mod common;

use std::time::Duration;

use common::review::try_send;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A plain SMTP client that can stop in the middle of DATA.
struct Smtp(TcpStream);

impl Smtp {
    async fn connect(addr: std::net::SocketAddr) -> Smtp {
        let mut s = Smtp(TcpStream::connect(addr).await.unwrap());
        assert!(s.reply().await.starts_with("220"));
        s
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).await.unwrap();
    }

    async fn cmd(&mut self, line: &str, want: &str) {
        self.send(line.as_bytes()).await;
        let r = self.reply().await;
        assert!(r.starts_with(want), "{line}: {r}");
    }

    /// The whole (multi-line) reply.
    async fn reply(&mut self) -> String {
        let mut all = Vec::new();
        let mut b = [0u8; 1];
        loop {
            let n = tokio::time::timeout(Duration::from_secs(60), self.0.read(&mut b))
                .await
                .expect("a reply in time")
                .unwrap();
            assert!(
                n > 0,
                "connection closed: {}",
                String::from_utf8_lossy(&all)
            );
            all.push(b[0]);
            if all.ends_with(b"\r\n") {
                let text = String::from_utf8_lossy(&all).into_owned();
                let last = text
                    .trim_end()
                    .rsplit("\r\n")
                    .next()
                    .unwrap_or("")
                    .to_string();
                if last.len() < 4 || last.as_bytes()[3] != b'-' {
                    return last;
                }
            }
        }
    }
}
use common::upstream::{Opts, TestUpstream};
use sendwell::server;

fn big_message(i: usize, mb: usize) -> String {
    let line =
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\r\n";
    let body = line.repeat(mb * 1024 * 1024 / line.len());
    format!(
        "From: li@shop.example\r\nTo: hans@firma.example.de\r\nSubject: Katalog {i}\r\nMessage-ID: <big{i}@shop.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n\
         Guten Tag Herr Weber,\r\n\r\nanbei der Katalog.\r\n\r\nLi\r\n--XX\r\nContent-Type: application/pdf; name=k{i}.pdf\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{body}--XX--\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_messages_at_once_stay_within_the_budget_and_none_is_lost() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::relay_config(dir.path(), &up);
    cfg.policy.enabled = false;
    // Room for about two 3 MB bodies at once (allocations round up).
    cfg.limits.data_memory = 7 << 20;
    let running = server::start(cfg).await.unwrap();
    let addr = running.smtp_addrs[0];
    // Eight clients each send the first half of a 3 MB message, all wait,
    // then each sends the rest: eight bodies are in memory at once.
    let mut conns = Vec::new();
    for i in 0..8 {
        let mut c = Smtp::connect(addr).await;
        c.cmd("EHLO client.example\r\n", "250").await;
        c.cmd("MAIL FROM:<li@shop.example>\r\n", "250").await;
        c.cmd("RCPT TO:<hans@firma.example.de>\r\n", "250").await;
        c.cmd("DATA\r\n", "354").await;
        let body = big_message(i, 3);
        let half = body.len() / 2;
        c.send(&body.as_bytes()[..half]).await;
        conns.push((c, body[half..].to_string()));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut accepted = 0;
    let mut later = 0;
    for (mut c, rest) in conns {
        c.send(rest.as_bytes()).await;
        c.send(b".\r\n").await;
        let reply = c.reply().await;
        if reply.starts_with("250") {
            accepted += 1;
        } else {
            assert!(reply.starts_with("452 4.3.1"), "{reply}");
            later += 1;
        }
    }
    assert_eq!(accepted + later, 8);
    assert!(later > 0, "8 x 3 MB at once do not fit in 7 MiB");
    assert!(accepted > 0, "the budget lets some through");
    // Every accepted message arrives, once.
    let got = up.wait_for(accepted, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(up.messages().len(), accepted);
    assert!(got.iter().all(|m| m.data.len() > 3_000_000));
    // One at a time, each fits: the budget refuses only what is too much at once.
    let body = big_message(99, 3);
    let reply = try_send(addr, "li@shop.example", &["hans@firma.example.de"], &body)
        .await
        .expect("a message alone fits");
    assert!(reply.contains("queued as"), "{reply}");
    running.stop().await;
}

#[test]
fn sizes_read_with_units() {
    use sendwell::config::parse_byte_size;
    assert_eq!(parse_byte_size("256MiB"), Some(256 << 20));
    assert_eq!(parse_byte_size("1GiB"), Some(1 << 30));
    assert_eq!(parse_byte_size("10 MB"), Some(10_000_000));
    assert_eq!(parse_byte_size("4096"), Some(4096));
    assert_eq!(parse_byte_size("lots"), None);
}
