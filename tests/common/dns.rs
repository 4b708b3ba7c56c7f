//! A real DNS server for tests, in process on loopback (hickory-server),
//! serving the `test.` zone below: no test ever asks the system resolver.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::Name;
use hickory_proto::serialize::txt::Parser;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_server::Server;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

/// The zone the test server answers for. The SOA minimum (60 s) is the
/// negative-caching TTL.
pub const ZONE: &str = r#"
$ORIGIN test.
$TTL 300
@              IN SOA  ns.test. hostmaster.test. 1 3600 600 86400 60
@              IN NS   ns.test.
ns             IN A    127.0.0.1
withmx         IN MX   10 mx1.withmx.test.
withmx         IN MX   20 mx2.withmx.test.
mx1.withmx     IN A    127.0.0.10
mx2.withmx     IN A    127.0.0.11
aonly          IN A    127.0.0.20
v6only         IN AAAA ::1
nullmx         IN MX   0 .
nullmx         IN A    127.0.0.30
nomail         IN TXT  "v=spf1 -all"
xn--bcher-kva  IN MX   10 mx1.withmx.test.
"#;

/// Generous bound on how long a check against the local server may take.
pub struct Dns {
    pub addr: SocketAddr,
    server: Server<Catalog>,
}

impl Dns {
    pub async fn start() -> Dns {
        let origin = Name::from_ascii("test.").expect("origin");
        let (origin, records) = Parser::new(ZONE, None, Some(origin))
            .parse()
            .expect("the zone parses");
        let zone: InMemoryZoneHandler<TokioRuntimeProvider> =
            InMemoryZoneHandler::new(origin.clone(), records, ZoneType::Primary, AxfrPolicy::Deny)
                .expect("the zone loads");
        let mut catalog = Catalog::new();
        catalog.upsert(origin.into(), vec![Arc::new(zone)]);
        let mut server = Server::new(catalog);
        let (udp, tcp) = udp_and_tcp_on_one_port().await;
        let addr = udp.local_addr().expect("udp addr");
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 4096);
        Dns { addr, server }
    }

    pub async fn stop(mut self) {
        let _ = self.server.shutdown_gracefully().await;
    }
}

/// A UDP socket and a TCP listener on the same free loopback port (the
/// resolver falls back to TCP on the same port).
pub async fn udp_and_tcp_on_one_port() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let port = udp.local_addr().expect("udp addr").port();
        if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)).await {
            return (udp, tcp);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}
