//! `proxy = "socks5://host:port"` on a route: the courier's connection to
//! the upstream goes through a SOCKS5 proxy (tokio-socks), which also
//! resolves the upstream's name — sellers in mainland China reach Gmail
//! and others only this way, and a local resolver there may lie. The
//! proxy hands back a plain byte stream; TLS and SMTP run inside it as on
//! a direct connection.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_socks::tcp::Socks5Stream;

/// A parsed `proxy` URL with its credentials (read at start-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// User name and password, when the proxy wants them.
    pub credentials: Option<(String, String)>,
}

impl Proxy {
    /// `socks5://host:port` (also `socks5h://`, the same here: the proxy
    /// always resolves the name).
    pub fn parse(url: &str) -> Result<Proxy, String> {
        let rest = url
            .strip_prefix("socks5://")
            .or_else(|| url.strip_prefix("socks5h://"))
            .ok_or_else(|| {
                format!("'{url}': use socks5://host:port (the only proxy kind supported)")
            })?;
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
        let proxy = (self.host.as_str(), self.port);
        let target = (host, port);
        let handshake = async {
            match &self.credentials {
                Some((user, pass)) => {
                    Socks5Stream::connect_with_password(proxy, target, user, pass).await
                }
                None => Socks5Stream::connect(proxy, target).await,
            }
        };
        let stream = tokio::time::timeout(timeout, handshake)
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
            })?;
        Ok(stream.into_inner())
    }

    /// `socks5://host:port`, for logs (never the password).
    pub fn describe(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("socks5://{host}:{}", self.port)
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
        for (bad, says) in [
            ("http://127.0.0.1:8080", "use socks5://"),
            ("socks5://127.0.0.1", "give the proxy's port"),
            ("socks5://127.0.0.1:x", "is not a number"),
            ("socks5://u:p@127.0.0.1:1080", "proxy_username"),
        ] {
            let err = Proxy::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
