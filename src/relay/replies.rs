//! Reply rules: what a provider's refusal *means*, read from its words and
//! enhanced status code, not only from its first digit. A refusal of the
//! recipient bounces that copy; a refusal of the *account* (daily quota,
//! wrong password, sending blocked) pauses the route, because every other
//! copy would be refused the same way; anything else is tried again.
//!
//! [`ReplyRules::classify`] is pure: reply text in, [`Verdict`] out. The
//! rules an operator writes (`[[upstream.reply_rules]]`) are tried first, in
//! order, then the built-in table below, then the reply's class (5xx bounces,
//! anything else is retried). Knows nothing of the store or of sockets.

use std::time::Duration;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

/// What to do with a copy the upstream refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Try this copy again later (backoff schedule).
    Retry,
    /// The account cannot send now: stop sending through this route, keep
    /// every copy queued, probe with one message per interval.
    Pause,
    /// This recipient will never take it: bounce the copy.
    Bounce,
}

/// Why a route is paused, as the operator and the sender are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PauseKind {
    /// A sending limit (daily quota, rate): it ends by itself.
    Quota,
    /// The upstream refused our login: it ends when the credentials change
    /// (config reload) or an operator resumes the route.
    Login,
    /// The provider blocked the account: an operator has to look.
    Blocked,
}

impl PauseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseKind::Quota => "quota",
            PauseKind::Login => "login",
            PauseKind::Blocked => "blocked",
        }
    }
}

/// The outcome of [`ReplyRules::classify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    /// For [`Action::Pause`]: why.
    pub kind: PauseKind,
    /// For [`Action::Pause`]: how long before the first probe; `None` means
    /// the route's `probe_interval`.
    pub pause: Option<Duration>,
    /// Which rule decided: `"config #2"`, `"google quota"`, or `"class"`.
    pub rule: String,
}

/// One rule as written in the config:
/// `[[upstream.reply_rules]] match = "regex", action = "pause", pause = "1h"`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReplyRuleConfig {
    /// A regular expression (case-insensitive) over the reply as stored:
    /// `"550 5.4.5 Daily user sending limit exceeded …"`.
    #[serde(rename = "match")]
    pub pattern: String,
    pub action: Action,
    /// How long a pause lasts before the first probe (`action = "pause"`
    /// only); the route's `probe_interval` when unset.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub pause: Option<Duration>,
    /// `quota` (default), `login` or `blocked`: what the notice and
    /// `sendwell upstream status` say about the pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<PauseKind>,
}

struct Rule {
    name: String,
    re: Regex,
    action: Action,
    kind: PauseKind,
    pause: Option<Duration>,
}

/// The compiled rules of one route: config rules first, then the built-ins.
pub struct ReplyRules {
    rules: Vec<Rule>,
}

/// A config rule whose regex does not compile.
#[derive(Debug, thiserror::Error)]
#[error(
    "upstream.reply_rules[{index}].match: {pattern:?} is not a valid regular expression: {reason}"
)]
pub struct RuleError {
    pub index: usize,
    pub pattern: String,
    pub reason: String,
}

use Action::{Bounce, Pause, Retry};
use PauseKind::{Blocked, Login, Quota};

/// A pause that has no better hint from the provider: a short rate limit.
const RATE_PAUSE: Duration = Duration::from_secs(15 * 60);

