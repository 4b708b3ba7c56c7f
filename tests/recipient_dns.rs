//! RCPT-time DNS checks against a real DNS server: `hickory-server`,
//! authoritative for a small `test.` zone, on a random loopback port in
//! this process. No test here asks the system resolver: every checker is
//! built with `servers` pointing at loopback (or with `checks = false`).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::dns::{Dns, udp_and_tcp_on_one_port};
use sendwell::recipient::{DnsConfig, DomainVerdict, MailRoute, RecipientChecker};

const QUICK: Duration = Duration::from_secs(2);

fn checker(servers: Vec<SocketAddr>, timeout: Duration) -> RecipientChecker {
    RecipientChecker::new(&DnsConfig {
        checks: true,
        servers,
        timeout,
        cache_size: 128,
    })
    .expect("a resolver")
}

/// Checks and returns the verdict, failing when it took too long.
async fn timed(c: &RecipientChecker, domain: &str) -> DomainVerdict {
    let start = Instant::now();
    let v = c.check_domain(domain).await;
    assert!(
        start.elapsed() < QUICK,
        "{domain} took {:?}",
        start.elapsed()
    );
    v
}

fn wire(v: &DomainVerdict) -> String {
    sendwell::gateway::replies::domain(v)
        .map(|r| String::from_utf8_lossy(&r.to_wire()).into_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_per_rfc_5321_and_7505() {
    let dns = Dns::start().await;
    let c = checker(vec![dns.addr], Duration::from_secs(2));
    assert!(c.enabled());

    // MX records: accepted, hosts in preference order.
    assert_eq!(
        timed(&c, "withmx.test").await,
        DomainVerdict::Accepts(MailRoute::Mx(vec![
            (10, "mx1.withmx.test.".into()),
            (20, "mx2.withmx.test.".into())
        ]))
    );
    // Case and a trailing dot do not matter.
    assert!(matches!(
        timed(&c, "WithMX.Test.").await,
        DomainVerdict::Accepts(MailRoute::Mx(_))
    ));
    // No MX but an address: the implicit MX (IPv4 or IPv6).
    assert_eq!(
        timed(&c, "aonly.test").await,
        DomainVerdict::Accepts(MailRoute::Implicit)
    );
    assert_eq!(
        timed(&c, "v6only.test").await,
        DomainVerdict::Accepts(MailRoute::Implicit)
    );

    // NXDOMAIN → 550 5.1.2.
    let v = timed(&c, "nosuchdomain.test").await;
    assert!(
        matches!(
            v,
            DomainVerdict::Refuse {
                rule: "RCPT_NO_DOMAIN",
                ..
            }
        ),
        "{v:?}"
    );
    assert_eq!(
        wire(&v),
        "550 5.1.2 nosuchdomain.test: this domain does not exist; check the address [RCPT_NO_DOMAIN]\r\n"
    );
    // A null MX refuses even though the domain has an A record.
    let v = timed(&c, "nullmx.test").await;
    assert!(
        matches!(
            v,
            DomainVerdict::Refuse {
                rule: "RCPT_NO_MAIL",
                ..
            }
        ),
        "{v:?}"
    );
    assert_eq!(
        wire(&v),
        "550 5.1.10 nullmx.test accepts no mail (it publishes a null MX) [RCPT_NO_MAIL]\r\n"
    );
    // The name exists (it has a TXT record) but has no MX, A or AAAA.
    let v = timed(&c, "nomail.test").await;
    assert_eq!(
        wire(&v),
        "550 5.1.10 nomail.test has no mail server (no MX, A or AAAA record) [RCPT_NO_MAIL]\r\n"
    );

    // IDN: asked in ASCII, answered in the spelling the sender used.
    assert!(matches!(
        timed(&c, "bücher.test").await,
        DomainVerdict::Accepts(MailRoute::Mx(_))
    ));
    let v = c.check_address("kunde@bücherei.test").await;
    assert!(wire(&v).starts_with("550 5.1.2 bücherei.test:"), "{v:?}");

    // Whole addresses; an IP literal is not looked up.
    assert!(!c.check_address("buyer@withmx.test").await.refuses());
    assert_eq!(
        c.check_address("buyer@[127.0.0.1]").await,
        DomainVerdict::Unchecked
    );
    // A name the server is not authoritative for is REFUSED: no clear
    // answer, so try again later, never a permanent refusal.
    let v = timed(&c, "elsewhere.example").await;
    assert!(matches!(v, DomainVerdict::TryLater { .. }), "{v:?}");
    assert!(wire(&v).starts_with("451 4.4.3 "), "{v:?}");
    // Not a domain at all.
    let v = timed(&c, "bad..name").await;
    assert!(wire(&v).starts_with("553 5.1.3 "), "{v:?}");

    dns.stop().await;
}

/// Answers, negative ones too, come from the cache while their TTL runs:
/// with the server gone the verdicts stay, until the cache is cleared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_cached() {
    let dns = Dns::start().await;
    let c = checker(vec![dns.addr], Duration::from_millis(500));
    let mx = timed(&c, "withmx.test").await;
    let implicit = timed(&c, "aonly.test").await;
    let nx = timed(&c, "nosuchdomain.test").await;
    assert!(matches!(mx, DomainVerdict::Accepts(MailRoute::Mx(_))));
    assert!(matches!(nx, DomainVerdict::Refuse { .. }));
    dns.stop().await;

    let start = Instant::now();
    assert_eq!(c.check_domain("withmx.test").await, mx);
    assert_eq!(c.check_domain("aonly.test").await, implicit);
    assert_eq!(c.check_domain("nosuchdomain.test").await, nx);
    assert!(
        start.elapsed() < Duration::from_millis(100),
        "cached answers took {:?}",
        start.elapsed()
    );

    // The clones share the cache; clearing it shows the server is gone.
    c.clone().clear_cache();
    let v = c.check_domain("withmx.test").await;
    assert!(matches!(v, DomainVerdict::TryLater { .. }), "{v:?}");
}

/// A name server that never answers: 451 4.4.3 within the timeout, never a
/// refusal. The silent sockets are ours, so we can also see that the query
/// went to the configured server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_means_try_later() {
    let (udp, _tcp) = udp_and_tcp_on_one_port().await;
    let addr = udp.local_addr().expect("addr");
    let timeout = Duration::from_millis(300);
    let c = checker(vec![addr], timeout);
    let start = Instant::now();
    let v = c.check_domain("withmx.test").await;
    let took = start.elapsed();
    match &v {
        DomainVerdict::TryLater { cause, .. } => {
            let reply = sendwell::gateway::replies::domain(&v).expect("a reply");
            assert_eq!((reply.code, reply.status), (451, (4, 4, 3)), "{cause}");
            assert_eq!(
                reply.text,
                "cannot check withmx.test in DNS right now; try again later"
            );
        }
        other => panic!("expected 451, got {other:?}"),
    }
    assert!(
        took >= timeout / 2 && took < timeout + Duration::from_millis(700),
        "took {took:?}"
    );
    let mut buf = [0u8; 512];
    let (n, _) = udp
        .try_recv_from(&mut buf)
        .expect("the query reached our socket");
    assert!(n > 12, "a DNS query has a 12-byte header and a question");
}

/// `checks = false`: no lookup at all, whatever the domain.
#[tokio::test]
async fn checks_off_looks_nothing_up() {
    let (udp, _tcp) = udp_and_tcp_on_one_port().await;
    let c = RecipientChecker::new(&DnsConfig {
        checks: false,
        servers: vec![udp.local_addr().expect("addr")],
        ..DnsConfig::default()
    })
    .expect("a checker");
    assert!(!c.enabled());
    for d in ["withmx.test", "nosuchdomain.test", "bücher.test"] {
        assert_eq!(c.check_domain(d).await, DomainVerdict::Unchecked);
    }
    assert!(!c.check_address("x@nosuchdomain.test").await.refuses());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut buf = [0u8; 512];
    assert!(
        udp.try_recv_from(&mut buf).is_err(),
        "no query may be sent with checks off"
    );
}
