//! `proxy = "socks5://host:port"` (or `http://host:port`) on a route: the
//! courier's connection to the upstream goes through a proxy, which also
//! resolves the upstream's name — sellers in mainland China reach Gmail
//! and others only this way, and a local resolver there may lie. The
//! proxy hands back a plain byte stream; TLS and SMTP run inside it as on
//! a direct connection.
//!
//! SOCKS5 is tokio-socks. HTTP `CONNECT` is written here: the crates for it
//! read the proxy's answer through a buffer, which swallows the SMTP
//! greeting that follows it at once (SMTP servers speak first).

use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_socks::tcp::Socks5Stream;

/// Longest answer to `CONNECT` we read (status line and headers).
const MAX_CONNECT_ANSWER: usize = 8 * 1024;

/// Which kind of proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Socks5,
    /// HTTP `CONNECT` (RFC 9110 §9.3.6).
    HttpConnect,
}

/// A parsed `proxy` URL with its credentials (read at start-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub kind: Kind,
    pub host: String,
    pub port: u16,
    /// User name and password, when the proxy wants them.
    pub credentials: Option<(String, String)>,
}

impl Proxy {
    /// `socks5://host:port` (also `socks5h://`, the same here: the proxy
    /// always resolves the name) or `http://host:port` (CONNECT).
    pub fn parse(url: &str) -> Result<Proxy, String> {
        let (kind, rest) = if let Some(r) = url
            .strip_prefix("socks5://")
            .or_else(|| url.strip_prefix("socks5h://"))
        {
            (Kind::Socks5, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (Kind::HttpConnect, r)
        } else {
            return Err(format!(
                "'{url}': use socks5://host:port or http://host:port (an HTTP proxy that allows CONNECT)"
            ));
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('@') {
            return Err(format!(
                "'{url}': put the proxy's user name in proxy_username and its password in \
                 proxy_password_env or proxy_password_file, not in the URL"
            ));
        }
        let (host, port) = rest
            .rsplit_once(':')
            .filter(|(h, _)| !h.is_empty())
            .ok_or_else(|| {
                format!("'{url}': give the proxy's port, e.g. socks5://127.0.0.1:1080")
            })?;
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("'{url}': port '{port}' is not a number"))?;
        Ok(Proxy {
            kind,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            credentials: None,
        })
    }

    /// A stream to `host:port` through the proxy.
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> std::io::Result<TcpStream> {
        let handshake = async {
            match self.kind {
                Kind::Socks5 => self.socks5(host, port).await,
                Kind::HttpConnect => self.http_connect(host, port).await,
            }
        };
        tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "timed out reaching {host}:{port} through the proxy {}",
                        self.describe()
                    ),
                )
            })?
            .map_err(|e| {
                std::io::Error::other(format!(
                    "the proxy {} could not reach {host}:{port}: {e}",
                    self.describe()
                ))
            })
    }

    async fn socks5(&self, host: &str, port: u16) -> std::io::Result<TcpStream> {
        let proxy = (self.host.as_str(), self.port);
        let target = (host, port);
        let stream = match &self.credentials {
            Some((user, pass)) => {
                Socks5Stream::connect_with_password(proxy, target, user, pass).await
            }
            None => Socks5Stream::connect(proxy, target).await,
        }
        .map_err(std::io::Error::other)?;
        Ok(stream.into_inner())
    }

    /// `CONNECT host:port`; the answer is read byte by byte up to its
    /// blank line, so nothing the upstream says after it is lost.
    async fn http_connect(&self, host: &str, port: u16) -> std::io::Result<TcpStream> {
        let mut tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
        let _ = tcp.set_nodelay(true);
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut ask = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some((user, pass)) = &self.credentials {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            ask.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
        }
        ask.push_str("\r\n");
        tcp.write_all(ask.as_bytes()).await?;
        let mut answer = Vec::with_capacity(256);
        while !answer.ends_with(b"\r\n\r\n") {
            if answer.len() >= MAX_CONNECT_ANSWER {
                return Err(std::io::Error::other("its answer to CONNECT never ended"));
            }
            answer.push(tcp.read_u8().await?);
        }
        let text = String::from_utf8_lossy(&answer);
        let status = text.lines().next().unwrap_or_default().trim().to_string();
        let code = status.split_whitespace().nth(1).unwrap_or_default();
        match code {
            "200" => Ok(tcp),
            // 407 by the book; tinyproxy answers CONNECT with 401.
            "407" | "401" => Err(std::io::Error::other(format!(
                "it wants a login ({status}): set proxy_username and proxy_password_env or _file"
            ))),
            _ => Err(std::io::Error::other(format!(
                "it refused CONNECT: {status}"
            ))),
        }
    }

    /// `socks5://host:port`, for logs (never the password).
    pub fn describe(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let scheme = match self.kind {
            Kind::Socks5 => "socks5",
            Kind::HttpConnect => "http",
        };
        format!("{scheme}://{host}:{}", self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let p = Proxy::parse("socks5://127.0.0.1:1080").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 1080));
        assert_eq!(Proxy::parse("socks5h://[::1]:7890/").unwrap().host, "::1");
        assert_eq!(
            Proxy::parse("socks5://[::1]:7890").unwrap().describe(),
            "socks5://[::1]:7890"
        );
        let p = Proxy::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (p.kind, p.describe().as_str()),
            (Kind::HttpConnect, "http://127.0.0.1:8080")
        );
        for (bad, says) in [
            ("https://127.0.0.1:8080", "use socks5://"),
            ("socks5://127.0.0.1", "give the proxy's port"),
            ("socks5://127.0.0.1:x", "is not a number"),
            ("socks5://u:p@127.0.0.1:1080", "proxy_username"),
        ] {
            let err = Proxy::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
