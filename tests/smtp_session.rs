//! The SMTP session state machine without sockets: tables of client input,
//! fed whole, byte by byte and in odd chunks, against the replies and the
//! submissions a user would see. Includes the SMTP smuggling sequences.

use std::net::SocketAddr;

use sendwell::gateway::replies;
use sendwell::recipient::address;
use sendwell::smtp::Reply;
use sendwell::smtp::session::{Action, AuthOutcome, Session, SessionConfig};
use sendwell::submission::{ClientInfo, Submission};

const MAX_SIZE: usize = 10_000;

fn cfg() -> SessionConfig {
    SessionConfig {
        hostname: "door.test".into(),
        max_message_size: MAX_SIZE,
        max_recipients: 3,
        max_errors: 10,
        submission: false,
    }
}

fn client(trusted: bool) -> ClientInfo {
    ClientInfo {
        addr: SocketAddr::from(([127, 0, 0, 1], 40000)),
        helo: String::new(),
        auth_user: None,
        tls: false,
        trusted,
    }
}

/// What the client saw and what reached the gateway.
#[derive(Debug, Default)]
struct Outcome {
    /// Every reply, as on the wire.
    wire: String,
    /// The code of each complete reply, in order.
    codes: Vec<u16>,
    submissions: Vec<Submission>,
    closed: bool,
    tls_upgrades: usize,
}

/// Answers actions the way the real loop does, with a fixed user table
/// (anna / secret) and the gateway's syntax check for RCPT.
fn drain(s: &mut Session, o: &mut Outcome) {
    while let Some(a) = s.poll() {
        match a {
            Action::Reply(r) => record(o, &r),
            Action::CheckRcpt { rcpt, .. } => s.rcpt_done(if address::is_valid(&rcpt) {
                Ok(replies::recipient_ok())
            } else {
                Err(replies::bad_address(&rcpt))
            }),
            Action::CheckMail { .. } => s.mail_done(Ok(replies::sender_ok())),
            Action::Verify { user, password } => {
                s.auth_done(if user == "anna" && password.0 == "secret" {
                    AuthOutcome::Success
                } else {
                    AuthOutcome::Failed
                })
            }
            Action::Submit(sub) => {
                o.submissions.push(sub);
                s.submit_done(Reply::ok("queued"));
            }
            Action::Refused { reply, .. } => s.submit_done(reply),
            Action::StartTls => {
                o.tls_upgrades += 1;
                o.wire.push_str("<TLS>\r\n");
                s.tls_done();
            }
            Action::Close => o.closed = true,
        }
    }
}

fn record(o: &mut Outcome, r: &Reply) {
    let wire = String::from_utf8(r.to_wire()).unwrap();
    o.wire.push_str(&wire);
    o.codes.push(r.code);
}

fn run_chunks(trusted: bool, chunks: &[&[u8]]) -> Outcome {
    run_with(cfg(), trusted, chunks)
}

fn run_with(cfg: SessionConfig, trusted: bool, chunks: &[&[u8]]) -> Outcome {
    let mut s = Session::new(cfg, client(trusted));
    let mut o = Outcome::default();
    drain(&mut s, &mut o);
    for c in chunks {
        s.push(c);
        drain(&mut s, &mut o);
    }
    o
}

/// The same input whole, byte by byte, and in chunks of 2, 3, 7 and 64:
/// every split must give the same replies and the same submissions.
fn run_all_splits(trusted: bool, input: &[u8]) -> Outcome {
    let whole = run_chunks(trusted, &[input]);
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    let mut splits = vec![bytes];
    for n in [2, 3, 7, 64] {
        splits.push(input.chunks(n).collect());
    }
    for chunks in splits {
        let o = run_chunks(trusted, &chunks);
        assert_eq!(
            o.wire,
            whole.wire,
            "replies differ for chunk size {}",
            chunks[0].len()
        );
        assert_eq!(o.submissions.len(), whole.submissions.len());
        for (a, b) in o.submissions.iter().zip(&whole.submissions) {
            assert_eq!(a.data, b.data);
        }
    }
    whole
}

const HELLO: &str =
    "EHLO client.test\r\nMAIL FROM:<seller@shop.test>\r\nRCPT TO:<buyer@example.de>\r\nDATA\r\n";

