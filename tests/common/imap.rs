//! A private Dovecot IMAP server on loopback, configured in a temporary
//! directory (passwd-file with a plain password, maildir, base and state
//! directories inside it): nothing of the system's Dovecot is touched.
//! Messages go in with IMAP APPEND, flags are read with FETCH FLAGS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use async_imap::Client;
use futures_util::TryStreamExt;
use tokio::net::TcpStream;

pub const DOVECOT: &str = "/usr/sbin/dovecot";
pub const USER: &str = "seller";
pub const PASSWORD: &str = "imap-secret";

/// Whether Dovecot is installed; missing: the caller skips with a note,
/// except under `CI=true`.
pub fn available() -> bool {
    if Path::new(DOVECOT).exists() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("dovecot-imapd is required when CI=true");
    }
    eprintln!("SKIPPED: {DOVECOT} not installed (apt-get install dovecot-imapd)");
    false
}

pub struct Dovecot {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// An RFC 7662 introspection URL: XOAUTH2 logins are checked there
    /// (Dovecot's oauth2 passdb), as a provider's IMAP server does.
    oauth: Option<String>,
}

fn unix_user() -> (String, String, bool) {
    let out = |args: &[&str]| {
        String::from_utf8(Command::new("id").args(args).output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string()
    };
    let root = out(&["-u"]) == "0";
    (out(&["-un"]), out(&["-gn"]), root)
}

impl Dovecot {
    /// Writes the config under `dir` and starts Dovecot on a free port.
    pub async fn start(dir: &Path) -> Dovecot {
        Dovecot::start_with(dir, None).await
    }

    /// [`Dovecot::start`], also taking XOAUTH2 logins whose tokens
    /// `introspection_url` says are active.
    pub async fn start_oauth(dir: &Path, introspection_url: &str) -> Dovecot {
        Dovecot::start_with(dir, Some(introspection_url.to_string())).await
    }

    async fn start_with(dir: &Path, oauth: Option<String>) -> Dovecot {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut d = Dovecot {
            port,
            dir: dir.to_path_buf(),
            child: None,
            oauth,
        };
        d.write_config();
        d.spawn().await;
        d
    }

    fn write_config(&self) {
        let dir = &self.dir;
        let (user, group, root) = unix_user();
        // Dovecot refuses to run its login processes or a mail user as root:
        // as root the test runs them as the system's unprivileged users.
        let (login_user, internal_user, mail_user, mail_group) = if root {
            (
                "dovenull".to_string(),
                "dovecot".to_string(),
                "nobody".to_string(),
                "nogroup".to_string(),
            )
        } else {
            (user.clone(), user.clone(), user, group)
        };
        for sub in ["run", "state", "mail", "home"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        if root {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            let uid = |name: &str, flag: &str| -> u32 {
                String::from_utf8(
                    Command::new("id")
                        .args([flag, name])
                        .output()
                        .unwrap()
                        .stdout,
                )
                .unwrap()
                .trim()
                .parse()
                .unwrap()
            };
            for sub in ["mail", "home"] {
                std::os::unix::fs::chown(
                    dir.join(sub),
                    Some(uid(&mail_user, "-u")),
                    Some(uid(&mail_user, "-g")),
                )
                .unwrap();
            }
        }
        std::fs::write(dir.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        let d = dir.display();
        let (mechanisms, oauth_passdb) = match &self.oauth {
            None => ("plain login", String::new()),
            Some(url) => {
                std::fs::write(
                    dir.join("oauth2.conf.ext"),
                    format!(
                        "introspection_mode = post\nintrospection_url = {url}\n\
                         username_attribute = username\nactive_attribute = active\nactive_value = true\n"
                    ),
                )
                .unwrap();
                (
                    "plain login xoauth2",
                    format!(
                        "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2\n  args = {d}/oauth2.conf.ext\n}}\n"
                    ),
                )
            }
        };
        let conf = format!(
            "base_dir = {d}/run\n\
             state_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n\
             protocols = imap\n\
             listen = 127.0.0.1\n\
             ssl = no\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = {mechanisms}\n\
             default_login_user = {login_user}\n\
             default_internal_user = {internal_user}\n\
             mail_location = maildir:{d}/mail/%u\n\
             {oauth_passdb}\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_user} gid={mail_group} home={d}/home/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            port = self.port,
        );
        std::fs::write(dir.join("dovecot.conf"), conf).unwrap();
    }

    async fn spawn(&mut self) {
        let _ = std::fs::remove_file(self.dir.join("run/master.pid"));
        use std::os::unix::process::CommandExt;
        let child = Command::new(DOVECOT)
            // Its own process group: stopping it ends the imap processes
            // too, which outlive their master otherwise.
            .process_group(0)
            .arg("-c")
            .arg(self.dir.join("dovecot.conf"))
            .arg("-F")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        self.child = Some(child);
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default();
        panic!("dovecot did not start on port {}:\n{log}", self.port);
    }

    /// Stops the server (its master process and, with it, the children).
    pub async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            kill_group(&mut c);
        }
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts it again on the same port with the same mail.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.spawn().await;
    }

    pub fn url(&self) -> String {
        format!("imap://127.0.0.1:{}", self.port)
    }

    async fn session(&self) -> async_imap::Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = Client::new(tcp);
        client.read_response().await.unwrap();
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    }

    /// APPENDs a message to `folder` with `flags` (e.g. `(\Seen)`).
    pub async fn append(&self, folder: &str, flags: Option<&str>, raw: &str) {
        let mut s = self.session().await;
        let raw = raw.replace("\r\n", "\n").replace('\n', "\r\n");
        s.append(folder, flags, None, raw.as_bytes()).await.unwrap();
        s.logout().await.unwrap();
    }

    /// APPENDs many messages over one connection.
    pub async fn append_many(&self, folder: &str, raws: impl Iterator<Item = String>) {
        let mut s = self.session().await;
        for raw in raws {
            let raw = raw.replace("\r\n", "\n").replace('\n', "\r\n");
            s.append(folder, None, None, raw.as_bytes()).await.unwrap();
        }
        s.logout().await.unwrap();
    }

    /// Every message's flags in `folder`, by UID (read-only).
    pub async fn flags(&self, folder: &str) -> Vec<(u32, Vec<String>)> {
        let mut s = self.session().await;
        s.examine(folder).await.unwrap();
        let fetched: Vec<_> = s
            .uid_fetch("1:*", "(UID FLAGS)")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut out: Vec<(u32, Vec<String>)> = fetched
            .iter()
            .map(|f| {
                let flags = f
                    .flags()
                    .map(|fl| format!("{fl:?}"))
                    .filter(|fl| fl != "Recent")
                    .collect();
                (f.uid.unwrap_or(0), flags)
            })
            .collect();
        out.sort();
        s.logout().await.unwrap();
        out
    }
}

/// SIGTERM to the server's process group (the master and every imap
/// process it started, and nothing else).
fn kill_group(c: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg("--")
        .arg(format!("-{}", c.id()))
        .status();
    let _ = c.wait();
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            kill_group(&mut c);
        }
    }
}