/// The built-in table: (name, regex, action, pause kind, pause length).
/// First match wins, so the narrow provider rules come before the generic
/// wordings. Each regex is matched case-insensitively against the reply
/// as stored (`"CODE X.Y.Z text"`).
const BUILT_IN: &[(&str, &str, Action, PauseKind, Option<Duration>)] = &[
    // --- Google (Gmail / Workspace, smtp.gmail.com and smtp-relay.gmail.com)
    // Source: "Gmail SMTP errors and codes", support.google.com/a/answer/3726730;
    // "Gmail sending limits in Google Workspace", support.google.com/a/answer/166852.
    // "550 5.4.5 Daily user sending limit exceeded." / "Daily SMTP relay limit exceeded for user/customer."
    (
        "google daily limit",
        r"^5\d\d[ -]5\.4\.5\b|daily (user )?(smtp relay )?sending limit exceeded|daily smtp relay limit exceeded",
        Pause,
        Quota,
        None,
    ),
    // "454 4.7.0 Too many login attempts, please try again later."
    (
        "google login attempts",
        r"too many login attempts",
        Pause,
        Login,
        Some(Duration::from_secs(3600)),
    ),
    // "535 5.7.8 Username and Password not accepted." / "534 5.7.9 Application-specific password required." /
    // "534 5.7.14 Please log in via your web browser"
    (
        "google login",
        r"^53[45][ -]5\.7\.(8|9|14)\b",
        Pause,
        Login,
        None,
    ),
    // "421 4.7.0 Try again later, closing connection." / "421 4.7.28 … unusual rate of unsolicited mail"
    (
        "google unusual rate",
        r"^4\d\d[ -]4\.7\.28\b|unusual rate of",
        Pause,
        Quota,
        Some(RATE_PAUSE),
    ),
    // "550 5.7.1 … Invalid credentials for relay" (SMTP relay service, IP not registered)
    (
        "google relay denied",
        r"invalid credentials for relay",
        Pause,
        Blocked,
        None,
    ),
    // --- Microsoft 365 / Exchange Online (smtp.office365.com)
    // Source: "Fix email delivery issues for error code 5.2.0 / 5.7.60 / 5.7.139 / 5.1.8 / 5.7.501-503
    // in Exchange Online", learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/.
    // "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message …"
    (
        "microsoft365 submission quota",
        r"SubmissionQuotaExceeded|submission quota",
        Pause,
        Quota,
        None,
    ),
    // "550 5.7.60 SMTP; Client does not have permissions to send as this sender": this sender,
    // every recipient; the copy can never go as it is, the sender must learn it.
    (
        "microsoft365 send as",
        r"^5\d\d[ -]5\.7\.60\b|permissions? to send as this sender",
        Bounce,
        Quota,
        None,
    ),
    // "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
    // "535 5.7.3 Authentication unsuccessful"
    (
        "microsoft365 login",
        r"^535[ -]5\.7\.(139|3)\b|SmtpClientAuthentication is disabled",
        Pause,
        Login,
        None,
    ),
    // "550 5.1.8 Access denied, bad outbound sender" (account restricted for spam);
    // "550 5.7.501/502/503 Service unavailable. Spam abated / banned sender";
    // "554 5.7.750 Service unavailable. Client blocked from sending from unregistered domains"
    (
        "microsoft365 blocked",
        r"^5\d\d[ -]5\.(1\.8|7\.50[123]|7\.750)\b|bad outbound sender",
        Pause,
        Blocked,
        None,
    ),
    // "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded" (3 connections per mailbox)
    (
        "microsoft365 concurrency",
        r"^4\d\d[ -]4\.3\.2\b|sender thread limit exceeded",
        Retry,
        Quota,
        None,
    ),
    // "451 4.7.500-699 Access denied, please try again later" (IP reputation, temporary): retry.
    // --- Amazon SES (email-smtp.<region>.amazonaws.com)
    // Source: "SMTP response codes returned by Amazon SES", docs.aws.amazon.com/ses/latest/dg/troubleshoot-smtp.html
    // "454 Throttling failure: Daily message quota exceeded."
    (
        "ses daily quota",
        r"daily message quota exceeded",
        Pause,
        Quota,
        None,
    ),
    // "454 Throttling failure: Maximum sending rate exceeded."
    (
        "ses rate",
        r"maximum sending rate exceeded",
        Retry,
        Quota,
        None,
    ),
    // "535 Authentication Credentials Invalid"
    (
        "ses login",
        r"^535\b.*credentials invalid",
        Pause,
        Login,
        None,
    ),
    // "554 Account is paused" / "554 Sending suspended for this account"
    (
        "ses suspended",
        r"sending (is )?(paused|suspended)|account is (paused|suspended)",
        Pause,
        Blocked,
        None,
    ),
    // --- Alibaba Mail (smtp.qiye.aliyun.com, smtp.mxhichina.com)
    // Source: Alibaba Mail help "SMTP 退信代码" (help.aliyun.com, qiye.aliyun.com/help);
    // "554 5.7.1 … ANTISPAM_BAT_… Sent too frequently" / "… too frequently sending".
    (
        "alibaba frequency",
        r"ANTISPAM_BAT",
        Pause,
        Quota,
        Some(RATE_PAUSE),
    ),
    // "550 … Mail sent by this account has exceeded the daily limit" (发信数量超过限制)
    (
        "alibaba daily limit",
        r"exceed(ed)? the daily (limit|quota)|发信数量超过限制|超过每日",
        Pause,
        Quota,
        None,
    ),
    // "526 Authentication failure[0]"
    (
        "alibaba login",
        r"^526\b.*authentication fail",
        Pause,
        Login,
        None,
    ),
    // --- Tencent Exmail (smtp.exmail.qq.com, hwsmtp.exmail.qq.com)
    // Source: Tencent Exmail help "发信错误代码" (open.work.weixin.qq.com/help2, exmail.qq.com/qy_mng_logic/doc).
    // "550 Ip frequency limited" / "550 Domain frequency limited" / "550 Connection frequency limited"
    (
        "tencent frequency",
        r"(ip|domain|connection|mail(box)?) frequency limited",
        Pause,
        Quota,
        Some(RATE_PAUSE),
    ),
    // "550 … exceed the limit of sending" / "554 … daily sending limit"
    (
        "tencent daily limit",
        r"exceed(ed)? (the )?(limit of sending|sending limit)",
        Pause,
        Quota,
        None,
    ),
    // "535 Login Fail. Please enter your authorization code to login" / "535 Error: authentication failed"
    (
        "tencent login",
        r"^535\b.*(login fail|authorization code)",
        Pause,
        Login,
        None,
    ),
    // --- NetEase (smtp.163.com, smtp.126.com, smtp.qiye.163.com)
    // Source: "企业退信的常见问题" / "网易邮箱退信代码说明", help.mail.163.com/faq.do?m=list&categoryID=90.
    // "550 MI:STC 发件人当天内累计邮件数量超过限制" / "550 RP:TRC 发件人当天内累计收件人数量超过限制"
    (
        "netease daily limit",
        r"\b(MI:STC|RP:TRC|MI:SFQ)\b",
        Pause,
        Quota,
        None,
    ),
    // "451 MI:CEL / RP:CEL / RP:DRC / RP:QRC / MI:DMC" (too many recipients, connections or commands): retry.
    (
        "netease rate",
        r"\b(MI:CEL|RP:CEL|RP:DRC|RP:QRC|MI:DMC|HL:I[CF]C|HL:REP)\b",
        Retry,
        Quota,
        None,
    ),
    // "554 DT:SPM …" is a content refusal of this message: the class decides (bounce).
    // "550 User has no permission" (SMTP not enabled for the mailbox)
    (
        "netease no permission",
        r"^550\b.*user has no permission",
        Pause,
        Blocked,
        None,
    ),
    // "554 IP is rejected, smtp auth error limit exceed"
    (
        "netease auth limit",
        r"auth error limit exceed",
        Pause,
        Login,
        Some(Duration::from_secs(3600)),
    ),
    // --- Zoho Mail (smtp.zoho.com, smtp.zoho.com.cn, smtppro.zoho.*)
    // Source: "SMTP Error Codes", zoho.com/mail/help/smtp-error-codes.html (names as quoted there).
    // "550 5.4.6 Unusual sending activity detected. Please try after sometime."
    (
        "zoho unusual activity",
        r"^5\d\d[ -]5\.4\.6\b|unusual sending activity",
        Pause,
        Quota,
        Some(Duration::from_secs(3600)),
    ),
    // "554 5.1.8 Email Outgoing Blocked." (account blocked for outgoing mail)
    (
        "zoho blocked",
        r"outgoing (mail |email )?blocked",
        Pause,
        Blocked,
        None,
    ),
    // --- Generic wordings, any provider (RFC 3463 / RFC 4954 codes and common texts)
    // RFC 4954 §6: "535 5.7.8 Authentication credentials invalid"; "530 5.7.0 Authentication required";
    // "454 4.7.0 Temporary authentication failure" (a try-again, not a wrong password).
    (
        "login refused",
        r"^535\b|^5\d\d[ -]5\.7\.8\b|^530[ -]5\.7\.0\b|upstream refused our AUTH",
        Pause,
        Login,
        None,
    ),
    (
        "quota",
        r"\b(daily|hourly|sending|submission|send|outbound|message)\s+(quota|limit)\b.*(exceed|reach)|\b(quota|limit)\s+(exceeded|reached)\b.*\b(daily|per day|sending)\b|\b(reached|exceeded)\b.*\b(daily|hourly|sending|submission)\s+(quota|limit)\b",
        Pause,
        Quota,
        None,
    ),
    (
        "too frequent",
        r"too (frequent(ly)?|fast)|frequency limit",
        Pause,
        Quota,
        Some(RATE_PAUSE),
    ),
    (
        "rate",
        r"\brate[- ]?limit|\bthrottl|too many (messages|mails|emails|recipients)",
        Retry,
        Quota,
        None,
    ),
    (
        "too many connections",
        r"too many (concurrent |simultaneous )?(connections|sessions)|connection limit",
        Retry,
        Quota,
        None,
    ),
    (
        "try later",
        r"try (again )?later|try after some ?time|temporar(il)?y (deferred|unavailable|rejected)",
        Retry,
        Quota,
        None,
    ),
];

