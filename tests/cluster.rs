//! Several nodes, one truth: two `sendwell serve` processes (the built
//! binary) on one PostgreSQL queue, relaying to a loopback upstream. One is
//! killed with SIGKILL and never restarted; an attempt outlives its lease.
//! Skipped without SENDWELL_TEST_POSTGRES_URL, failed under CI=true.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::db::Db;
use common::review::try_send;
use common::upstream::{Opts, TestUpstream};
use sqlx::Row;

/// One `sendwell serve` on the shared queue.
struct Node {
    child: Child,
    smtp: SocketAddr,
    dir: tempfile::TempDir,
}

impl Node {
    async fn start(url: &str, up: &TestUpstream, extra: &str) -> Node {
        Node::start_with_page(url, up, extra, None).await
    }

    /// `page`: the review page's loopback port (none: no page).
    async fn start_with_page(url: &str, up: &TestUpstream, extra: &str, page: Option<u16>) -> Node {
        Node::start_with_admin(url, up, extra, page, "").await
    }

    /// `admin`: more lines for `[admin]` (a token).
    async fn start_with_admin(
        url: &str,
        up: &TestUpstream,
        extra: &str,
        page: Option<u16>,
        admin: &str,
    ) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let port = TestUpstream::free_port().await;
        let file = dir.path().join("sendwell.toml");
        std::fs::write(
            &file,
            format!(
                "data_dir = {data:?}\n\
                 [server]\nlisten = [\"127.0.0.1:{port}\"]\n\
                 [admin]\n{page}\n{admin}\n\
                 [store]\nurl = {url:?}\n\
                 [upstream]\nurl = {up:?}\nconnections = 4\n\
                 [dns]\nchecks = false\n\
                 [schedule]\nenabled = false\n\
                 [caps]\nenabled = false\n\
                 [policy]\nenabled = false\n\
                 {extra}",
                data = dir.path().display().to_string(),
                up = up.url(),
                page = match page {
                    Some(p) => format!("listen = \"127.0.0.1:{p}\""),
                    None => "enabled = false".into(),
                },
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_sendwell"))
            .args(["serve", "--config"])
            .arg(&file)
            .env("SENDWELL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("sendwell.log")).unwrap())
            .spawn()
            .expect("start sendwell");
        let start = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(start.elapsed() < Duration::from_secs(30), "no listener");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Node {
            child,
            smtp: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        }
    }

    fn kill(&mut self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {signal} failed");
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sendwell.log")).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn body(tag: &str) -> String {
    format!(
        "From: Lin Wei <lin@seller.example>\r\nTo: hans@buyer.example.de\r\nSubject: {tag}\r\n\
         Message-ID: <{tag}@seller.example>\r\n\r\nYour parcel left our warehouse today.\r\n"
    )
}

/// The Subject of each transaction the upstream took, and how often.
fn subjects(up: &TestUpstream) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for m in up.messages() {
        let text = m.text();
        let subject = text
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or("")
            .to_string();
        *seen.entry(subject).or_insert(0) += 1;
    }
    seen
}

async fn wait_nodes(db: &Db, n: i64) {
    let start = Instant::now();
    loop {
        let have: i64 = sqlx::query("SELECT COUNT(*) AS n FROM nodes")
            .fetch_one(&pg(db).await)
            .await
            .unwrap()
            .get("n");
        if have >= n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nodes never registered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn pg(db: &Db) -> sqlx::PgPool {
    sqlx::PgPool::connect(&db.url).await.unwrap()
}

/// Two nodes under load, one killed with SIGKILL and not restarted: every
/// message either node answered 250 reaches the upstream, the dead node's
/// copies within the node timeout (the lease is a minute: only the takeover
/// can be this fast), and the copies sent twice are at most those the dead
/// node had in flight at the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_node_loses_nothing_and_its_mail_goes_within_the_node_timeout() {
    let Some(db) = Db::postgres("cluster_kill").await else {
        return;
    };
    let up = TestUpstream::start(Opts {
        // Copies in flight at the kill.
        data_delay: Duration::from_millis(500),
        ..Opts::default()
    })
    .await;
    let extra = "[relay]\nlease = \"60s\"\npoll_interval = \"100ms\"\nretry_schedule = [\"200ms\"]\n\
                 [cluster]\nheartbeat = \"250ms\"\nnode_timeout = \"2s\"\n";
    let mut a = Node::start(&db.url, &up, extra).await;
    let b = Node::start(&db.url, &up, extra).await;
    wait_nodes(&db, 2).await;

    const N: usize = 60;
    let mut accepted = Vec::new();
    let mut by_a = Vec::new();
    let mut in_flight_at_kill = 0;
    let mut after_kill = Duration::ZERO;
    for i in 0..N {
        let tag = format!("order-{i:04}");
        let to_a = i % 2 == 0 && i < N / 2;
        let node = if to_a { &a } else { &b };
        let reply = try_send(
            node.smtp,
            "lin@seller.example",
            &["hans@buyer.example.de"],
            &body(&tag),
        )
        .await
        .unwrap();
        assert!(reply.contains("queued"), "{reply}");
        if to_a {
            by_a.push(tag.clone());
        }
        accepted.push(tag);
        if i + 1 == N / 2 {
            // A burst to the node about to die, so it has copies in flight
            // (each one waits 500 ms for the upstream's answer).
            // Connected before the burst: under load a new connection can
            // take longer than the copies stay in flight.
            let conn = pg(&db).await;
            let mut burst = Vec::new();
            for k in 0..4 {
                let tag = format!("burst-{k}");
                let smtp = a.smtp;
                burst.push((
                    tag.clone(),
                    tokio::spawn(async move {
                        try_send(
                            smtp,
                            "lin@seller.example",
                            &["hans@buyer.example.de"],
                            &body(&tag),
                        )
                        .await
                    }),
                ));
            }
            for (tag, sent) in burst {
                let reply = sent.await.unwrap().unwrap();
                assert!(reply.contains("queued"), "{reply}");
                by_a.push(tag.clone());
                accepted.push(tag);
            }
            let claimed = Instant::now();
            loop {
                in_flight_at_kill = sqlx::query(
                    "SELECT COUNT(*) AS n FROM deliveries d JOIN nodes n ON d.owner = n.id \
                     WHERE d.state = 'delivering' AND n.pid = $1",
                )
                .bind(i64::from(a.child.id()))
                .fetch_one(&conn)
                .await
                .unwrap()
                .get::<i64, _>("n");
                if in_flight_at_kill > 0 || claimed.elapsed() > Duration::from_secs(5) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            a.kill("-KILL");
            let killed_at = Instant::now();
            // The dead node's copies: taken over and sent within the node
            // timeout (2 s) and a few heartbeats, not the minute-long lease.
            // Nothing left undelivered in the queue (the survivor is idle
            // meanwhile), and every copy the dead node accepted arrived.
            loop {
                let waiting: i64 =
                    sqlx::query("SELECT COUNT(*) AS n FROM deliveries WHERE state <> 'delivered'")
                        .fetch_one(&conn)
                        .await
                        .unwrap()
                        .get("n");
                let seen = subjects(&up);
                if waiting == 0 && by_a.iter().all(|t| seen.contains_key(t)) {
                    break;
                }
                assert!(
                    killed_at.elapsed() < Duration::from_secs(30),
                    "the dead node's copies never arrived ({waiting} waiting)\nsurvivor's log:\n{}",
                    b.log()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            after_kill = killed_at.elapsed();
        }
    }
    // And everything the survivor took.
    let start = Instant::now();
    loop {
        let seen = subjects(&up);
        let missing: Vec<_> = accepted.iter().filter(|t| !seen.contains_key(*t)).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} accepted copies never arrived: {missing:?}\nsurvivor's log:\n{}",
            missing.len(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = subjects(&up);
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!(
        "cluster kill: {} accepted, all delivered {:.1}s after the kill; {} duplicate(s) at the upstream; \
         {} claimed by the killed node at the kill",
        accepted.len(),
        after_kill.as_secs_f64(),
        duplicates,
        in_flight_at_kill
    );
    assert!(
        after_kill < Duration::from_secs(8),
        "the dead node's mail waited {after_kill:?}: longer than the node timeout allows"
    );
    // At most what the dead node was sending: one message per upstream
    // connection (4), one recipient each.
    assert!(
        in_flight_at_kill > 0,
        "the killed node held nothing: the test proved nothing"
    );
    assert!(
        duplicates as i64 <= in_flight_at_kill.min(4),
        "{duplicates} copies sent twice: {seen:?}"
    );
    assert!(
        b.log()
            .contains("took over the claims of a node whose heartbeat stopped"),
        "{}",
        b.log()
    );
    drop(b);
    drop(a);
    db.finish().await;
}

/// An attempt longer than the lease keeps its claim while its node lives:
/// the other node never starts it, so the upstream gets each copy once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_attempt_longer_than_the_lease_is_not_started_by_the_other_node() {
    let Some(db) = Db::postgres("cluster_slow").await else {
        return;
    };
    let up = TestUpstream::start(Opts {
        data_delay: Duration::from_secs(3),
        ..Opts::default()
    })
    .await;
    let extra = "[relay]\nlease = \"1s\"\npoll_interval = \"100ms\"\nretry_schedule = [\"200ms\"]\n\
                 [cluster]\nheartbeat = \"200ms\"\nnode_timeout = \"1s\"\n";
    let a = Node::start(&db.url, &up, extra).await;
    let b = Node::start(&db.url, &up, extra).await;
    wait_nodes(&db, 2).await;
    for i in 0..3 {
        let tag = format!("slow-{i}");
        try_send(
            a.smtp,
            "lin@seller.example",
            &["hans@buyer.example.de"],
            &body(&tag),
        )
        .await
        .unwrap();
    }
    up.wait_for(3, Duration::from_secs(15)).await;
    // Long enough for a second attempt (3 s) started after the lease ran out.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let seen = subjects(&up);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen.values().all(|n| *n == 1),
        "sent twice: {seen:?}\n{}\n{}",
        a.log(),
        b.log()
    );
    drop(a);
    drop(b);
    db.finish().await;
}

/// `sendwell cluster status --format json` lists both nodes with their
/// heartbeat, and the review page's overview shows them too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_status_lists_the_live_nodes() {
    let Some(db) = Db::postgres("cluster_status").await else {
        return;
    };
    let up = TestUpstream::start(Opts::default()).await;
    let extra = "[cluster]\nheartbeat = \"1s\"\nnode_timeout = \"10s\"\n";
    let page = TestUpstream::free_port().await;
    let a = Node::start_with_page(&db.url, &up, extra, Some(page)).await;
    let b = Node::start(&db.url, &up, extra).await;
    wait_nodes(&db, 2).await;
    let file = a.dir.path().join("sendwell.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_sendwell"))
        .args(["--config"])
        .arg(&file)
        .args(["cluster", "status", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{v}");
    let pids: Vec<u64> = nodes.iter().map(|n| n["pid"].as_u64().unwrap()).collect();
    assert!(
        pids.contains(&u64::from(a.child.id())) && pids.contains(&u64::from(b.child.id())),
        "{v}"
    );
    assert!(nodes.iter().all(|n| n["state"] != "dead"), "{v}");
    assert_eq!(nodes[0]["version"], env!("CARGO_PKG_VERSION"));
    // The review page's overview shows the same two nodes.
    let overview = common::http::get(SocketAddr::from(([127, 0, 0, 1], page)), "/", &[]).await;
    for n in nodes {
        let id = n["id"].as_str().unwrap();
        assert!(
            overview.body.contains(id),
            "{id} missing from the overview:\n{}",
            overview.body
        );
    }
    assert!(
        overview.body.contains("<h2>Nodes</h2>"),
        "{}",
        overview.body
    );
    drop(a);
    drop(b);
    db.finish().await;
}

/// `[[users]]` entries for the limit tests: Li with `rate`, and Wang.
fn users(rate: &str) -> String {
    format!(
        "[[users]]\nname = \"li@shop.example\"\npassword_hash = {li:?}\nrate = {rate:?}\n\
         [[users]]\nname = \"wang@shop.example\"\npassword_hash = {wang:?}\n",
        li = common::cheap_hash("li-secret"),
        wang = common::cheap_hash("wang-secret"),
    )
}

/// Runs a Python smtplib script (after a `login(port, user, password)`
/// helper doing STARTTLS and AUTH PLAIN, as Thunderbird does) and returns
/// its printed `name|code|text` lines by name.
async fn smtplib(body: String) -> HashMap<String, (u16, String)> {
    const PRELUDE: &str = r#"
import smtplib, ssl, base64
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def out(name, code, text):
    if isinstance(text, bytes):
        text = text.decode()
    print(name + "|" + str(code) + "|" + " ".join(text.split()))
def login(port, user, password):
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.ehlo("pc.shop.example")
    s.starttls(context=ctx)
    s.ehlo("pc.shop.example")
    token = base64.b64encode(("\0" + user + "\0" + password).encode()).decode()
    code, text = s.docmd("AUTH", "PLAIN " + token)
    return s, code, text
"#;
    let script = format!("{PRELUDE}\n{body}");
    let out =
        tokio::task::spawn_blocking(move || Command::new("python3").arg("-c").arg(script).output())
            .await
            .expect("join")
            .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "smtplib script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '|');
            let name = parts.next()?.to_string();
            let code = parts.next()?.parse().ok()?;
            Some((name, (code, parts.next().unwrap_or_default().to_string())))
        })
        .collect()
}

/// Li's rate is 5 recipients an hour. Ten messages of one recipient each,
/// sent alternately through two nodes on one PostgreSQL: five are taken,
/// five get 451 naming the rate, whichever node they reach (counted per
/// node, all ten went through). The upstream gets the five.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_rate_of_5_an_hour_holds_across_two_nodes() {
    if !common::external("python3") {
        return;
    }
    let Some(db) = Db::postgres("cluster_user_rate").await else {
        return;
    };
    let up = TestUpstream::start(Opts::default()).await;
    let extra = format!(
        "[relay]\npoll_interval = \"100ms\"\n[cluster]\nheartbeat = \"250ms\"\n{}",
        users("5/hour")
    );
    let a = Node::start(&db.url, &up, &extra).await;
    let b = Node::start(&db.url, &up, &extra).await;
    let r = smtplib(format!(
        r#"
for i in range(10):
    port = [{a}, {b}][i % 2]
    s, code, text = login(port, "li@shop.example", "li-secret")
    assert code == 235, (code, text)
    s.mail("li@shop.example")
    code, text = s.rcpt("buyer%d@buyer.example" % i)
    out("rcpt%d" % i, code, text)
    if code == 250:
        s.data(("From: li@shop.example\r\nTo: buyer%d@buyer.example\r\nSubject: quote %d\r\n\r\n"
                "Our offer for 500 pieces is 3.20 EUR each.\r\n" % (i, i)).encode())
    s.quit()
"#,
        a = a.smtp.port(),
        b = b.smtp.port(),
    ))
    .await;
    let taken: Vec<usize> = (0..10)
        .filter(|i| r[&format!("rcpt{i}")].0 == 250)
        .collect();
    let refused: Vec<usize> = (0..10)
        .filter(|i| {
            let (code, text) = &r[&format!("rcpt{i}")];
            *code == 451 && text.contains("sending rate for li@shop.example exceeded (5/hour)")
        })
        .collect();
    assert_eq!(taken, vec![0, 1, 2, 3, 4], "{r:?}");
    assert_eq!(refused, vec![5, 6, 7, 8, 9], "{r:?}");
    let got = up.wait_for(5, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(up.messages().len(), 5, "{got:?}");
    drop(a);
    drop(b);
    db.finish().await;
}

/// Six wrong passwords for Li on node A lock Li (from that address): the
/// sixth gets 454. Li's right password on node B is refused the same way,
/// without a password check; Wang behind the same address logs in on B.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_address_locked_for_auth_failures_on_one_node_is_locked_on_the_other() {
    if !common::external("python3") {
        return;
    }
    let Some(db) = Db::postgres("cluster_auth_lock").await else {
        return;
    };
    let up = TestUpstream::start(Opts::default()).await;
    let extra = users("100/hour");
    let a = Node::start(&db.url, &up, &extra).await;
    let b = Node::start(&db.url, &up, &extra).await;
    let r = smtplib(format!(
        r#"
for i in range(6):
    s, code, text = login({a}, "li@shop.example", "guess%d" % i)
    out("wrong%d" % i, code, text)
    s.close()
s, code, text = login({b}, "li@shop.example", "li-secret")
out("right_on_b", code, text)
s.close()
s, code, text = login({b}, "wang@shop.example", "wang-secret")
out("colleague_on_b", code, text)
s.close()
"#,
        a = a.smtp.port(),
        b = b.smtp.port(),
    ))
    .await;
    for i in 0..5 {
        assert_eq!(r[&format!("wrong{i}")].0, 535, "{r:?}");
    }
    assert_eq!(r["wrong5"].0, 454, "{r:?}");
    let (code, text) = &r["right_on_b"];
    assert_eq!(*code, 454, "{text}");
    assert!(
        text.contains("too many failed logins for li@shop.example from 127.0.0.1")
            && text.contains("try again in"),
        "{text}"
    );
    assert_eq!(r["colleague_on_b"].0, 235, "{r:?}");
    assert!(
        b.log().contains("AUTH refused: too many failures"),
        "{}",
        b.log()
    );
    drop(a);
    drop(b);
    db.finish().await;
}

/// A route's `per_minute = 2` holds for the cluster: of four messages sent
/// through two nodes at once, two reach the upstream, the other two wait
/// for the minute (each node alone would have sent its two).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_routes_rate_per_minute_holds_across_two_nodes() {
    let Some(db) = Db::postgres("cluster_route_rate").await else {
        return;
    };
    let up = TestUpstream::start(Opts::default()).await;
    // per_minute belongs to [upstream], which the node's config already
    // opens: a named route takes the mail of lin@seller.example instead.
    let extra = format!(
        "[relay]\npoll_interval = \"100ms\"\n\
         [[upstream.routes]]\nname = \"paced\"\nurl = {:?}\nfrom = [\"lin@seller.example\"]\nper_minute = 2\n",
        up.url()
    );
    let a = Node::start(&db.url, &up, &extra).await;
    let b = Node::start(&db.url, &up, &extra).await;
    for i in 0..4 {
        let node = if i % 2 == 0 { &a } else { &b };
        let reply = try_send(
            node.smtp,
            "lin@seller.example",
            &["hans@buyer.example.de"],
            &body(&format!("paced-{i}")),
        )
        .await
        .unwrap();
        assert!(reply.contains("queued"), "{reply}");
    }
    up.wait_for(2, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        up.messages().len(),
        2,
        "{:?}\n{}\n{}",
        subjects(&up),
        a.log(),
        b.log()
    );
    let waiting: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM deliveries WHERE state = 'deferred' \
         AND last_reply LIKE '%per_minute%'",
    )
    .fetch_one(&pg(&db).await)
    .await
    .unwrap()
    .get("n");
    assert_eq!(waiting, 2);
    drop(a);
    drop(b);
    db.finish().await;
}

