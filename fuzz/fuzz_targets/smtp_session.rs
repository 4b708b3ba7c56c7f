//! Arbitrary bytes through the SMTP session state machine and smtp-proto's
//! receivers, split into chunks the input chooses, with the outside world's
//! answers also chosen by the input. The session must never panic, never
//! loop, never emit a malformed reply, never keep a body over the limit, and
//! say nothing more once it has closed.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use sendwell::smtp::session::{Action, AuthOutcome, Session, SessionConfig};
use sendwell::smtp::{Locked, Reply};
use sendwell::submission::ClientInfo;

const MAX_SIZE: usize = 2048;

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, rest)) = input.split_first() else {
        return;
    };
    let cfg = SessionConfig {
        hostname: "fuzz.test".into(),
        max_message_size: MAX_SIZE,
        max_recipients: 5,
        max_errors: 50,
        submission: knobs & 2 != 0,
    };
    let client = ClientInfo {
        addr: SocketAddr::from(([127, 0, 0, 1], 1)),
        helo: String::new(),
        auth_user: None,
        tls: false,
        trusted: knobs & 1 != 0,
    };
    let chunk = usize::from(knobs >> 2).max(1);
    let mut s = Session::new(cfg, client);
    let mut closed = false;
    let mut answers = 0u32;
    let mut drain = |s: &mut Session, closed: &mut bool| {
        while let Some(action) = s.poll() {
            assert!(!*closed, "action after Close: {action:?}");
            answers = answers.wrapping_add(1);
            match action {
                Action::Reply(r) => check_reply(&r),
                Action::CheckRcpt { .. } => s.rcpt_done(if answers % 3 == 0 {
                    Err(Reply::new(550, (5, 1, 1), "no"))
                } else {
                    Ok(Reply::ok("ok"))
                }),
                Action::CheckMail { .. } => s.mail_done(if answers % 5 == 0 {
                    Err(Reply::new(553, (5, 7, 1), "not yours"))
                } else {
                    Ok(Reply::ok("sender ok"))
                }),
                Action::Verify { .. } => s.auth_done(match answers % 4 {
                    0 => AuthOutcome::Success,
                    1 => AuthOutcome::Failed,
                    2 => AuthOutcome::Throttled(Locked::User { retry_secs: 60 }),
                    _ => AuthOutcome::Throttled(Locked::Address { retry_secs: 60 }),
                }),
                Action::Submit(sub) => {
                    assert!(sub.data.len() <= MAX_SIZE, "body over the limit kept");
                    assert!(!sub.rcpt_to.is_empty());
                    s.submit_done(Reply::ok("queued"));
                }
                Action::Refused { sub, reply } => {
                    assert!(sub.data.len() <= MAX_SIZE, "body over the limit kept");
                    assert!(reply.code >= 500);
                    s.submit_done(reply);
                }
                Action::StartTls => s.tls_done(),
                Action::Close => *closed = true,
            }
        }
    };
    drain(&mut s, &mut closed);
    for piece in rest.chunks(chunk) {
        s.push(piece);
        drain(&mut s, &mut closed);
    }
    s.timed_out();
    drain(&mut s, &mut closed);
    assert!(closed);
});

fn check_reply(r: &Reply) {
    let wire = r.to_wire();
    assert!(wire.ends_with(b"\r\n"));
    for line in wire.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        assert!(
            line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit),
            "{line:?}"
        );
        assert!(line.ends_with(b"\r"));
        assert!(!line[..line.len() - 1].contains(&b'\r'));
    }
}
