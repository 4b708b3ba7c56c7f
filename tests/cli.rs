//! The `sendwell` binary as a person or a script uses it: exit codes, what
//! it prints, and that its pieces fit (a `user add` entry passes `config check`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn sendwell(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sendwell"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sendwell");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

#[test]
fn config_check_names_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[server]\nlisten = [\"127.0.0.1:2525\"]\nmax_recipeints = 5\n",
    )
    .unwrap();
    let out = sendwell(dir.path(), &["config", "check", "bad.toml"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.toml:3") && err.contains("max_recipeints"),
        "{err}"
    );

    std::fs::write(
        dir.path().join("rule.toml"),
        "[policy.rules.SUBJECT_EMOJY]\nweight = 1\n",
    )
    .unwrap();
    let out = sendwell(dir.path(), &["config", "check", "rule.toml"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("SUBJECT_EMOJY"),
        "{}",
        text(&out.stderr)
    );

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/sendwell.toml");
    let out = sendwell(dir.path(), &["config", "check", example], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn user_add_prints_an_entry_that_config_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = sendwell(
        dir.path(),
        &["user", "add", "lin", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let entry = text(&out.stdout);
    assert!(
        entry.contains("[[users]]")
            && entry.contains("name = \"lin\"")
            && entry.contains("$argon2id$"),
        "{entry}"
    );
    std::fs::write(dir.path().join("sendwell.toml"), &entry).unwrap();
    let out = sendwell(dir.path(), &["config", "check"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = sendwell(
        dir.path(),
        &["user", "add", "lin", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("at least 8"),
        "{}",
        text(&out.stderr)
    );
}

const HELD: &str = "From: Lin <lin@seller.example>\r\nTo: Ben <ben@buyer.example.com.au>\r\nSubject: Your order\r\n\r\n\
                    Hi {{first_name}},\r\n\r\nyour order shipped today.\r\n\r\nLin\r\n";
const GOOD: &str = "From: Lin <lin@seller.example>\r\nTo: Ben <ben@buyer.example.com.au>\r\nSubject: Your order 4471 shipped\r\n\r\n\
                    Hi Ben,\r\n\r\nyour order 4471 left our warehouse today; tracking number YT2611220001.\r\n\r\nBest regards,\r\nLin\r\n";

#[test]
fn check_exit_codes_and_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("held.eml"), HELD).unwrap();
    std::fs::write(dir.path().join("good.eml"), GOOD).unwrap();

    let out = sendwell(dir.path(), &["check", "--no-dns", "held.eml"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a check that ran exits 0 whatever the verdict"
    );
    assert!(text(&out.stdout).contains("TEMPLATE_PLACEHOLDER"));
    assert!(
        !text(&out.stdout).contains('\x1b'),
        "no colour when not on a terminal"
    );

    let out = sendwell(
        dir.path(),
        &["check", "--no-dns", "held.eml", "--fail-on", "hold"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let out = sendwell(
        dir.path(),
        &["check", "--no-dns", "held.eml", "--fail-on", "reject"],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let out = sendwell(
        dir.path(),
        &["check", "--no-dns", "good.eml", "--fail-on", "hold"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let out = sendwell(
        dir.path(),
        &[
            "check",
            "--no-dns",
            "held.eml",
            "--format",
            "json",
            "--rcpt",
            "ben@buyer.example.com.au",
            "--rcpt",
            "anna@buyer.example.de",
        ],
        None,
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["verdict"], "hold");
    assert_eq!(j["hits"][0]["id"], "TEMPLATE_PLACEHOLDER");
    assert!(
        j["hits"][0]["explanation"]
            .as_str()
            .unwrap()
            .contains("{{first_name}}")
    );
    assert!(j["hits"][0]["fix"].as_str().is_some_and(|f| !f.is_empty()));
    let rcpts = j["recipients"].as_array().unwrap();
    assert_eq!(rcpts.len(), 2);
    assert_eq!(rcpts[1]["address"], "anna@buyer.example.de");
    for key in [
        "verdict",
        "hits",
        "deliver_at",
        "timezone",
        "timezone_source",
    ] {
        assert!(rcpts[0].get(key).is_some(), "recipient entry lacks {key}");
    }

    // Bad input exits 2 with a readable error.
    let out = sendwell(dir.path(), &["check", "--no-dns", "missing.eml"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing.eml"));
    let out = sendwell(
        dir.path(),
        &["check", "--no-dns", "good.eml", "--rcpt", "not an address"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = sendwell(
        dir.path(),
        &["check", "--no-dns", "good.eml", "--at", "yesterday-ish"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_speaks_chinese_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("held.eml"), HELD).unwrap();
    std::fs::write(
        dir.path().join("sendwell.toml"),
        "[notices]\nlanguage = \"zh-CN\"\n",
    )
    .unwrap();
    let out = sendwell(dir.path(), &["check", "--no-dns", "held.eml"], None);
    let s = text(&out.stdout);
    assert!(
        s.contains("TEMPLATE_PLACEHOLDER")
            && s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{s}"
    );
}

#[test]
fn queue_list_on_a_fresh_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = sendwell(dir.path(), &["queue", "list"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("empty"));
    let out = sendwell(dir.path(), &["held", "list"], None);
    assert!(text(&out.stdout).contains("nothing is held"));
    let out = sendwell(dir.path(), &["queue", "show", "42"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("42"));
}

/// Issue 10: `upstream status` shows a paused route with the provider's
/// reply; `upstream resume` lifts the pause.
#[test]
fn upstream_status_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = sendwell(dir.path(), &["upstream", "status"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("default (outbox): sending"),
        "{}",
        text(&out.stdout)
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = format!(
            "sqlite://{}",
            dir.path().join("sendwell-data/sendwell.db").display()
        );
        let store = sendwell::store::Store::open(&url, 1).await.unwrap();
        let now = jiff::Timestamp::now();
        store
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
        store.close().await;
    });
    let out = sendwell(
        dir.path(),
        &["upstream", "status", "--format", "json"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let route = &v["routes"][0];
    assert_eq!(route["state"], "paused");
    assert_eq!(route["reason"], "quota");
    assert_eq!(
        route["reply"],
        "550 5.4.5 Daily user sending limit exceeded."
    );

    let out = sendwell(dir.path(), &["upstream", "resume", "nosuch"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nosuch"));
    let out = sendwell(dir.path(), &["upstream", "resume"], None);
    assert!(
        text(&out.stdout).contains("resumed"),
        "{}",
        text(&out.stdout)
    );
    let out = sendwell(dir.path(), &["upstream", "status"], None);
    assert!(
        text(&out.stdout).contains("sending"),
        "{}",
        text(&out.stdout)
    );
}

/// Issue 11 §3: `sendwell serve` runs with glibc's mmap threshold fixed, so
/// large freed message buffers go back to the system (the memory note in the
/// README); a threshold the admin set is left alone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn serve_runs_with_a_fixed_mmap_threshold() {
    let port = |_: ()| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    for (given, expected) in [
        (None, "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576"),
        (
            Some("glibc.malloc.mmap_threshold=65536"),
            "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "data_dir = \"./data\"\n[server]\nlisten = [\"127.0.0.1:{}\"]\n[admin]\nlisten = \"127.0.0.1:{}\"\n[dns]\nchecks = false\n",
            port(()),
            port(())
        );
        std::fs::write(dir.path().join("sendwell.toml"), config).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sendwell"));
        cmd.args(["serve"])
            .current_dir(dir.path())
            .env_remove("GLIBC_TUNABLES")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(g) = given {
            cmd.env("GLIBC_TUNABLES", g);
        }
        let mut child = cmd.spawn().unwrap();
        let environ = format!("/proc/{}/environ", child.id());
        let mut seen = String::new();
        for _ in 0..100 {
            std::thread::sleep(std::time::Duration::from_millis(50));
            seen = String::from_utf8_lossy(&std::fs::read(&environ).unwrap_or_default())
                .split('\0')
                .filter(|v| v.starts_with("GLIBC_TUNABLES="))
                .collect();
            if seen == expected {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(seen, expected);
    }
}

/// Issue 14 §7: `user list`, `passwd` and `remove` work on the `[[users]]`
/// of the config file (the one place users live), leave every other line
/// as it was, and name the user when something is wrong.
#[test]
fn user_list_passwd_and_remove_edit_the_config_file() {
    use argon2::PasswordVerifier;
    let dir = tempfile::tempdir().unwrap();
    let mut file = String::from(
        "# our gateway\n[admin]\nsender_timezone = \"Asia/Shanghai\"\n\n[limits]\nuser_rate = \"200/hour\"\n\n",
    );
    for (name, pw) in [
        ("lin", "first password"),
        ("wang@shop.example", "wang's password"),
    ] {
        let out = sendwell(
            dir.path(),
            &["user", "add", name, "--password-stdin"],
            Some(&format!("{pw}\n")),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        file.push_str(&text(&out.stdout));
        file.push_str("\n\n");
    }
    file = file.replace(
        "name = \"wang@shop.example\"\n",
        "name = \"wang@shop.example\"\ntimezone = \"Europe/Berlin\"\nrate = \"20/hour\"\n",
    );
    file.push_str("# the review page's secret\n[server]\nhostname = \"gw.shop.example\"\n");
    std::fs::write(dir.path().join("sendwell.toml"), &file).unwrap();

    let out = sendwell(dir.path(), &["user", "list"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let row = |who: &str| {
        table
            .lines()
            .find(|l| l.starts_with(who))
            .unwrap_or_else(|| panic!("no row for {who}:\n{table}"))
            .to_string()
    };
    assert!(row("lin ").contains("Asia/Shanghai (default)"), "{table}");
    assert!(row("lin ").contains("200/hour (default)"), "{table}");
    assert!(row("wang@").contains("Europe/Berlin"), "{table}");
    assert!(row("wang@").contains("20/hour"), "{table}");
    assert!(row("wang@").contains("yes"), "{table}");
    let out = sendwell(dir.path(), &["user", "list", "--format", "json"], None);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["users"][1]["name"], "wang@shop.example");
    assert_eq!(json["users"][1]["allowed_from"], "wang@shop.example");
    assert_eq!(json["users"][1]["has_password"], true);
    assert_eq!(json["users"][0]["rate"], "200/hour");

    // A new password for lin, from stdin: the old one stops working.
    let out = sendwell(
        dir.path(),
        &["user", "passwd", "lin", "--password-stdin"],
        Some("second password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (config, _) =
        sendwell::config::Config::load(Some(&dir.path().join("sendwell.toml"))).unwrap();
    let phc = &config.user("lin").unwrap().password_hash;
    let hash = argon2::PasswordHash::new(phc).unwrap();
    let argon = argon2::Argon2::default();
    assert!(argon.verify_password(b"second password", &hash).is_ok());
    assert!(argon.verify_password(b"first password", &hash).is_err());
    let edited = std::fs::read_to_string(dir.path().join("sendwell.toml")).unwrap();
    assert!(edited.starts_with("# our gateway\n"), "{edited}");
    assert!(edited.contains("# the review page's secret\n"), "{edited}");

    // Remove wang: lin and every comment stay.
    let out = sendwell(dir.path(), &["user", "remove", "wang@shop.example"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let edited = std::fs::read_to_string(dir.path().join("sendwell.toml")).unwrap();
    assert!(!edited.contains("wang@shop.example"), "{edited}");
    assert!(edited.contains("name = \"lin\""), "{edited}");
    assert!(
        edited.contains("# the review page's secret\n[server]"),
        "{edited}"
    );
    let out = sendwell(dir.path(), &["config", "check"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Mistakes name the user and what to do.
    let out = sendwell(dir.path(), &["user", "remove", "zhao"], None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("no user zhao") && err.contains("lin") && err.contains("user list"),
        "{err}"
    );
    let out = sendwell(
        dir.path(),
        &["user", "passwd", "lin", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("for lin"),
        "{}",
        text(&out.stderr)
    );
    let empty = tempfile::tempdir().unwrap();
    let out = sendwell(
        empty.path(),
        &["user", "passwd", "lin"],
        Some("long enough pw\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("user add lin"),
        "{}",
        text(&out.stderr)
    );
}

/// Issue 14 §7: without `$USER` (cron, containers) an operator action is
/// recorded under the account's name, never `cli:unknown`.
#[test]
fn cli_actions_name_the_account_without_user_set() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sendwell"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("USER")
            .env_remove("LOGNAME")
            .output()
            .unwrap()
    };
    let out = run(&["suppress", "add", "gone@example.org"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["audit", "search", "--rcpt", "gone@example.org"]);
    let rec: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let actor = rec["actor"].as_str().unwrap().to_string();
    assert!(
        actor.starts_with("cli:") && actor != "cli:unknown" && actor.len() > 4,
        "{actor}"
    );
    // Where `id` runs, the name is the one it gives.
    match Command::new("id").arg("-un").output() {
        Ok(id) if id.status.success() => {
            assert_eq!(actor, format!("cli:{}", text(&id.stdout).trim()));
        }
        _ => assert!(actor.starts_with("cli:uid-"), "{actor}"),
    }
}

/// Issue 14 §5: the code in brackets at the end of a refusal is looked up
/// with `sendwell explain`, in the notices' language or the one asked for.
#[test]
fn explain_prints_the_rule_of_a_refusal_in_the_sellers_language() {
    let dir = tempfile::tempdir().unwrap();
    // The code as the mail program shows it, cut from a real refusal.
    let refusal = sendwell::gateway::replies::catalogue()
        .into_iter()
        .map(|r| r.to_string())
        .find(|r| r.contains("gmial.com"))
        .expect("the typo refusal is in the catalogue");
    let code = &refusal[refusal.rfind('[').expect("a code in brackets")..];
    assert_eq!(code, "[RCPT_TYPO]");

    let out = sendwell(dir.path(), &["explain", code, "--lang", "zh-CN"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let zh = text(&out.stdout);
    assert!(zh.starts_with("RCPT_TYPO\n"), "{zh}");
    for label in ["处理方式：", "检查什么：", "买家为什么在意：", "怎么改："]
    {
        assert!(zh.contains(label), "{label} in {zh}");
    }
    assert!(zh.contains("当场拒发") && zh.contains("gmial.com"), "{zh}");

    let out = sendwell(dir.path(), &["explain", "template_placeholder"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let en = text(&out.stdout);
    assert!(
        en.contains("How it acts: holds the message for review whatever the score (weight 7).")
            && en.contains("How to fix: Replace every field"),
        "{en}"
    );
    assert!(
        !en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{en}"
    );

    // Without --lang: the notices' language, and the rule as configured.
    std::fs::write(
        dir.path().join("sendwell.toml"),
        "[notices]\nlanguage = \"zh-CN\"\n[policy.rules.SUBJECT_EMOJI]\nweight = 3\n",
    )
    .unwrap();
    let out = sendwell(dir.path(), &["explain", "SUBJECT_EMOJI"], None);
    let zh = text(&out.stdout);
    assert!(
        zh.contains("处理方式：分数加 3（满 6 分暂扣待审核，满 12 分拒发）。"),
        "{zh}"
    );
    let out = sendwell(
        dir.path(),
        &["explain", "SUBJECT_EMOJI", "--lang", "en"],
        None,
    );
    assert!(text(&out.stdout).contains("adds 3 to the score"));

    let out = sendwell(dir.path(), &["explain", "SUBJECT_EMOJIS"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean SUBJECT_EMOJI?"),
        "{}",
        text(&out.stderr)
    );
}

/// A tiny Outlook message as classic Outlook saves one: a compound file
/// with the subject, body and a recipient as UTF-16LE property streams
/// ([MS-OXMSG]).
fn write_msg(path: &Path) {
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let mut msg = cfb::create(path).unwrap();
    let mut put = |name: &str, bytes: &[u8]| {
        msg.create_stream(name).unwrap().write_all(bytes).unwrap();
    };
    put("/__substg1.0_0037001F", &utf16("Quote for 500 power banks"));
    put(
        "/__substg1.0_1000001F",
        &utf16("Dear Ms Weber,\r\nplease find our quote below.\r\n"),
    );
    put("/__properties_version1.0", &[0u8; 32]);
    msg.create_storage("/__recip_version1.0_#00000000").unwrap();
    msg.create_stream("/__recip_version1.0_#00000000/__substg1.0_39FE001F")
        .unwrap()
        .write_all(&utf16("weber@example.de"))
        .unwrap();
    msg.flush().unwrap();
}

/// Issue 14 §6: "Outlook: drag it to a folder" makes a `.msg`, which
/// `check` judged as a message with no subject and garbled text. It is
/// recognised and refused with how to save an `.eml`, in the notices'
/// language; an old Office document is told apart.
#[test]
fn check_recognises_an_outlook_msg_and_says_how_to_save_eml() {
    let dir = tempfile::tempdir().unwrap();
    write_msg(&dir.path().join("quote.msg"));
    let raw = std::fs::read(dir.path().join("quote.msg")).unwrap();
    assert_eq!(&raw[..8], &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);

    let out = sendwell(dir.path(), &["check", "--no-dns", "quote.msg"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("quote.msg is an Outlook .msg file")
            && err.contains("Save as (or Download)")
            && err.contains(".eml"),
        "{err}"
    );
    assert!(
        !err.contains("MOJIBAKE") && !text(&out.stdout).contains("MOJIBAKE"),
        "a .msg is not judged: {err}"
    );

    // A compound file without Outlook's streams, e.g. an old .doc.
    let mut doc = cfb::create(dir.path().join("notes.doc")).unwrap();
    doc.create_stream("/WordDocument")
        .unwrap()
        .write_all(&[0u8; 600])
        .unwrap();
    doc.flush().unwrap();
    drop(doc);
    let out = sendwell(dir.path(), &["check", "--no-dns", "notes.doc"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("notes.doc is an Office compound file"),
        "{}",
        text(&out.stderr)
    );

    std::fs::write(
        dir.path().join("sendwell.toml"),
        "[notices]\nlanguage = \"zh-CN\"\n",
    )
    .unwrap();
    let out = sendwell(dir.path(), &["check", "--no-dns", "quote.msg"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("quote.msg 是 Outlook 的 .msg 文件") && err.contains("另存为"),
        "{err}"
    );
}

/// Issue 10 §5, §6: `upstream status` says how each route logs in and
/// through which proxy, and `config check` names a missing OAuth key.
#[test]
fn upstream_status_names_the_login_and_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("refresh"), "r1\n").unwrap();
    let config = "[upstream]\nurl = \"smtp://127.0.0.1:2587\"\nusername = \"li@shop.example\"\n\
         auth = \"xoauth2\"\noauth_token_url = \"http://127.0.0.1:9/token\"\n\
         oauth_client_id = \"app\"\noauth_refresh_token_file = \"refresh\"\n\
         proxy = \"socks5://127.0.0.1:7890\"\n";
    std::fs::write(dir.path().join("sendwell.toml"), config).unwrap();
    let out = sendwell(dir.path(), &["upstream", "status"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("XOAUTH2 as li@shop.example")
            && shown.contains("via socks5://127.0.0.1:7890"),
        "{shown}"
    );
    let out = sendwell(dir.path(), &["config", "check", "sendwell.toml"], None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    let broken = config.replace("oauth_client_id = \"app\"\n", "");
    std::fs::write(dir.path().join("sendwell.toml"), broken).unwrap();
    let out = sendwell(dir.path(), &["config", "check", "sendwell.toml"], None);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("upstream.oauth_client_id") && said.contains("xoauth2"),
        "{said}"
    );
}
