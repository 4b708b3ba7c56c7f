//! Issue 10 §5 and §6: logging in to the upstream with XOAUTH2 (Microsoft
//! 365 and Google take no passwords), and reaching it through a SOCKS5
//! proxy. The real courier over a real store; a token endpoint on loopback
//! (axum, answering as Google's and Microsoft's do); the test upstream
//! accepting only the access tokens that endpoint issued and that have not
//! expired; Debian's `microsocks` as the proxy.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::courier::{Rig, WAIT, start};
use common::oauth::{CLIENT_ID, CLIENT_SECRET, Issuer, token_endpoint};
use common::upstream::{Opts, TestUpstream};
use sendwell::config::{Config, UpstreamAuth};
use sendwell::relay;
use sendwell::store::{DeliveryState, MessageId};

const USER: &str = "li@shop.example";

async fn delivered(rig: &Rig, id: MessageId, what: &str) {
    let s = rig.settled(id).await;
    assert!(
        s.iter().all(|(_, st, _)| *st == DeliveryState::Delivered),
        "{what}: {s:?}"
    );
}

/// The first token is fetched; one about to expire is renewed before it is
/// used; one the upstream refuses (revoked) is replaced at once; a refused
/// refresh token pauses the route (nothing bounced) until a new one is put
/// in place and the config reloaded.
/// Waits for the route to pause; its pause.
async fn paused(rig: &Rig) -> sendwell::store::RoutePause {
    let start = Instant::now();
    loop {
        if let Some(p) = rig.store.route_pauses().await.unwrap().pop() {
            return p;
        }
        assert!(start.elapsed() < WAIT, "the route never paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts a proxy program that will listen on 127.0.0.1:`port`; returns
/// once it does.
async fn start_proxy(mut cmd: tokio::process::Command, port: u16) -> tokio::process::Child {
    let child = cmd
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the proxy");
    let begun = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(begun.elapsed() < WAIT, "the proxy did not listen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

/// A message through the proxy at `proxy_url` (login `seller` /
/// `proxy-pass`): with a wrong password the copy waits, nothing reaches the
/// upstream, and the last reply contains `wrong_says`; after a reload with
/// the right one it is delivered, from the proxy's outgoing address `peer`.
async fn through_proxy(up: &TestUpstream, proxy_url: String, wrong_says: &str, peer: &str) {
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("proxy-pass");
    std::fs::write(&pass, "wrong\n").unwrap();
    let mut c = config(up.url());
    c.upstream.proxy = Some(proxy_url);
    c.upstream.proxy_username = Some("seller".into());
    c.upstream.proxy_password_file = Some(pass.clone());
    let rig = start(c.clone()).await;
    let id = rig.enqueue(USER, &["anna@example.org"], "via-proxy").await;
    let begun = Instant::now();
    loop {
        let m = rig.store.message(id).await.unwrap().unwrap();
        let d = &m.deliveries[0];
        if d.attempts > 0 {
            assert_ne!(d.state, DeliveryState::Bounced);
            let reply = d.last_reply.clone().unwrap_or_default();
            assert!(reply.contains(wrong_says), "names {wrong_says}: {reply}");
            break;
        }
        assert!(begun.elapsed() < WAIT, "never tried");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(up.messages().is_empty(), "nothing reached the upstream");

    std::fs::write(&pass, "proxy-pass\n").unwrap();
    let upstreams = relay::build_upstreams(&c).expect("upstream");
    rig.reconfigure.apply(Arc::new(c), upstreams);
    delivered(&rig, id, "through the proxy once its password is right").await;
    let got = up.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].peer.ip().to_string(),
        peer,
        "the connection came from the proxy's outgoing address"
    );
    rig.stop().await;
}

#[tokio::test]
async fn xoauth2_fetches_renews_and_a_revoked_refresh_token_pauses_the_route() {
    let issuer = Issuer::new("refresh-1", Duration::from_secs(2));
    let token_url = token_endpoint(issuer.clone()).await;
    let check = issuer.clone();
    let up = TestUpstream::start(Opts {
        xoauth2: Some(Arc::new(move |user: &str, token: &str| {
            user == USER && check.good(token)
        })),
        ..Opts::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let refresh_file = dir.path().join("refresh-token");
    std::fs::write(&refresh_file, "refresh-1\n").unwrap();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, format!("{CLIENT_SECRET}\n")).unwrap();
    let mut c = config(up.url());
    c.upstream.username = Some(USER.into());
    c.upstream.auth = UpstreamAuth::Xoauth2;
    c.upstream.oauth_token_url = Some(token_url);
    c.upstream.oauth_client_id = Some(CLIENT_ID.into());
    c.upstream.oauth_client_secret_file = Some(secret_file);
    c.upstream.oauth_refresh_token_file = Some(refresh_file.clone());
    c.upstream.oauth_scope = Some("https://mail.google.com/".into());
    let rig = start(c.clone()).await;

    // The first message: a token is fetched, the login works.
    let id = rig.enqueue(USER, &["anna@example.org"], "first").await;
    delivered(&rig, id, "the first message goes with a fetched token").await;
    assert_eq!(issuer.requests(), 1);
    assert_eq!(up.auth_attempts(), 1);
    assert_eq!(up.messages()[0].auth_user.as_deref(), Some(USER));

    // Later the token has expired; the next login (on a new connection)
    // uses a renewed one, so the upstream refuses nothing.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    up.restart().await; // drops the pooled connection
    let id = rig.enqueue(USER, &["ben@example.org"], "second").await;
    delivered(&rig, id, "an expired token is renewed before use").await;
    assert_eq!(issuer.requests(), 2, "one renewal");
    assert_eq!(up.auth_attempts(), 2, "no login was refused");

    // The provider revokes the access tokens: the refused token is
    // replaced and the login tried once more, at once.
    issuer.revoke_access_tokens();
    up.restart().await;
    let id = rig.enqueue(USER, &["carl@example.org"], "third").await;
    delivered(&rig, id, "a refused token is replaced").await;
    assert_eq!(issuer.requests(), 3);
    assert_eq!(up.auth_attempts(), 4, "refused once, then accepted");

    // The refresh token is revoked (the seller changed the password, or
    // the admin removed the app): the route pauses, nothing bounces.
    *issuer.refresh_token.lock().unwrap() = "refresh-2".into();
    issuer.revoke_access_tokens();
    up.restart().await;
    let ids = [
        rig.enqueue(USER, &["dora@example.org"], "fourth").await,
        rig.enqueue(USER, &["emil@example.org"], "fifth").await,
    ];
    let pause = paused(&rig).await;
    assert_eq!(pause.kind, "login", "{pause:?}");
    assert!(
        pause.reply.contains("invalid_grant") && pause.reply.contains("sign in again"),
        "the pause says what the endpoint answered and what to do: {}",
        pause.reply
    );
    let requests_at_pause = issuer.requests();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        issuer.requests() <= requests_at_pause + 1,
        "a paused route does not hammer the token endpoint"
    );
    for id in ids {
        let s = rig.states(id).await;
        assert!(
            s.iter()
                .all(|(_, st, _)| *st == DeliveryState::Deferred || *st == DeliveryState::Queued),
            "waits, not bounced: {s:?}"
        );
    }

    // Signed in again: the new refresh token in its file, a reload.
    std::fs::write(&refresh_file, "refresh-2\n").unwrap();
    let fixed = Instant::now();
    let upstreams = relay::build_upstreams(&c).expect("upstream");
    rig.reconfigure.apply(Arc::new(c), upstreams);
    for id in ids {
        delivered(
            &rig,
            id,
            "the reload with a new refresh token resumes the route",
        )
        .await;
    }
    assert!(
        fixed.elapsed() < Duration::from_secs(5),
        "delivered {:?} after the reload",
        fixed.elapsed()
    );
    let got = up.messages();
    for buyer in ["anna", "ben", "carl", "dora", "emil"] {
        let to = format!("{buyer}@example.org");
        assert_eq!(
            got.iter().filter(|m| m.rcpt_to == [to.as_str()]).count(),
            1,
            "{to} got it once"
        );
    }
    let notices: Vec<_> = got.iter().filter(|m| m.rcpt_to == [USER]).collect();
    assert_eq!(notices.len(), 1, "the seller got one notice of the pause");
    let text = notices[0].text();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body = base64::engine::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        body.split_whitespace().collect::<String>(),
    )
    .map(|b| String::from_utf8_lossy(&b).into_owned())
    .unwrap_or_else(|_| body.to_string());
    assert!(
        body.contains("invalid_grant") && body.matches("refused our AUTH").count() <= 1,
        "the notice says why, once: {body}"
    );
    rig.stop().await;
}

/// A route whose client secret is wrong pauses too, and says so.
#[tokio::test]
async fn a_wrong_client_secret_pauses_the_route_with_the_endpoints_words() {
    let issuer = Issuer::new("refresh-1", Duration::from_secs(3600));
    let token_url = token_endpoint(issuer.clone()).await;
    let check = issuer.clone();
    let up = TestUpstream::start(Opts {
        xoauth2: Some(Arc::new(move |_: &str, token: &str| check.good(token))),
        ..Opts::default()
    })
    .await;
    let mut c = config(up.url());
    c.upstream.username = Some(USER.into());
    c.upstream.auth = UpstreamAuth::Xoauth2;
    c.upstream.oauth_token_url = Some(token_url);
    c.upstream.oauth_client_id = Some(CLIENT_ID.into());
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "not-the-secret\n").unwrap();
    let refresh = dir.path().join("refresh");
    std::fs::write(&refresh, "refresh-1\n").unwrap();
    c.upstream.oauth_client_secret_file = Some(secret);
    c.upstream.oauth_refresh_token_file = Some(refresh);
    let rig = start(c).await;
    let id = rig.enqueue(USER, &["anna@example.org"], "first").await;
    let pause = paused(&rig).await;
    assert_eq!(pause.kind, "login");
    assert!(pause.reply.contains("AADSTS7000215"), "{}", pause.reply);
    assert_eq!(up.auth_attempts(), 0, "no login without a token");
    assert_ne!(rig.states(id).await[0].1, DeliveryState::Bounced);
    rig.stop().await;
}

/// A SOCKS5 proxy (Debian's microsocks, with a login) carries the upstream
/// connection: the upstream sees the proxy's outgoing address, 127.0.0.2.
/// A wrong proxy password keeps the mail waiting with the proxy named.
#[tokio::test]
async fn a_socks5_proxy_carries_the_upstream_connection() {
    if !common::external("microsocks") {
        return;
    }
    let up = TestUpstream::start(Opts::default()).await;
    let port = TestUpstream::free_port().await;
    let mut cmd = tokio::process::Command::new("microsocks");
    cmd.args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-b", "127.0.0.2", "-u", "seller", "-P", "proxy-pass"]);
    let mut proxy = start_proxy(cmd, port).await;
    through_proxy(
        &up,
        format!("socks5://127.0.0.1:{port}"),
        "proxy",
        "127.0.0.2",
    )
    .await;
    let _ = proxy.kill().await;
}

/// The courier's quick test config, with one upstream connection.
fn config(upstream_url: String) -> Config {
    let mut c = common::courier::config(upstream_url);
    c.upstream.connections = 1;
    c
}

/// An HTTP proxy that allows CONNECT (Debian's tinyproxy, with a login and
/// its outgoing address 127.0.0.3) carries the upstream connection too: the
/// SMTP greeting that follows the proxy's answer at once is not lost.
#[tokio::test]
async fn an_http_connect_proxy_carries_the_upstream_connection() {
    if !common::external("tinyproxy") {
        return;
    }
    let up = TestUpstream::start(Opts::default()).await;
    let port = TestUpstream::free_port().await;
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("tinyproxy.conf");
    // As root, tinyproxy drops to an unprivileged user.
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let user = if root {
        "User nobody\nGroup nogroup\n"
    } else {
        ""
    };
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nBind 127.0.0.3\nTimeout 30\nMaxClients 8\n\
             LogLevel Critical\nBasicAuth seller proxy-pass\n{user}"
        ),
    )
    .unwrap();
    let mut cmd = tokio::process::Command::new("tinyproxy");
    cmd.arg("-d").arg("-c").arg(&conf);
    let mut proxy = start_proxy(cmd, port).await;
    // A 401/407 answer says which keys to set.
    through_proxy(
        &up,
        format!("http://127.0.0.1:{port}"),
        "proxy_username",
        "127.0.0.3",
    )
    .await;
    let _ = proxy.kill().await;
}