/// The review page's `/login` on two nodes: five wrong tokens through node
/// A, the sixth locks the address; node B then refuses even the right token
/// from there with 429, and logs in a reviewer from another address.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_locked_on_one_nodes_page_is_locked_on_the_other() {
    let Some(db) = Db::postgres("cluster_login").await else {
        return;
    };
    let up = TestUpstream::start(Opts::default()).await;
    let token = "a-long-enough-admin-token-for-the-test";
    let admin = format!("token = {token:?}");
    let (pa, pb) = (
        TestUpstream::free_port().await,
        TestUpstream::free_port().await,
    );
    let a = Node::start_with_admin(&db.url, &up, "", Some(pa), &admin).await;
    let b = Node::start_with_admin(&db.url, &up, "", Some(pb), &admin).await;
    let (page_a, page_b) = (
        SocketAddr::from(([127, 0, 0, 1], pa)),
        SocketAddr::from(([127, 0, 0, 1], pb)),
    );
    let guesser: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let mut statuses = Vec::new();
    for i in 0..6 {
        let body = format!("token=guess{i}");
        let r = common::http::request_from(guesser, page_a, "POST", "/login", &form, &body).await;
        statuses.push(r.status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    let right = format!("token={token}&next=%2F");
    let r = common::http::request_from(guesser, page_b, "POST", "/login", &form, &right).await;
    assert_eq!(r.status, 429, "node B lets the guesser in: {}", r.body);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((100..=120).contains(&wait), "{wait}");
    let r = common::http::request(page_b, "POST", "/login", &form, &right).await;
    assert_eq!(r.status, 303, "127.0.0.1 is not locked: {}", r.body);
    drop(a);
    drop(b);
    db.finish().await;
}
