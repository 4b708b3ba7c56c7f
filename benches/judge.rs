//! Parse + judge time for a typical ~10 KB seller message and a ~1 MB one
//! (same text with a PDF attachment). Plain harness: `cargo bench --bench judge`.

use std::hint::black_box;
use std::time::Instant;

use sendwell::gateway::assess::{Input, Recipient, assess, recipient_of};
use sendwell::message::MessageFacts;
use sendwell::policy::{Judge, PolicyConfig, SenderFacts};
use sendwell::schedule::{Schedule, ScheduleConfig};

/// What the server decides for one message: the one `assess` function
/// (judge, each copy's plan, the reply), as `serve` and `check` call it.
struct Decider {
    judge: Judge,
    schedule: Schedule,
    people: Vec<Recipient>,
}

impl Decider {
    fn new() -> Decider {
        let schedule = Schedule::new(&ScheduleConfig::default()).expect("default schedule");
        let people = vec![recipient_of(
            &schedule,
            "weber@firma.example.de",
            None,
            None,
        )];
        Decider {
            judge: Judge::new(&PolicyConfig::default()),
            schedule,
            people,
        }
    }

    fn decide(&self, f: &MessageFacts, now: jiff::Timestamp) -> sendwell::gateway::Assessment {
        assess(&Input {
            facts: Some(f),
            sender: SenderFacts::default(),
            people: &self.people,
            judge: Some(&self.judge),
            schedule: &self.schedule,
            now,
        })
    }
}

fn text_body() -> String {
    let para = "Thank you for your order of the LED panel lights. We have checked the stock and can ship \
                the 500 pieces from our Shenzhen warehouse on Monday; the tracking number follows as soon \
                as the carrier has collected the parcels. If you need the certificates (CE, RoHS) please let \
                me know and I will send them with the commercial invoice.";
    let mut body = String::from("Dear Mr Weber,\r\n\r\n");
    while body.len() < 3500 {
        body.push_str(para);
        body.push_str("\r\n\r\n");
    }
    body.push_str("Best regards,\r\nLi Wei\r\nShenzhen Example Lighting Co., Ltd.\r\n");
    body
}

fn html_body(text: &str) -> String {
    let mut html = String::from("<html><head><style>p{margin:0}</style></head><body>");
    for p in text.split("\r\n\r\n") {
        html.push_str("<p style=\"font-family:Arial\">");
        html.push_str(&p.replace("\r\n", "<br>"));
        html.push_str("</p>\r\n");
    }
    html.push_str("<p><a href=\"https://shop.example.com/track?id=1\">Track your parcel</a> \
                   <img src=\"cid:logo\" width=\"120\" height=\"40\" alt=\"logo\"></p></body></html>");
    html
}

fn message(attachment_bytes: usize) -> Vec<u8> {
    let text = text_body();
    let html = html_body(&text);
    let mut m = String::from(
        "From: Li Wei <li@lighting.example.com>\r\nTo: Hans Weber <weber@firma.example.de>\r\n\
         Subject: Your order 4711: ships on Monday\r\nDate: Mon, 23 Nov 2026 09:00:00 +0800\r\n\
         Message-ID: <bench@lighting.example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"MIX\"\r\n\r\n--MIX\r\n\
         Content-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n--ALT\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    m.push_str(&text);
    m.push_str("\r\n--ALT\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    m.push_str(&html);
    m.push_str("\r\n--ALT--\r\n");
    if attachment_bytes > 0 {
        m.push_str("--MIX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"catalogue.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        let line = "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+CnN0cmVh\r\n";
        for _ in 0..attachment_bytes / line.len() {
            m.push_str(line);
        }
    }
    m.push_str("--MIX--\r\n");
    m.into_bytes()
}

/// Nanoseconds this thread has spent on a CPU (Linux), so that time spent
/// waiting for a core shared with other jobs does not count.
fn on_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn bench(name: &str, raw: &[u8], iterations: u32) {
    /// Batches timed separately: the fastest one is the least disturbed by
    /// other jobs on the machine.
    const BATCHES: u32 = 20;
    let d = Decider::new();
    let now = jiff::Timestamp::UNIX_EPOCH;
    // Warm up caches and the allocator.
    for _ in 0..iterations / 10 + 1 {
        let f = MessageFacts::parse(raw).expect("bench message parses");
        black_box(d.decide(&f, now));
    }
    let per_batch = (iterations / BATCHES).max(1);
    let start = Instant::now();
    let cpu_start = on_cpu_ns();
    let mut parse_ns = 0u128;
    let mut best_batch = f64::INFINITY;
    for _ in 0..BATCHES {
        let batch = Instant::now();
        for _ in 0..per_batch {
            let t = Instant::now();
            let f = MessageFacts::parse(black_box(raw)).expect("bench message parses");
            parse_ns += t.elapsed().as_nanos();
            black_box(d.decide(&f, now));
        }
        best_batch = best_batch.min(batch.elapsed().as_secs_f64() * 1e6 / f64::from(per_batch));
    }
    let n = f64::from(per_batch * BATCHES);
    let mean_us = start.elapsed().as_secs_f64() * 1e6 / n;
    let cpu_us = match (cpu_start, on_cpu_ns()) {
        (Some(a), Some(b)) => format!(", on-CPU {:.1} µs", (b - a) as f64 / 1e3 / n),
        _ => String::new(),
    };
    let parse_us = parse_ns as f64 / 1e3 / n;
    println!(
        "{name}: {} bytes, {n} iterations: parse+judge mean {mean_us:.1} µs \
         (parse {parse_us:.1} µs, judge {:.1} µs){cpu_us}, best batch {best_batch:.1} µs",
        raw.len(),
        mean_us - parse_us
    );
}

/// Runs parse + judge `iterations` times without timing, for an instruction
/// counter: `valgrind --tool=callgrind target/release/deps/judge-* count small 100`.
/// Instruction counts stay put when other jobs share the cores; wall-clock
/// means do not.
fn count(raw: &[u8], iterations: u32) {
    let d = Decider::new();
    let now = jiff::Timestamp::UNIX_EPOCH;
    for _ in 0..iterations {
        let f = MessageFacts::parse(black_box(raw)).expect("bench message parses");
        black_box(d.decide(&f, now));
    }
}

fn main() {
    let small = message(0);
    let big = message(1024 * 1024);
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, which, n] = args.as_slice()
        && cmd == "count"
    {
        let raw = if which == "big" { &big } else { &small };
        count(raw, n.parse().expect("count takes an iteration count"));
        return;
    }
    bench("~10 KB", &small, 20_000);
    bench("~1 MB", &big, 100);
}