impl ReplyRules {
    /// The built-in rules behind the config's `rules`.
    pub fn new(rules: &[ReplyRuleConfig]) -> Result<ReplyRules, RuleError> {
        let mut out = Vec::with_capacity(rules.len() + BUILT_IN.len());
        for (index, r) in rules.iter().enumerate() {
            let re = compile(&r.pattern).map_err(|e| RuleError {
                index,
                pattern: r.pattern.clone(),
                reason: e.to_string(),
            })?;
            out.push(Rule {
                name: format!("config #{}", index + 1),
                re,
                action: r.action,
                kind: r.reason.unwrap_or(Quota),
                pause: r.pause,
            });
        }
        for &(name, pattern, action, kind, pause) in BUILT_IN {
            // The table is ours and its test compiles every entry.
            let Ok(re) = compile(pattern) else { continue };
            out.push(Rule {
                name: name.to_string(),
                re,
                action,
                kind,
                pause,
            });
        }
        Ok(ReplyRules { rules: out })
    }

    /// The built-in rules only.
    pub fn built_in() -> ReplyRules {
        ReplyRules::new(&[]).unwrap_or(ReplyRules { rules: Vec::new() })
    }

    /// What `reply` (as stored: `"550 5.4.5 Daily …"`, or a network error
    /// of ours without a code) means for the copy it refused.
    pub fn classify(&self, reply: &str) -> Verdict {
        for r in &self.rules {
            if r.re.is_match(reply) {
                return Verdict {
                    action: r.action,
                    kind: r.kind,
                    pause: r.pause,
                    rule: r.name.clone(),
                };
            }
        }
        let action = if reply.starts_with('5') && reply_code(reply).is_some() {
            Bounce
        } else {
            Retry
        };
        Verdict {
            action,
            kind: Quota,
            pause: None,
            rule: "class".to_string(),
        }
    }
}

fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
}

/// The three-digit reply code a stored reply starts with, if any.
pub fn reply_code(reply: &str) -> Option<u16> {
    let head = reply.get(..3)?;
    let rest = reply.get(3..4).unwrap_or(" ");
    (head.bytes().all(|b| b.is_ascii_digit()) && matches!(rest, " " | "-"))
        .then(|| head.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_rule_compiles() {
        for (name, pattern, ..) in BUILT_IN {
            assert!(compile(pattern).is_ok(), "{name}: {pattern}");
        }
        assert_eq!(ReplyRules::built_in().rules.len(), BUILT_IN.len());
    }

    /// Real replies as providers send them (texts quoted from the sources in
    /// the table above), and what each must mean.
    #[test]
    fn provider_replies_table() {
        let rules = ReplyRules::built_in();
        let table: &[(&str, Action, PauseKind)] = &[
            // Google
            (
                "550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852 - gsmtp",
                Pause,
                Quota,
            ),
            (
                "550 5.4.5 Daily SMTP relay limit exceeded for user. For more information on SMTP relay sending limits please contact your administrator - gsmtp",
                Pause,
                Quota,
            ),
            (
                "535 5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials - gsmtp",
                Pause,
                Login,
            ),
            (
                "534 5.7.9 Application-specific password required. - gsmtp",
                Pause,
                Login,
            ),
            (
                "454 4.7.0 Too many login attempts, please try again later. - gsmtp",
                Pause,
                Login,
            ),
            (
                "421 4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address. - gsmtp",
                Pause,
                Quota,
            ),
            (
                "550 5.1.1 The email account that you tried to reach does not exist. - gsmtp",
                Bounce,
                Quota,
            ),
            (
                "452 4.2.2 The email account that you tried to reach is over quota. - gsmtp",
                Retry,
                Quota,
            ),
            (
                "451 4.3.0 Mail server temporarily rejected message. - gsmtp",
                Retry,
                Quota,
            ),
            // Microsoft 365
            (
                "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.",
                Pause,
                Quota,
            ),
            (
                "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
                Bounce,
                Quota,
            ),
            (
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
                Pause,
                Login,
            ),
            (
                "535 5.7.3 Authentication unsuccessful [SN4PR0501CA0083.namprd05.prod.outlook.com]",
                Pause,
                Login,
            ),
            (
                "550 5.1.8 Access denied, bad outbound sender",
                Pause,
                Blocked,
            ),
            (
                "550 5.7.501 Service unavailable. Spam abated.",
                Pause,
                Blocked,
            ),
            (
                "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded",
                Retry,
                Quota,
            ),
            (
                "451 4.7.650 The mail server [203.0.113.7] has been temporarily rate limited due to IP reputation.",
                Retry,
                Quota,
            ),
            (
                "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
                Bounce,
                Quota,
            ),
            // Amazon SES
            (
                "454 Throttling failure: Daily message quota exceeded.",
                Pause,
                Quota,
            ),
            (
                "454 Throttling failure: Maximum sending rate exceeded.",
                Retry,
                Quota,
            ),
            ("535 Authentication Credentials Invalid", Pause, Login),
            (
                "554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: li@shop.example",
                Bounce,
                Quota,
            ),
            (
                "554 Sending suspended for this account. For more information, please check the inbox of the email address associated with your AWS account.",
                Pause,
                Blocked,
            ),
            // Alibaba Mail
            (
                "554 5.7.1 Sender (li@shop.example) sending too frequently, ANTISPAM_BAT_012031 rejected",
                Pause,
                Quota,
            ),
            ("526 Authentication failure[0]", Pause, Login),
            ("550 Mailbox not found or access denied", Bounce, Quota),
            // Tencent Exmail
            ("550 Ip frequency limited [ABCD]", Pause, Quota),
            (
                "550 Connection frequency limited. http://service.exmail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726",
                Pause,
                Quota,
            ),
            (
                "535 Login Fail. Please enter your authorization code to login. More information in https://service.mail.qq.com/",
                Pause,
                Login,
            ),
            (
                "550 Mailbox unavailable or access denied [MD9pSlHDXsyT]",
                Bounce,
                Quota,
            ),
            // NetEase 163/126
            ("550 MI:STC 发件人当天内累计邮件数量超过限制", Pause, Quota),
            (
                "550 RP:TRC 发件人当天内累计收件人数量超过限制",
                Pause,
                Quota,
            ),
            (
                "451 MI:CEL 发件人当前连接发送的邮件数量超过限制",
                Retry,
                Quota,
            ),
            (
                "554 DT:SPM 163 smtp7,C8CowAD3 发送的邮件内容包含了未被许可的信息，或被系统识别为垃圾邮件",
                Bounce,
                Quota,
            ),
            ("535 Error: authentication failed", Pause, Login),
            ("550 User has no permission", Pause, Blocked),
            (
                "554 IP is rejected, smtp auth error limit exceed",
                Pause,
                Login,
            ),
            // Zoho
            (
                "550 5.4.6 Unusual sending activity detected. Please try after sometime.",
                Pause,
                Quota,
            ),
            ("554 5.1.8 Email Outgoing Blocked.", Pause, Blocked),
            ("535 Authentication Failed", Pause, Login),
            // Generic and RFC wordings
            ("530 5.7.0 Authentication required", Pause, Login),
            ("550 5.7.1 Sending quota exceeded for today", Pause, Quota),
            (
                "550 5.7.1 You have reached your daily sending limit, messages not sent",
                Pause,
                Quota,
            ),
            (
                "421 4.7.0 Too many concurrent SMTP connections from this IP address; please try again later",
                Retry,
                Quota,
            ),
            ("550 5.7.1 Rate limited, try again later", Retry, Quota),
            (
                "554 5.7.1 Service unavailable; try again later",
                Retry,
                Quota,
            ),
            ("552 5.2.2 Mailbox full", Bounce, Quota),
            (
                "550 5.7.1 Message rejected as spam by Content Filtering.",
                Bounce,
                Quota,
            ),
            ("timed out talking to the upstream", Retry, Quota),
            (
                "the upstream closed the connection or sent an unreadable reply",
                Retry,
                Quota,
            ),
        ];
        let mut wrong = Vec::new();
        for (reply, action, kind) in table {
            let v = rules.classify(reply);
            let kind_matters = *action == Pause;
            if v.action != *action || (kind_matters && v.kind != *kind) {
                wrong.push(format!(
                    "{reply:?}: got {:?}/{:?} by {:?}, want {action:?}/{kind:?}",
                    v.action, v.kind, v.rule
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn config_rules_come_first() {
        let rules = ReplyRules::new(&[ReplyRuleConfig {
            pattern: r"^550 5\.1\.1 .*not exist".into(),
            action: Retry,
            pause: None,
            reason: None,
        }])
        .unwrap();
        let v =
            rules.classify("550 5.1.1 The email account that you tried to reach does not exist.");
        assert_eq!((v.action, v.rule.as_str()), (Retry, "config #1"));
        let v = rules.classify("550 5.4.5 Daily user sending limit exceeded.");
        assert_eq!((v.action, v.pause), (Pause, None));

        let rules = ReplyRules::new(&[ReplyRuleConfig {
            pattern: "BLOCKED BY POLICY".into(),
            action: Pause,
            pause: Some(Duration::from_secs(7200)),
            reason: Some(Blocked),
        }])
        .unwrap();
        let v = rules.classify("550 blocked by policy");
        assert_eq!(
            (v.action, v.kind, v.pause),
            (Pause, Blocked, Some(Duration::from_secs(7200)))
        );
    }

    #[test]
    fn a_bad_config_regex_names_the_rule() {
        let Err(e) = ReplyRules::new(&[ReplyRuleConfig {
            pattern: "(unclosed".into(),
            action: Retry,
            pause: None,
            reason: None,
        }]) else {
            panic!("compiled")
        };
        let text = e.to_string();
        assert!(text.starts_with("upstream.reply_rules[0].match"), "{text}");
    }

    #[test]
    fn reply_codes() {
        assert_eq!(reply_code("550 5.1.1 x"), Some(550));
        assert_eq!(reply_code("550-5.1.1 x"), Some(550));
        assert_eq!(reply_code("454"), Some(454));
        assert_eq!(reply_code("timed out"), None);
        assert_eq!(reply_code("5500 x"), None);
    }
}
