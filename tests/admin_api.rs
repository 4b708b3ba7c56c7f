//! The review page's JSON API, `/metrics`, `/healthz` and the guard in
//! front of them, against a real sendwell: mail is held through real SMTP,
//! a program acts over HTTP, and the test upstream sees the result.

mod common;

use std::time::Duration;

use common::http::{get, request, request_from};
use common::relay_config as config;
use common::review::{TOKEN, held_body, held_id, send, text_of};
use common::upstream::{Opts, TestUpstream};
use sendwell::server;
use sendwell::store::DeliveryState;

const CUSTOMER: &str = "ben@buyer.example.com.au";

#[tokio::test]
async fn api_refuses_without_the_token_when_listening_beyond_loopback() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &up);
    // Every interface (what a team gateway does); the test talks over loopback only.
    cfg.admin.listen = "0.0.0.0:0".parse().unwrap();
    cfg.admin.token = Some(TOKEN.into());
    let running = server::start(cfg).await.unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], running.admin_addr.unwrap().port()));
    let bearer = format!("Bearer {TOKEN}");

    for path in ["/api/held", "/api/queue", "/api/stats", "/metrics"] {
        let r = get(addr, path, &[]).await;
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert!(
            r.json()["error"].as_str().unwrap().contains("token"),
            "{}",
            r.body
        );
        let r = get(
            addr,
            path,
            &[("Authorization", "Bearer wrong-token-0123456789abc")],
        )
        .await;
        assert_eq!(r.status, 401, "{path} with a wrong token");
        let r = get(addr, path, &[("Authorization", &bearer)]).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    // Acting without the token does nothing.
    let id = held_id(
        &send(
            running.smtp_addrs[0],
            "lin@seller.example",
            CUSTOMER,
            &held_body(CUSTOMER, "t1"),
        )
        .await,
    );
    let r = request(
        addr,
        "POST",
        &format!("/api/messages/{id}/release"),
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    let m = running.store.message(id).await.unwrap().unwrap();
    assert_eq!(m.deliveries[0].state, DeliveryState::Held);
    // A page sends the browser to the login form; the health check stays open.
    let r = get(addr, &format!("/held/{id}"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some(format!("/login?next=%2Fheld%2F{id}").as_str())
    );
    assert_eq!(get(addr, "/healthz", &[]).await.status, 200);

    // The login form sets an HttpOnly, SameSite=Strict cookie that opens the pages.
    let r = request(
        addr,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token={TOKEN}&next=%2Fheld"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r.header("set-cookie").unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let page = get(addr, "/held", &[("Cookie", pair)]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Your order has shipped"),
        "{}",
        page.body
    );
    // A wrong token is refused.
    let r = request(
        addr,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "token=nope",
    )
    .await;
    assert_eq!(r.status, 401);
    running.stop().await;
}

/// Issue 11 §5: thirty wrong tokens from one address: the first five get
/// 401, then 429 with Retry-After without the token being looked at (so
/// the right one waits too); another address logs in as usual.
#[tokio::test]
async fn login_guesses_are_throttled_per_address() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &up);
    cfg.admin.token = Some(TOKEN.into());
    let running = server::start(cfg).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let guesser: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    for i in 0..30 {
        let r = request_from(
            guesser,
            addr,
            "POST",
            "/login",
            &form,
            &format!("token=guess{i}"),
        )
        .await;
        if r.status == 429 {
            let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!(
                (100..=120).contains(&wait),
                "one more try every 2 min: {wait}"
            );
            assert!(
                r.body.contains("Too many wrong tokens from 127.0.0.2"),
                "{}",
                r.body
            );
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses[..5], [401; 5]);
    assert_eq!(statuses[5..], [429; 25]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let right = format!("token={TOKEN}&next=%2Fheld");
    let r = request_from(guesser, addr, "POST", "/login", &form, &right).await;
    assert_eq!(r.status, 429, "locked even with the right token");
    let r = request(addr, "POST", "/login", &form, &right).await;
    assert_eq!(r.status, 303, "127.0.0.1 is not locked: {}", r.body);
    running.stop().await;
}

#[tokio::test]
async fn release_and_refuse_over_the_api_reach_the_upstream_and_the_sender() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &up);
    cfg.admin.token = Some(TOKEN.into());
    let running = server::start(cfg).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let smtp = running.smtp_addrs[0];
    let auth = [("Authorization", format!("Bearer {TOKEN}"))];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let a = held_id(
        &send(
            smtp,
            "lin@seller.example",
            CUSTOMER,
            &held_body(CUSTOMER, "a"),
        )
        .await,
    );
    let b = held_id(
        &send(
            smtp,
            "lin@seller.example",
            "kim@buyer.example.com.au",
            &held_body("kim@buyer.example.com.au", "b"),
        )
        .await,
    );
    // The two hold notices reach the sender, each with a link to its page:
    // signed, since the sender has no token, and read only.
    let notices = up.wait_for(2, Duration::from_secs(10)).await;
    let mut queries = Vec::new();
    for id in [a, b] {
        let prefix = format!("Review it at: http://{addr}/m/{id}?");
        let link = notices
            .iter()
            .flat_map(|n| {
                text_of(&n.data)
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .find_map(|l| l.trim_end().strip_prefix(&prefix).map(str::to_string))
            .unwrap_or_else(|| panic!("no notice links to {prefix}"));
        let view = get(addr, &format!("/m/{id}?{link}"), &[]).await;
        assert_eq!(view.status, 200, "{}", view.body);
        assert!(view.body.contains("Why it was held"), "{}", view.body);
        assert!(view.body.contains("TEMPLATE_PLACEHOLDER"), "{}", view.body);
        assert!(view.body.contains("your parcel left our warehouse"));
        assert!(
            !view.body.contains("id=\"release\"") && !view.body.contains("href=\"/queue\""),
            "the sender's view has no reviewer's buttons or tabs"
        );
        queries.push(link);
    }
    // The link opens that message only, and nothing else without the token.
    let wrong = get(addr, &format!("/m/{b}?{}", queries[0]), &[]).await;
    assert_eq!(wrong.status, 403);
    let forged = get(addr, &format!("/m/{a}?{}0", queries[0]), &[]).await;
    assert_eq!(forged.status, 403);
    let page = get(addr, &format!("/held/{a}?{}", queries[0]), &[]).await;
    assert_ne!(page.status, 200, "the reviewer's page still needs a login");
    let api = get(addr, &format!("/api/messages/{a}?{}", queries[0]), &[]).await;
    assert_eq!(api.status, 401);

    let held = get(addr, "/api/held", &auth).await.json();
    let listed: Vec<i64> = held["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, vec![b.0, a.0], "newest first");
    assert_eq!(held["messages"][0]["rules"][0], "TEMPLATE_PLACEHOLDER");
    let one = get(addr, &format!("/api/messages/{a}"), &auth).await.json();
    assert_eq!(one["message"]["report"]["verdict"], "hold");
    assert!(
        one["message"]["report"]["hits"][0]["fix"]
            .as_str()
            .unwrap()
            .len()
            > 10
    );

    // Release: the customer gets it.
    let r = request(
        addr,
        "POST",
        &format!("/api/messages/{a}/release"),
        &auth,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["released"], 1);
    // The compliance log says who released it: the single token is `admin`.
    let records = running.store.audit_records(0, 1000).await.unwrap();
    let released = records
        .iter()
        .find(|r| r.kind == "released" && r.message == Some(a.0))
        .expect("a 'released' audit record for the message");
    assert_eq!(released.actor, "admin");
    // So is the hold notice sendwell itself sent to the seller.
    assert!(
        records
            .iter()
            .any(|r| r.kind == "received" && r.actor == "sendwell"),
        "the hold notice has a 'received' record"
    );
    let got = up.wait_for(3, Duration::from_secs(10)).await;
    assert!(
        got.iter()
            .any(|m| m.rcpt_to == [CUSTOMER] && m.text().contains("{{first_name}}"))
    );
    // Twice is a conflict, not a second send.
    let r = request(
        addr,
        "POST",
        &format!("/api/messages/{a}/release"),
        &auth,
        "",
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);

    // Refuse with a reason: the sender is told it, the customer gets nothing.
    let r = request(
        addr,
        "POST",
        &format!("/api/messages/{b}/refuse"),
        &[auth[0], ("Content-Type", "application/json")],
        r#"{"reason":"fill in the customer's name"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["refused"]["sender_notified"], true);
    let got = up.wait_for(4, Duration::from_secs(10)).await;
    let told = got
        .iter()
        .find(|m| text_of(&m.data).contains("fill in the customer's name"))
        .expect("refusal notice");
    assert_eq!(told.rcpt_to, ["lin@seller.example"]);
    assert!(
        got.iter()
            .all(|m| m.rcpt_to != ["kim@buyer.example.com.au"])
    );
    let r = request(addr, "POST", "/api/messages/999999/release", &auth, "").await;
    assert_eq!(r.status, 404);

    // Suppressions over the API.
    let r = request(
        addr,
        "POST",
        "/api/suppressions",
        &[auth[0], ("Content-Type", "application/json")],
        r#"{"address":"gone@buyer.example","reason":"asked us to stop"}"#,
    )
    .await;
    assert_eq!(r.json()["added"], true, "{}", r.body);
    let list = get(addr, "/api/suppressions", &auth).await.json();
    assert_eq!(list["suppressions"][0]["address"], "gone@buyer.example");
    let r = request(
        addr,
        "DELETE",
        "/api/suppressions/gone@buyer.example",
        &auth,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = request(
        addr,
        "DELETE",
        "/api/suppressions/gone@buyer.example",
        &auth,
        "",
    )
    .await;
    assert_eq!(r.status, 409);

    // Decisions and the chart's numbers know both messages.
    let d = get(addr, "/api/decisions", &auth).await.json();
    assert!(d["decisions"].as_array().unwrap().len() >= 2);
    let stats = get(addr, "/api/stats", &auth).await.json();
    let days = stats["days"].as_array().unwrap();
    assert_eq!(days.len(), 14);
    let today = days.last().unwrap();
    assert_eq!(today["held"], 2, "{today}");
    // The released message; the hold and refusal notices are sendwell's
    // own mail, counted apart (as on the overview's cards).
    assert_eq!(today["delivered"], 1, "{today}");
    assert_eq!(today["refused"], 1, "{today}");
    running.stop().await;
}

/// Issue 14 §7: named reviewers. Wang releases over the API with his own
/// token, Li refuses from the page after logging in with hers, and the
/// audit log names each; the single token still works, as `admin`.
#[tokio::test]
async fn each_reviewer_is_named_in_the_audit_log() {
    const WANG: &str = "wang-token-0123456789abcdef";
    const LI: &str = "li-token-0123456789abcdef";
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &up);
    cfg.admin.token = Some(TOKEN.into());
    cfg.admin.reviewers = vec![
        sendwell::config::ReviewerConfig {
            name: "wang".into(),
            token: WANG.into(),
        },
        sendwell::config::ReviewerConfig {
            name: "li".into(),
            token: LI.into(),
        },
    ];
    let running = server::start(cfg).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let smtp = running.smtp_addrs[0];
    let mut ids = Vec::new();
    for (i, to) in [
        CUSTOMER,
        "kim@buyer.example.com.au",
        "amy@buyer.example.com.au",
    ]
    .iter()
    .enumerate()
    {
        let reply = send(
            smtp,
            "lin@seller.example",
            to,
            &held_body(to, &format!("r{i}")),
        )
        .await;
        ids.push(held_id(&reply));
    }

    // Wang, over the API with his token.
    let wang = format!("Bearer {WANG}");
    let r = request(
        addr,
        "POST",
        &format!("/api/messages/{}/release", ids[0]),
        &[("Authorization", &wang)],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Li, from the page: her token at the login form, then the Refuse button.
    let r = request(
        addr,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token={LI}&next=%2Fheld"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r.header("set-cookie").unwrap().to_string();
    let pair = cookie.split(';').next().unwrap().to_string();
    let r = request(
        addr,
        "POST",
        &format!("/held/{}/refuse", ids[1]),
        &[
            ("Cookie", &pair),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "reason=wrong+name",
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // The single token, as before.
    let admin = format!("Bearer {TOKEN}");
    let r = request(
        addr,
        "POST",
        &format!("/api/messages/{}/release", ids[2]),
        &[("Authorization", &admin)],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A token nobody has opens nothing.
    let r = get(
        addr,
        "/api/held",
        &[("Authorization", "Bearer zhao-token-0123456789abcdef")],
    )
    .await;
    assert_eq!(r.status, 401);

    let records = running.store.audit_records(0, 1000).await.unwrap();
    let actor_of = |kind: &str, id: sendwell::store::MessageId| {
        records
            .iter()
            .find(|r| r.kind == kind && r.message == Some(id.0))
            .map(|r| r.actor.clone())
            .unwrap_or_else(|| panic!("no '{kind}' record for message {id}"))
    };
    assert_eq!(actor_of("released", ids[0]), "admin:wang");
    assert_eq!(actor_of("rejected", ids[1]), "admin:li");
    assert_eq!(actor_of("released", ids[2]), "admin");
    running.stop().await;
}

#[tokio::test]
async fn forms_from_another_site_and_foreign_host_names_are_refused() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // Loopback without a token: no login, but only for this machine's own pages.
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let id = held_id(
        &send(
            running.smtp_addrs[0],
            "lin@seller.example",
            CUSTOMER,
            &held_body(CUSTOMER, "x"),
        )
        .await,
    );
    let path = format!("/held/{id}/release");
    let r = request(
        addr,
        "POST",
        &path,
        &[("Origin", "http://evil.example")],
        "",
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // DNS rebinding: a foreign name that points at 127.0.0.1.
    let r = get(addr, "/api/held", &[("Host", "evil.example:8025")]).await;
    assert_eq!(r.status, 403);
    let m = running.store.message(id).await.unwrap().unwrap();
    assert_eq!(
        m.deliveries[0].state,
        DeliveryState::Held,
        "nothing was released"
    );
    // The page's own form (same origin) works and redirects back with a note.
    let origin = format!("http://{addr}");
    let r = request(addr, "POST", &path, &[("Origin", &origin)], "").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.header("location")
            .unwrap()
            .starts_with(&format!("/held/{id}?done=Released"))
    );
    up.wait_for(2, Duration::from_secs(10)).await;
    running.stop().await;
}

#[tokio::test]
async fn metrics_count_what_happened_and_healthz_answers() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.admin_addr.unwrap();
    held_id(
        &send(
            running.smtp_addrs[0],
            "lin@seller.example",
            CUSTOMER,
            &held_body(CUSTOMER, "m"),
        )
        .await,
    );
    up.wait_for(1, Duration::from_secs(10)).await; // the notice
    let r = get(addr, "/metrics", &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let value = |line_start: &str| -> f64 {
        r.body
            .lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no {line_start} in\n{}", r.body))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // Counters are process-wide (other tests run alongside): at least ours.
    assert!(value("sendwell_messages_received_total") >= 1.0);
    assert!(value("sendwell_messages_held_total") >= 1.0);
    assert!(value("sendwell_rule_hits_total{rule=\"TEMPLATE_PLACEHOLDER\"}") >= 1.0);
    assert!(value("sendwell_copies_delivered_total") >= 1.0);
    assert!(
        r.body
            .contains("sendwell_upstream_seconds_bucket{le=\"0.005\"}"),
        "{}",
        r.body
    );
    // The queue depth is this server's store, read at scrape time.
    assert_eq!(value("sendwell_queue_depth{state=\"held\"}"), 1.0);
    let h = get(addr, "/healthz", &[]).await;
    assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));
    running.stop().await;
}

/// A recipient refused at RCPT has no queue row; the decisions page still
/// shows it, with the reply the mail program showed, from the audit log.
#[tokio::test]
async fn refusals_at_the_door_show_on_their_own_tab() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let smtp = running.smtp_addrs[0];
    let mut client = mail_send::SmtpClientBuilder::new(smtp.ip().to_string(), smtp.port())
        .unwrap()
        .connect_plain()
        .await
        .unwrap();
    let refused = client
        .send(
            mail_send::smtp::message::Message::empty()
                .from("lin@seller.example")
                .to("noreply@buyer.example.de")
                .body(b"Subject: hi\r\n\r\nhello".to_vec()),
        )
        .await;
    assert!(refused.is_err(), "a no-reply address is refused at RCPT");
    // Hang up, or stopping the server waits out its grace for this session.
    drop(client);
    let page = get(addr, "/door", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Refused at the door"), "{}", page.body);
    let row = page
        .body
        .split("<tr>")
        .find(|r| r.contains("noreply@buyer.example.de"))
        .unwrap_or_else(|| panic!("no row for the refused recipient:\n{}", page.body));
    assert!(
        row.contains("RCPT") && row.contains("550") && row.contains("lin@seller.example"),
        "when, where, who and the reply: {row}"
    );
    let api = get(addr, "/api/refusals", &[]).await.json();
    assert_eq!(
        api["refusals"][0]["fields"]["rcpt"], "noreply@buyer.example.de",
        "{api}"
    );
    // And the overview's chart counts it, today.
    let stats = get(addr, "/api/stats", &[]).await.json();
    let today = stats["days"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(today["refused_at_door"], 1, "{stats}");
    let overview = get(addr, "/", &[]).await;
    assert!(
        overview.body.contains("refused at the door: 1"),
        "{}",
        overview.body
    );
    running.stop().await;
}

/// Issue 14: the page speaks the browser's language, the switch's cookie
/// wins over it, `[admin] language` over both; the login page has no tabs.
#[tokio::test]
async fn the_page_speaks_chinese_or_english_per_request() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let zh = get(
        addr,
        "/queue",
        &[("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")],
    )
    .await;
    for words in [
        "lang=\"zh-CN\"",
        "概览",
        "暂扣",
        "队列",
        "当场拒发",
        "没有等待的邮件",
    ] {
        assert!(zh.body.contains(words), "{words} missing:\n{}", zh.body);
    }
    assert!(!zh.body.contains(">Overview<"), "{}", zh.body);
    let switch = get(addr, "/lang?to=en&next=/queue", &[]).await;
    assert_eq!(switch.status, 303, "{}", switch.body);
    let en = get(
        addr,
        "/queue",
        &[("Accept-Language", "zh-CN"), ("Cookie", "sendwell_lang=en")],
    )
    .await;
    assert!(
        en.body.contains(">Overview<") && en.body.contains("lang=\"en\""),
        "{}",
        en.body
    );
    running.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &up);
    cfg.admin.language = Some(sendwell::policy::Language::ZhCn);
    cfg.admin.token = Some(TOKEN.into());
    let running = server::start(cfg).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let login = get(addr, "/login", &[("Cookie", "sendwell_lang=en")]).await;
    assert!(login.body.contains("登录"), "{}", login.body);
    assert!(
        !login.body.contains("<nav>"),
        "the login page shows no tabs: {}",
        login.body
    );
    assert!(
        !login.body.contains("/lang?"),
        "a fixed language has no switch"
    );
    running.stop().await;
}

/// A seller whose notices are in Chinese reads the page behind the notice's
/// link in Chinese too: the labels, and the report the judge wrote.
#[tokio::test]
async fn the_sender_reads_the_held_page_in_the_notices_language() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &up);
    cfg.admin.token = Some(TOKEN.into());
    cfg.notices.language = sendwell::policy::Language::ZhCn;
    let running = server::start(cfg).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let id = held_id(
        &send(
            running.smtp_addrs[0],
            "lin@seller.example",
            CUSTOMER,
            &held_body(CUSTOMER, "zh"),
        )
        .await,
    );
    let notice = up.wait_for(1, Duration::from_secs(10)).await;
    let text = text_of(&notice[0].data);
    let prefix = format!("审核页面：http://{addr}");
    let path = text
        .lines()
        .find_map(|l| l.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no link in the notice:\n{text}"));
    assert!(path.starts_with(&format!("/m/{id}?")), "{path}");
    let view = get(addr, path, &[]).await;
    assert_eq!(view.status, 200, "{}", view.body);
    for words in [
        "暂扣原因",
        "接下来怎么做",
        "lang=\"zh-CN\"",
        "TEMPLATE_PLACEHOLDER",
    ] {
        assert!(view.body.contains(words), "{words} missing:\n{}", view.body);
    }
    running.stop().await;
}

/// The judge wrote its report in the notices' language (English here); a
/// reviewer reading the page in Chinese reads the rule's explanation and
/// fix in Chinese, and one reading it in English in English.
#[tokio::test]
async fn a_reviewer_reads_the_report_in_the_pages_language() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let id = held_id(
        &send(
            running.smtp_addrs[0],
            "lin@seller.example",
            CUSTOMER,
            &held_body(CUSTOMER, "lang"),
        )
        .await,
    );
    let zh = get(
        addr,
        &format!("/held/{id}"),
        &[("Accept-Language", "zh-CN")],
    )
    .await;
    assert!(
        zh.body.contains("邮件里有未填写的模板字段") && !zh.body.contains("were never filled in"),
        "{}",
        zh.body
    );
    let en = get(addr, &format!("/held/{id}"), &[("Accept-Language", "en")]).await;
    assert!(en.body.contains("were never filled in"), "{}", en.body);
    running.stop().await;
}

/// Issue 10: a paused route shows on the overview, with the provider's
/// reply and how to resume it.
#[tokio::test]
async fn the_overview_shows_a_paused_route() {
    let up = TestUpstream::start(Opts::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let running = server::start(config(dir.path(), &up)).await.unwrap();
    let addr = running.admin_addr.unwrap();
    let overview = get(addr, "/", &[]).await;
    assert!(
        !overview.body.contains("Sending paused"),
        "{}",
        overview.body
    );
    let now = jiff::Timestamp::now();
    running
        .store
        .pause_route(
            "default",
            "quota",
            "550 5.4.5 Daily user sending limit exceeded.",
            now,
            now + jiff::SignedDuration::from_hours(1),
            "node-1",
        )
        .await
        .unwrap();
    let overview = get(addr, "/", &[]).await;
    assert!(
        overview
            .body
            .contains("Sending paused: route default (quota)")
            && overview
                .body
                .contains("550 5.4.5 Daily user sending limit exceeded.")
            && overview.body.contains("sendwell upstream resume default"),
        "{}",
        overview.body
    );
    running.stop().await;
}