#[test]
fn greeting_and_ehlo_advertise_the_extensions() {
    let o = run_chunks(true, &[b"EHLO client.test\r\n"]);
    assert!(
        o.wire.starts_with("220 door.test ESMTP sendwell\r\n"),
        "{}",
        o.wire
    );
    for ext in [
        "PIPELINING",
        "SIZE 10000",
        "8BITMIME",
        "SMTPUTF8",
        "ENHANCEDSTATUSCODES",
        "STARTTLS",
        "AUTH PLAIN LOGIN",
    ] {
        assert!(
            o.wire.contains(&format!("250-{ext}\r\n")),
            "{ext} missing in {}",
            o.wire
        );
    }
    assert!(o.wire.ends_with("250 HELP\r\n"), "{}", o.wire);
    // From outside the trusted networks, no AUTH before TLS.
    let o = run_chunks(false, &[b"EHLO client.test\r\n"]);
    assert!(!o.wire.contains("AUTH"), "{}", o.wire);
}

#[test]
fn one_message_pipelined_any_split() {
    let input = format!("{HELLO}Subject: hi\r\n\r\nbody line\r\n..dot line\r\n.\r\nQUIT\r\n");
    let o = run_all_splits(true, input.as_bytes());
    assert_eq!(o.codes, vec![220, 250, 250, 250, 354, 250, 221]);
    assert_eq!(o.submissions.len(), 1);
    let sub = &o.submissions[0];
    assert_eq!(sub.mail_from, "seller@shop.test");
    assert_eq!(sub.rcpt_to, vec!["buyer@example.de".to_string()]);
    assert_eq!(
        sub.data,
        b"Subject: hi\r\n\r\nbody line\r\n.dot line\r\n".to_vec()
    );
    assert_eq!(sub.client.helo, "client.test");
    assert!(o.closed);
}

#[test]
fn leading_dot_and_empty_message() {
    let o = run_all_splits(
        true,
        format!("{HELLO}..starts with a dot\r\n.\r\n").as_bytes(),
    );
    assert_eq!(o.submissions[0].data, b".starts with a dot\r\n".to_vec());
    let o = run_all_splits(true, format!("{HELLO}.\r\nNOOP\r\n").as_bytes());
    assert_eq!(o.submissions.len(), 1);
    assert_eq!(o.submissions[0].data, b"".to_vec());
    assert_eq!(o.codes.last(), Some(&250));
}

/// SEC Consult's SMTP smuggling sequences (2023) and kin: none of them may
/// end DATA, so the "second message" stays body text of the first.
#[test]
fn smuggling_sequences_never_end_data() {
    let smuggled = "MAIL FROM:<ceo@victim.test>\r\nRCPT TO:<buyer@example.de>\r\nDATA\r\nFrom: ceo@victim.test\r\n\r\nsend money\r\n";
    for seq in [
        "\n.\n",
        "\n.\r\n",
        "\r\n.\n",
        "\r.\r\n",
        "\r\n.\r",
        "\r.\r",
        "\r\n\x00.\r\n",
        "\n.\r",
        "\r.\n",
        "\r\n.\r\r\n.\n",
    ] {
        let input = format!("{HELLO}Subject: one\r\n\r\nfirst{seq}{smuggled}\r\n.\r\nQUIT\r\n");
        let o = run_all_splits(true, input.as_bytes());
        assert_eq!(
            o.submissions.len(),
            1,
            "{seq:?} split the message: {}",
            o.wire
        );
        let data = String::from_utf8_lossy(&o.submissions[0].data).into_owned();
        assert!(data.contains("send money"), "{seq:?}: {data:?}");
        assert_eq!(o.codes, vec![220, 250, 250, 250, 354, 250, 221], "{seq:?}");
    }
    // The look-alike end CRLF "." CR CR LF keeps every byte but the stuffing dot.
    let o = run_all_splits(true, format!("{HELLO}a\r\n.\r\r\nb\r\n.\r\n").as_bytes());
    assert_eq!(o.submissions[0].data, b"a\r\n\r\r\nb\r\n".to_vec());
}

