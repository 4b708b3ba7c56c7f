//! `sendwell user …`: the accounts that may AUTH. They live in one place,
//! the `[[users]]` entries of the config file (there is no user table in
//! the store): `add` prints an entry to paste, `list` reads them, `passwd`
//! and `remove` edit that file in place, leaving every other line and
//! comment as it was, and check the result before writing it. A running
//! server takes the change on reload (SIGHUP, `systemctl reload sendwell`).

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde::Deserialize;
use serde_json::json;

use super::check::Format;
use crate::config::Config;

/// Shortest password accepted: the door is on the network.
const MIN_PASSWORD_LEN: usize = 8;

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Hash a password for NAME and print the [[users]] entry to paste into sendwell.toml.
    Add {
        name: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// The users in the config file: time zone, sending rate, allowed From, password set.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Give NAME a new password (prompted twice, or one line from stdin); edits the config file.
    Passwd {
        name: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Take NAME's [[users]] entry out of the config file.
    Remove { name: String },
}

pub fn run(config_path: Option<&Path>, cmd: UserCmd) -> Result<ExitCode> {
    match cmd {
        UserCmd::Add {
            name,
            password_stdin,
        } => add(&name, password_stdin),
        UserCmd::List { format } => {
            let (config, _) = Config::load(config_path)?;
            list(&config, format)
        }
        UserCmd::Passwd {
            name,
            password_stdin,
        } => {
            let path = file_with_users(config_path, &name)?;
            let text = read(&path)?;
            let entry = find(&text, &path, &name)?;
            let password = read_password(&name, password_stdin)?;
            let hash = hash(&password)?;
            let mut new = text.clone();
            new.replace_range(entry.password_hash.clone(), &toml_string(&hash));
            let config = check_and_write(&path, &new)?;
            if config.user(&name).map(|u| u.password_hash.as_str()) != Some(hash.as_str()) {
                bail!(
                    "{}: the new password of {name} did not take",
                    path.display()
                );
            }
            println!(
                "{name}: new password saved in {}; reload the server (systemctl reload sendwell, or SIGHUP) for it to count",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        UserCmd::Remove { name } => {
            let path = file_with_users(config_path, &name)?;
            let text = read(&path)?;
            let entry = find(&text, &path, &name)?;
            let Some(block) = block_of(&text, entry.name.start) else {
                bail!(
                    "{}: {name} is not written as a [[users]] table (an inline list?): remove it by hand",
                    path.display()
                );
            };
            let mut new = text.clone();
            new.replace_range(block, "");
            let config = check_and_write(&path, &new)?;
            if config.user(&name).is_some() {
                bail!(
                    "{}: {name} is still there; remove it by hand",
                    path.display()
                );
            }
            println!(
                "{name}: removed from {}; reload the server (systemctl reload sendwell, or SIGHUP) to close the account",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn add(name: &str, password_stdin: bool) -> Result<ExitCode> {
    if name.is_empty() || name.contains(char::is_whitespace) {
        bail!("a user name needs at least one character and no spaces");
    }
    let password = read_password(name, password_stdin)?;
    let hash = hash(&password)?;
    println!(
        "[[users]]\nname = {}\npassword_hash = \"{hash}\"\n\
         # allowed_from = [\"*@your-domain.example\"]  # unset: the login itself when it is an address\n\
         # rate = \"300/hour\"                         # unset: limits.user_rate\n\
         # timezone = \"Asia/Shanghai\"                # unset: admin.sender_timezone, else this machine's",
        toml_string(name)
    );
    Ok(ExitCode::SUCCESS)
}

fn list(config: &Config, format: Format) -> Result<ExitCode> {
    let default_zone = config.admin.sender_timezone.clone().unwrap_or_else(|| {
        match jiff::tz::TimeZone::system().iana_name() {
            Some(z) => format!("{z} (this machine)"),
            None => "this machine's".to_string(),
        }
    });
    let rows: Vec<_> = config
        .users
        .iter()
        .map(|u| {
            let has_password = argon2::password_hash::PasswordHash::new(&u.password_hash).is_ok();
            let allowed = u.allowed_from().map(|a| a.join(", "));
            (u, has_password, allowed)
        })
        .collect();
    match format {
        Format::Json => {
            let users: Vec<_> = rows
                .iter()
                .map(|(u, has_password, allowed)| {
                    json!({
                        "name": u.name,
                        "timezone": u.timezone.clone().or(config.admin.sender_timezone.clone()),
                        "timezone_own": u.timezone.is_some(),
                        "rate": config.user_rate(&u.name).to_string(),
                        "rate_own": u.rate.is_some(),
                        "allowed_from": allowed,
                        "has_password": has_password,
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "users": users }))?
            );
        }
        Format::Text if rows.is_empty() => {
            println!(
                "no users{}: only trusted_networks may send; add one with `sendwell user add NAME`",
                match &config.source {
                    Some(p) => format!(" in {}", p.display()),
                    None => " (no config file)".to_string(),
                }
            );
        }
        Format::Text => {
            let own = |v: Option<&String>, dflt: String| match v {
                Some(v) => v.clone(),
                None => format!("{dflt} (default)"),
            };
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|(u, has_password, allowed)| {
                    vec![
                        u.name.clone(),
                        own(u.timezone.as_ref(), default_zone.clone()),
                        match u.rate {
                            Some(r) => r.to_string(),
                            None => format!("{} (default)", config.limits.user_rate),
                        },
                        allowed.clone().unwrap_or_else(|| "anything".to_string()),
                        if *has_password { "yes" } else { "NO" }.to_string(),
                    ]
                })
                .collect();
            print!(
                "{}",
                crate::display::table(
                    &["NAME", "TIMEZONE", "RATE", "MAY SEND AS", "PASSWORD"],
                    &table
                )
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The password, from a prompt (asked twice) or the first line of stdin.
fn read_password(name: &str, password_stdin: bool) -> Result<String> {
    let password = if password_stdin || !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the password from standard input")?;
        s.lines().next().unwrap_or_default().to_string()
    } else {
        let p = rpassword::prompt_password(format!("password for {name}: "))?;
        let again = rpassword::prompt_password("again: ")?;
        if p != again {
            bail!("the two passwords for {name} differ: nothing changed, try again");
        }
        p
    };
    if password.chars().count() < MIN_PASSWORD_LEN {
        bail!("use a password of at least {MIN_PASSWORD_LEN} characters for {name}");
    }
    Ok(password)
}

/// An argon2id PHC string with a fresh salt.
fn hash(password: &str) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| anyhow::anyhow!("cannot make a salt: {e}"))?;
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    Ok(hash.to_string())
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The config file to edit; a command that changes users needs one.
fn file_with_users(config_path: Option<&Path>, name: &str) -> Result<PathBuf> {
    match Config::load(config_path)? {
        (_, Some(path)) => Ok(path),
        (_, None) => bail!(
            "no {} here, so there are no users to change ({name} included): \
             pass --config FILE, or create one with `sendwell user add {name}`",
            Config::DEFAULT_PATH
        ),
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Where a user's entry sits in the file's text (byte ranges of its values).
struct Entry {
    name: std::ops::Range<usize>,
    password_hash: std::ops::Range<usize>,
}

fn find(text: &str, path: &Path, name: &str) -> Result<Entry> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        users: Vec<Spanned>,
    }
    #[derive(Deserialize)]
    struct Spanned {
        name: toml::Spanned<String>,
        password_hash: toml::Spanned<String>,
    }
    let doc: Doc = toml::from_str(text)
        .with_context(|| format!("{}: cannot read its [[users]]", path.display()))?;
    let names: Vec<&str> = doc
        .users
        .iter()
        .map(|u| u.name.get_ref().as_str())
        .collect();
    match doc.users.iter().find(|u| u.name.get_ref() == name) {
        Some(u) => Ok(Entry {
            name: u.name.span(),
            password_hash: u.password_hash.span(),
        }),
        None if names.is_empty() => bail!(
            "no user {name} in {}: it has no [[users]] at all (add one with `sendwell user add {name}`)",
            path.display()
        ),
        None => bail!(
            "no user {name} in {} (there: {}); see `sendwell user list`",
            path.display(),
            names.join(", ")
        ),
    }
}

/// The lines of the `[[users]]` table holding `at`: from its header to the
/// next header, leaving blank and comment lines before that header (they
/// belong to what follows). `None` when `at` is not in such a table.
fn block_of(text: &str, at: usize) -> Option<std::ops::Range<usize>> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    starts.retain(|&s| s < text.len());
    let line = |s: usize| {
        let end = text.get(s..)?.find('\n').map_or(text.len(), |e| s + e + 1);
        Some((s, end, text.get(s..end)?.trim()))
    };
    let header = starts
        .iter()
        .rev()
        .filter(|&&s| s <= at)
        .filter_map(|&s| line(s))
        .find(|(_, _, l)| l.starts_with('['))?;
    let (start, _, head) = header;
    if head.split('#').next()?.trim() != "[[users]]" {
        return None;
    }
    let mut end = start;
    for (_, e, l) in starts
        .iter()
        .filter(|&&s| s > start)
        .filter_map(|&s| line(s))
    {
        if l.starts_with('[') {
            break;
        }
        if !l.is_empty() && !l.starts_with('#') {
            end = e;
        }
    }
    let header_end = line(start)?.1;
    Some(start..end.max(header_end))
}

/// Checks the edited text as `config check` would, then replaces the file
/// (a new file renamed over it, with the old one's permissions).
fn check_and_write(path: &Path, text: &str) -> Result<Config> {
    let config = Config::parse(text, path).with_context(|| {
        format!(
            "{}: the edit would break it; nothing changed",
            path.display()
        )
    })?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sendwell.toml".into());
    let tmp = dir
        .unwrap_or(Path::new("."))
        .join(format!(".{file_name}.sendwell-new"));
    let perms = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions();
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write next to {}", path.display()))?;
        f.set_permissions(perms)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "[server]\nhostname = \"gw.example\"\n\n\
        [[users]]\nname = \"lin\"\npassword_hash = \"x\"\n# Wang in sales\n\n\
        [[users]] # the second\nname = \"wang\"\npassword_hash = \"y\"\nrate = \"10/hour\"\n\n\
        # the page\n[admin]\nenabled = true\n";

    #[test]
    fn a_block_is_its_header_and_keys_without_the_comments_after() {
        let at = FILE.find("\"lin\"").unwrap();
        let b = block_of(FILE, at).unwrap();
        assert_eq!(
            &FILE[b],
            "[[users]]\nname = \"lin\"\npassword_hash = \"x\"\n"
        );
        let at = FILE.find("\"wang\"").unwrap();
        let b = block_of(FILE, at).unwrap();
        assert_eq!(
            &FILE[b],
            "[[users]] # the second\nname = \"wang\"\npassword_hash = \"y\"\nrate = \"10/hour\"\n"
        );
        let at = FILE.find("\"gw.example\"").unwrap();
        assert_eq!(block_of(FILE, at), None);
    }
}
