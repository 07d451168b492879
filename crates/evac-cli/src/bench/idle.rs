//! `evac bench idle` (issue 26's goal): one client opens idle and half-sent connections up to
//! the process's open-file limit, while another address asks `/healthz` every few
//! milliseconds. The server keeps at most `CONNECTIONS_PER_ADDRESS_MAX` of one address's
//! connections and gives each `HEADER_READ_S` to send its headers, so the probes must go on
//! answering within 100 ms.

use std::time::{Duration, Instant};

use clap::Args;
use tokio::io::AsyncWriteExt;

use super::{fresh_app, machine, serve_on_loopback};

#[derive(Debug, Args)]
pub struct IdleBenchArgs {
    /// Seconds of probing after the connections are opened
    #[arg(long, default_value_t = 15)]
    pub seconds: u64,
    /// File descriptors left for the server itself (its accepted sockets, the database)
    #[arg(long, default_value_t = 600)]
    pub reserve: usize,
}

/// Milliseconds between two probes.
const PROBE_EVERY_MS: u64 = 20;

/// The soft open-file limit of this process, from /proc/self/limits.
fn open_file_limit() -> Option<usize> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

pub async fn run(args: IdleBenchArgs) -> anyhow::Result<()> {
    let (app, _dir) = fresh_app(None).await?;
    let addr = serve_on_loopback(&app).await?;
    let limit = open_file_limit().unwrap_or(1_024);
    let wanted = limit.saturating_sub(args.reserve);
    let opened_at = Instant::now();
    let mut held = Vec::with_capacity(wanted);
    for i in 0..wanted {
        // Half of them send the start of a request and stop; the rest send nothing.
        let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
            break;
        };
        if i % 2 == 0 {
            let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: be").await;
        }
        held.push(stream);
    }
    let opening_s = opened_at.elapsed().as_secs_f64();
    // The probes come from another loopback address, as another client would.
    let probe_addr: std::net::SocketAddr = "127.0.0.2:0".parse()?;
    let mut latencies_ms = Vec::new();
    let mut failed = 0u32;
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    while Instant::now() < deadline {
        let sent = Instant::now();
        let answered = tokio::time::timeout(Duration::from_secs(5), async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(probe_addr)?;
            let mut stream = socket.connect(addr).await?;
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: probe\r\nconnection: close\r\n\r\n")
                .await?;
            let mut response = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut response).await?;
            anyhow::Ok(response.starts_with(b"HTTP/1.1 200"))
        })
        .await;
        match answered {
            Ok(Ok(true)) => latencies_ms.push(sent.elapsed().as_secs_f64() * 1_000.0),
            _ => failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(PROBE_EVERY_MS)).await;
    }
    latencies_ms.sort_by(f64::total_cmp);
    let at = |p: f64| {
        latencies_ms
            .get(((latencies_ms.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "machine: {}; open-file limit {limit}; {} connections opened from one address in {opening_s:.1} s (half of them half-sent)",
        machine(),
        held.len()
    );
    println!(
        "/healthz from another address every {PROBE_EVERY_MS} ms for {} s: {} answered, {failed} failed; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (goal: within 100 ms)",
        args.seconds,
        latencies_ms.len(),
        at(0.5),
        at(0.99),
        latencies_ms.last().copied().unwrap_or(f64::NAN)
    );
    drop(held);
    Ok(())
}