#[test]
fn untrusted_client_cannot_relay_without_auth() {
    let o = run_chunks(
        false,
        &[b"EHLO x.test\r\nMAIL FROM:<a@shop.test>\r\nRCPT TO:<b@example.de>\r\nDATA\r\n"],
    );
    assert!(
        o.wire.contains("530 5.7.0 Authentication required\r\n"),
        "{}",
        o.wire
    );
    assert!(o.wire.contains("503 5.5.1"), "{}", o.wire);
    assert!(o.submissions.is_empty());
    // AUTH in clear text from outside is refused before any password is sent.
    let o = run_chunks(false, &[b"EHLO x.test\r\nAUTH PLAIN AGFubmEAc2VjcmV0\r\n"]);
    assert!(o.wire.contains("538 5.7.11"), "{}", o.wire);
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Untrusted client: STARTTLS first, then each AUTH form.
#[test]
fn auth_forms_after_starttls() {
    let plain_ir = format!("AUTH PLAIN {}\r\n", b64("\0anna\0secret"));
    let plain_later = format!("AUTH PLAIN\r\n{}\r\n", b64("\0anna\0secret"));
    let login_ir = format!("AUTH LOGIN {}\r\n{}\r\n", b64("anna"), b64("secret"));
    let login = format!("AUTH LOGIN\r\n{}\r\n{}\r\n", b64("anna"), b64("secret"));
    for auth in [plain_ir, plain_later, login_ir, login] {
        let o = run_chunks(
            false,
            &[
                b"EHLO x.test\r\nSTARTTLS\r\n",
                format!(
                    "EHLO x.test\r\n{auth}MAIL FROM:<a@shop.test>\r\nRCPT TO:<b@example.de>\r\n"
                )
                .as_bytes(),
            ],
        );
        assert_eq!(o.tls_upgrades, 1);
        assert!(o.wire.contains("235 2.7.0"), "{auth:?}: {}", o.wire);
        assert!(
            o.wire
                .ends_with("250 2.1.0 sender ok\r\n250 2.0.0 recipient ok\r\n"),
            "{auth:?}: {}",
            o.wire
        );
    }
    // Wrong password, cancel, unknown mechanism.
    let bad = format!(
        "AUTH PLAIN {}\r\nAUTH LOGIN\r\n*\r\nAUTH CRAM-MD5\r\nMAIL FROM:<a@shop.test>\r\n",
        b64("\0anna\0wrong")
    );
    let o = run_chunks(
        false,
        &[
            b"EHLO x.test\r\nSTARTTLS\r\n",
            format!("EHLO x.test\r\n{bad}").as_bytes(),
        ],
    );
    assert!(o.wire.contains("535 5.7.8"), "{}", o.wire);
    assert!(
        o.wire
            .contains("334 VXNlcm5hbWU6\r\n501 5.0.0 authentication cancelled"),
        "{}",
        o.wire
    );
    assert!(o.wire.contains("504 5.5.4"), "{}", o.wire);
    assert!(
        o.wire.ends_with("530 5.7.0 Authentication required\r\n"),
        "{}",
        o.wire
    );
    let sub_user = run_chunks(
        false,
        &[
            b"EHLO x.test\r\nSTARTTLS\r\n",
            format!("EHLO x.test\r\nAUTH PLAIN {}\r\nMAIL FROM:<a@shop.test>\r\nRCPT TO:<b@example.de>\r\nDATA\r\nhi\r\n.\r\n", b64("\0anna\0secret")).as_bytes(),
        ],
    );
    let sub = &sub_user.submissions[0];
    assert_eq!(sub.client.auth_user.as_deref(), Some("anna"));
    assert!(sub.client.tls);
    assert!(!sub.client.trusted);
}

/// Commands pipelined after STARTTLS came in clear text: they must be thrown
/// away, and the session must start over after the handshake.
#[test]
fn starttls_injection_is_discarded() {
    let o = run_chunks(
        true,
        &[
            b"EHLO x.test\r\nSTARTTLS\r\nMAIL FROM:<a@shop.test>\r\nRCPT TO:<b@example.de>\r\n",
            b"MAIL FROM:<a@shop.test>\r\n",
        ],
    );
    assert!(
        o.wire.contains("220 2.0.0 ready to start TLS\r\n<TLS>\r\n"),
        "{}",
        o.wire
    );
    let after = o.wire.split("<TLS>\r\n").nth(1).unwrap();
    // The only reply after TLS is to the MAIL sent over TLS: EHLO first.
    assert_eq!(after, "503 5.5.1 send EHLO or HELO first\r\n");
    let o = run_chunks(
        true,
        &[
            b"EHLO x.test\r\nSTARTTLS\r\n",
            b"EHLO x.test\r\nSTARTTLS\r\n",
        ],
    );
    assert!(
        o.wire.ends_with("503 5.5.1 TLS already active\r\n"),
        "{}",
        o.wire
    );
    assert!(
        !o.wire
            .split("<TLS>")
            .nth(1)
            .unwrap()
            .contains("250-STARTTLS")
    );
}

#[test]
fn size_limits() {
    let o = run_chunks(
        true,
        &[format!(
            "EHLO x.test\r\nMAIL FROM:<a@shop.test> SIZE={}\r\nNOOP\r\n",
            MAX_SIZE + 1
        )
        .as_bytes()],
    );
    assert!(o.wire.contains("552 5.3.4"), "{}", o.wire);
    assert_eq!(o.codes.last(), Some(&250));
    // A body that grows over the limit is read to its end, then refused, and
    // the session goes on.
    let big = "x".repeat(MAX_SIZE + 10);
    let input = format!("{HELLO}{big}\r\n.\r\nNOOP\r\n");
    let o = run_all_splits(true, input.as_bytes());
    assert!(o.submissions.is_empty());
    assert_eq!(
        o.codes,
        vec![220, 250, 250, 250, 354, 552, 250],
        "{}",
        o.wire
    );
    let o = run_chunks(
        true,
        &[
            HELLO.as_bytes(),
            big.as_bytes(),
            b"\r\n.\r\nMAIL FROM:<a@shop.test>\r\n",
        ],
    );
    assert_eq!(o.codes, vec![220, 250, 250, 250, 354, 552, 250]);
}

#[test]
fn long_lines_are_answered_and_their_tail_never_runs() {
    let long = format!("NOOP {}RCPT TO:<x@example.de>\r\n", "a".repeat(5000));
    let input = format!(
        "EHLO x.test\r\nMAIL FROM:<a@shop.test>\r\n{long}RCPT TO:<b@example.de>\r\nDATA\r\nhi\r\n.\r\n"
    );
    let o = run_chunks(true, &[input.as_bytes()]);
    assert_eq!(
        o.codes,
        vec![220, 250, 250, 500, 250, 354, 250],
        "{}",
        o.wire
    );
    assert!(o.wire.contains("500 5.5.2 line too long"));
    assert_eq!(o.submissions[0].rcpt_to, vec!["b@example.de".to_string()]);
    for n in [1, 100, 4095, 4096, 4097] {
        let chunks: Vec<&[u8]> = input.as_bytes().chunks(n).collect();
        let p = run_chunks(true, &chunks);
        assert_eq!(p.codes, o.codes, "chunk {n}: {}", p.wire);
        assert_eq!(p.submissions[0].rcpt_to, o.submissions[0].rcpt_to);
    }
}

#[test]
fn recipient_limit_and_duplicates() {
    let input = "EHLO x.test\r\nMAIL FROM:<a@shop.test>\r\nRCPT TO:<1@example.de>\r\nRCPT TO:<2@example.de>\r\nRCPT TO:<2@example.de>\r\nRCPT TO:<3@example.de>\r\nRCPT TO:<4@example.de>\r\nDATA\r\nhi\r\n.\r\n";
    let o = run_all_splits(true, input.as_bytes());
    assert!(
        o.wire.contains("452 4.5.3 too many recipients"),
        "{}",
        o.wire
    );
    assert_eq!(o.submissions[0].rcpt_to.len(), 3);
}

#[test]
fn utf8_addresses_need_smtputf8() {
    let o = run_chunks(
        true,
        &["EHLO x.test\r\nMAIL FROM:<verkäufer@shop.test>\r\n".as_bytes()],
    );
    assert!(o.wire.contains("553 5.6.7"), "{}", o.wire);
    let o = run_chunks(
        true,
        &["EHLO x.test\r\nMAIL FROM:<a@shop.test>\r\nRCPT TO:<käufer@example.de>\r\n".as_bytes()],
    );
    assert!(
        o.wire
            .ends_with("553 5.6.7 non-ASCII address needs SMTPUTF8 in MAIL FROM\r\n"),
        "{}",
        o.wire
    );
    let input = "EHLO x.test\r\nMAIL FROM:<verkäufer@shop.test> SMTPUTF8 BODY=8BITMIME\r\nRCPT TO:<käufer@example.de>\r\nDATA\r\nGrüße\r\n.\r\n";
    let o = run_all_splits(true, input.as_bytes());
    assert_eq!(o.codes, vec![220, 250, 250, 250, 354, 250], "{}", o.wire);
    assert!(o.submissions[0].smtputf8);
    assert_eq!(o.submissions[0].data, "Grüße\r\n".as_bytes().to_vec());
}

#[test]
fn sequence_errors_and_small_commands() {
    let o = run_chunks(true, &[b"MAIL FROM:<a@shop.test>\r\nEHLO x.test\r\nRCPT TO:<b@example.de>\r\nDATA\r\nMAIL FROM:<a@shop.test>\r\nMAIL FROM:<a@shop.test>\r\nDATA\r\nAUTH PLAIN\r\nRSET\r\nVRFY anna\r\nEXPN list\r\nHELP\r\nNOOP\r\nBDAT 10 LAST\r\nFOO\r\nRCPT TO:<not an address>\r\n"]);
    // The tenth refusal (max_errors = 10) also ends the session.
    assert_eq!(
        o.codes,
        vec![
            220, 503, 250, 503, 503, 250, 503, 554, 503, 250, 252, 502, 214, 250, 502, 500, 501,
            421
        ],
        "{}",
        o.wire
    );
    let o = run_chunks(true, &[b"HELO x.test\r\nMAIL FROM:<a@shop.test>\r\nRCPT TO:<a@b>\r\nRCPT TO:<b@example.de>\r\n"]);
    assert_eq!(o.codes, vec![220, 250, 250, 553, 250], "{}", o.wire);
}

#[test]
fn too_many_errors_closes_with_421() {
    let input = "FOO\r\n".repeat(20);
    let o = run_chunks(true, &[input.as_bytes()]);
    assert_eq!(o.codes.len(), 1 + 10 + 1, "{}", o.wire);
    assert!(
        o.wire
            .ends_with("421 4.7.0 too many errors, closing connection\r\n")
    );
    assert!(o.closed);
}

#[test]
fn timeout_and_shutdown_say_421() {
    let mut s = Session::new(cfg(), client(true));
    let mut o = Outcome::default();
    s.timed_out();
    drain(&mut s, &mut o);
    assert!(
        o.wire
            .ends_with("421 4.4.2 door.test timeout, closing connection\r\n")
    );
    assert!(o.closed);
}

/// A submission listener (587): even a trusted client gets no AUTH before
/// STARTTLS and no MAIL before AUTH; after both it sends.
#[test]
fn submission_wants_starttls_then_auth_even_when_trusted() {
    let submission = SessionConfig {
        submission: true,
        ..cfg()
    };
    let auth = format!("AUTH PLAIN {}\r\n", b64("\0anna\0secret"));
    let before = format!("EHLO x.test\r\n{auth}MAIL FROM:<a@shop.test>\r\nSTARTTLS\r\n");
    let after =
        format!("EHLO x.test\r\nMAIL FROM:<a@shop.test>\r\n{auth}MAIL FROM:<a@shop.test>\r\n");
    let o = run_with(submission, true, &[before.as_bytes(), after.as_bytes()]);
    let (clear, tls) = o.wire.split_once("<TLS>").expect("STARTTLS happened");
    assert!(
        !clear.contains("AUTH PLAIN"),
        "no AUTH offered in clear: {clear}"
    );
    assert!(
        clear.contains("530 5.7.0 Must issue a STARTTLS command first"),
        "{clear}"
    );
    assert!(
        clear.contains("530 5.7.0 Authentication required"),
        "{clear}"
    );
    assert!(tls.contains("AUTH PLAIN LOGIN"), "{tls}");
    assert_eq!(
        &o.codes[o.codes.len() - 3..],
        &[530, 235, 250],
        "{}",
        o.wire
    );
    // The port-25 style listener keeps trusting the trusted networks.
    let o = run_chunks(true, &[b"EHLO x.test\r\nMAIL FROM:<a@shop.test>\r\n"]);
    assert_eq!(o.codes.last(), Some(&250), "{}", o.wire);
}
