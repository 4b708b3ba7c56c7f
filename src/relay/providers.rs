//! Provider presets: `provider = "…"` in `[upstream]` or a route fills in
//! the keys the operator left out — where the provider takes mail and the
//! limits it enforces — so the courier paces a route within them instead of
//! learning them from refusals. Every key stays overridable. Sources are
//! the providers' own published pages (named per preset; the README table
//! repeats them). Pure data; knows nothing of the wire.

/// One provider's settings, as `[upstream]` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    pub url: &'static str,
    /// Simultaneous connections per account.
    pub connections: usize,
    /// Messages per minute per account, when published.
    pub per_minute: Option<u32>,
    /// Recipients per day per account, when published.
    pub per_day: Option<u32>,
    /// Recipients one message may have.
    pub max_rcpts_per_message: Option<usize>,
    /// XOAUTH2 (`auth = "xoauth2"`): the token endpoint and the scopes to
    /// ask for, when the provider takes OAuth logins over SMTP.
    pub oauth: Option<(&'static str, &'static str)>,
}

/// The presets. Limits are the published defaults for a paid business
/// account; a smaller account or a raised quota is set with the keys.
pub const PRESETS: &[Preset] = &[
    // Microsoft 365 "Exchange Online limits" (learn.microsoft.com, Sending
    // limits): 30 messages a minute, 10,000 recipients a day, 500
    // recipients per message; "Concurrent connections … 3" per mailbox
    // (432 4.3.2 beyond). SMTP AUTH client submission: smtp.office365.com:587, STARTTLS.
    Preset {
        name: "microsoft365",
        url: "smtp://smtp.office365.com:587",
        connections: 3,
        per_minute: Some(30),
        per_day: Some(10_000),
        max_rcpts_per_message: Some(500),
        oauth: Some((
            // learn.microsoft.com "Authenticate an IMAP, POP or SMTP connection using OAuth":
            // the v2.0 endpoint ("organizations" for work accounts; put
            // your tenant id in oauth_token_url to pin it) and SMTP.Send.
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
            "https://outlook.office.com/SMTP.Send offline_access",
        )),
    },
    // Google Workspace "Gmail sending limits in Google Workspace"
    // (support.google.com/a/answer/166852): 2,000 messages a day per user;
    // 100 recipients per message sent by SMTP. smtp.gmail.com:587 STARTTLS.
    Preset {
        name: "google",
        url: "smtp://smtp.gmail.com:587",
        connections: 3,
        per_minute: None,
        per_day: Some(2_000),
        max_rcpts_per_message: Some(100),
        oauth: Some((
            // developers.google.com/gmail/imap/xoauth2-protocol: scope
            // https://mail.google.com/ for SMTP and IMAP.
            "https://oauth2.googleapis.com/token",
            "https://mail.google.com/",
        )),
    },
    // Google Workspace "SMTP relay service sending limits"
    // (support.google.com/a/answer/2956491): 10,000 recipients per user a
    // day, 100 recipients per message. smtp-relay.gmail.com:587 STARTTLS.
    Preset {
        name: "google-relay",
        url: "smtp://smtp-relay.gmail.com:587",
        connections: 4,
        per_minute: None,
        per_day: Some(10_000),
        max_rcpts_per_message: Some(100),
        oauth: None,
    },
    // Amazon SES "Service quotas" (docs.aws.amazon.com/ses): a new account
    // (sandbox) sends 200 messages a day at 1 a second; 50 recipients per
    // message. The endpoint is per region: set `url` to yours.
    Preset {
        name: "ses",
        url: "smtp://email-smtp.us-east-1.amazonaws.com:587",
        connections: 4,
        per_minute: Some(60),
        per_day: Some(200),
        max_rcpts_per_message: Some(50),
        oauth: None,
    },
    // Alibaba Mail (Aliyun enterprise mail, qiye.aliyun.com help centre):
    // SMTP smtp.qiye.aliyun.com, SSL on 465. Its budgets depend on the
    // edition and are not published as numbers: set per_day yourself.
    Preset {
        name: "alibaba",
        url: "smtps://smtp.qiye.aliyun.com:465",
        connections: 2,
        per_minute: None,
        per_day: None,
        max_rcpts_per_message: None,
        oauth: None,
    },
    // Tencent Exmail (exmail.qq.com help "client settings"): smtp.exmail.qq.com,
    // SSL on 465 (overseas: hwsmtp.exmail.qq.com). Budgets per edition,
    // not published as numbers.
    Preset {
        name: "tencent",
        url: "smtps://smtp.exmail.qq.com:465",
        connections: 2,
        per_minute: None,
        per_day: None,
        max_rcpts_per_message: None,
        oauth: None,
    },
    // NetEase enterprise mail (qiye.163.com help): smtp.qiye.163.com, SSL on
    // 465; 163/126 personal mail: smtp.163.com / smtp.126.com with an
    // authorisation code. From must be the login.
    Preset {
        name: "netease",
        url: "smtps://smtp.qiye.163.com:465",
        connections: 2,
        per_minute: None,
        per_day: None,
        max_rcpts_per_message: None,
        oauth: None,
    },
    // Zoho Mail (zoho.com/mail/help/zoho-smtp.html): smtp.zoho.com, SSL on
    // 465 (China data centre: smtp.zoho.com.cn; EU: smtp.zoho.eu).
    Preset {
        name: "zoho",
        url: "smtps://smtp.zoho.com:465",
        connections: 2,
        per_minute: None,
        per_day: None,
        max_rcpts_per_message: None,
        oauth: None,
    },
];

/// The preset called `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names, for an error message.
pub fn names() -> String {
    PRESETS
        .iter()
        .map(|p| format!("\"{}\"", p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fills the keys `table` (an `[upstream]` or route table) leaves out from
/// its `provider`'s preset. An unknown provider is left for validation to
/// name.
pub fn fill(table: &mut toml::Table) {
    let Some(p) = table
        .get("provider")
        .and_then(|v| v.as_str())
        .and_then(preset)
    else {
        return;
    };
    let mut set = |key: &str, value: toml::Value| {
        table.entry(key.to_string()).or_insert(value);
    };
    set("url", p.url.into());
    set("require_tls", true.into());
    set(
        "connections",
        i64::try_from(p.connections).unwrap_or(1).into(),
    );
    if let Some(n) = p.per_minute {
        set("per_minute", i64::from(n).into());
    }
    if let Some(n) = p.per_day {
        set("per_day", i64::from(n).into());
    }
    if let Some((url, scope)) = p.oauth {
        set("oauth_token_url", url.into());
        set("oauth_scope", scope.into());
    }
    if let Some(n) = p.max_rcpts_per_message {
        set(
            "max_rcpts_per_message",
            i64::try_from(n).unwrap_or(1).into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preset_fills_only_what_is_left_out() {
        let mut t: toml::Table = "provider = \"microsoft365\"\nconnections = 1\n"
            .parse()
            .unwrap();
        fill(&mut t);
        assert_eq!(t["url"].as_str(), Some("smtp://smtp.office365.com:587"));
        assert_eq!(t["connections"].as_integer(), Some(1));
        assert_eq!(t["per_minute"].as_integer(), Some(30));
        assert_eq!(t["require_tls"].as_bool(), Some(true));
        assert_eq!(
            t["oauth_scope"].as_str(),
            Some("https://outlook.office.com/SMTP.Send offline_access")
        );
        for p in PRESETS {
            assert!(p.connections >= 1, "{}", p.name);
        }
    }
}
