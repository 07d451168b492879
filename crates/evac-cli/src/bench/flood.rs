//! `evac bench flood` (issue 26's goal): one address floods the public form while others
//! submit as families do. The flood must be cut to the configured rate, and the others' p99
//! must stay within 2× of the same load without the flood. Addresses are told apart by
//! `X-Forwarded-For`, which the server trusts from loopback as from a proxy on its host.
//! Unloaded and flooded rounds alternate; medians are reported.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{Rounds, drive, fresh_app, machine, median, post_bodies, serve_on_loopback};

#[derive(Debug, Args)]
pub struct FloodBenchArgs {
    /// Seconds of load per round
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Pairs of rounds (unloaded, flooded)
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Keep-alive connections of the flooding address
    #[arg(long, default_value_t = 32)]
    pub flood_connections: usize,
    /// Keep-alive connections of the other addresses (each request from an address of its own)
    #[arg(long, default_value_t = 4)]
    pub others_connections: usize,
}

/// Distinct request bodies (and so distinct addresses) the others cycle through.
const OTHERS_BODIES: usize = 20_000;

/// Puts an `X-Forwarded-For` header into a raw request.
fn from_address(request: &[u8], address: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    text.replacen(
        "host: bench\r\n",
        &format!("host: bench\r\nx-forwarded-for: {address}\r\n"),
        1,
    )
    .into_bytes()
}

pub async fn run(args: FloodBenchArgs) -> anyhow::Result<()> {
    let (app, _dir) = fresh_app(None).await?;
    // The default limit, as a deployment has it (the other benchmarks switch it off).
    let settings = evac_app::Settings {
        public_limit: evac_app::PublicLimit::default(),
        ..app.settings().clone()
    };
    let limit = settings.public_limit;
    let app = evac_app::App::new(app.store().clone(), settings);
    let addr = serve_on_loopback(&app).await?;
    let bodies = post_bodies(OTHERS_BODIES);
    let others: Arc<Vec<Vec<u8>>> = Arc::new(
        bodies
            .iter()
            .enumerate()
            .map(|(i, b)| {
                from_address(
                    b,
                    &format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255),
                )
            })
            .collect(),
    );
    let flood: Arc<Vec<Vec<u8>>> = Arc::new(
        bodies
            .iter()
            .take(1_000)
            .map(|b| from_address(b, "203.0.113.66"))
            .collect(),
    );
    let duration = Duration::from_secs(args.seconds);
    println!(
        "machine: {}; limit {}/s per address, burst {}; {} s per round, median of {} pairs",
        machine(),
        limit.per_address_per_s,
        limit.burst,
        args.seconds,
        args.rounds
    );
    let mut unloaded = Rounds::new("others, no flood");
    let mut flooded = Rounds::new("others, during the flood");
    let (mut refused, mut let_through, mut flood_rates) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        let mut alone = drive(addr, others.clone(), 201, args.others_connections, duration);
        unloaded.record(&mut alone, None);
        let flooding = {
            let flood = flood.clone();
            let connections = args.flood_connections;
            std::thread::spawn(move || drive(addr, flood, 429, connections, duration))
        };
        let mut with_flood = drive(addr, others.clone(), 201, args.others_connections, duration);
        flooded.record(&mut with_flood, None);
        let flood = flooding.join().expect("the flood's thread");
        // `ok` counts the expected 429s; the rest were let through (or failed).
        refused.push(flood.ok as f64);
        let_through.push(flood.failed as f64);
        flood_rates.push((flood.ok + flood.failed) as f64 / flood.elapsed.as_secs_f64());
    }
    println!("| load | answers/s | p50 ms | p99 ms | failed |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for rounds in [&unloaded, &flooded] {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} |",
            rounds.route,
            median(rounds.rates.clone()),
            median(rounds.p50_ms.clone()),
            median(rounds.p99_ms.clone()),
            rounds.failed
        );
    }
    let ratio = median(flooded.p99_ms.clone()) / median(unloaded.p99_ms.clone());
    println!(
        "flood from one address: {:.0} requests/s sent, {:.0} answered 429 and {:.0} let through per round (the limit lets {} + {}/s × {} s = {} through)",
        median(flood_rates),
        median(refused),
        median(let_through),
        limit.burst,
        limit.per_address_per_s,
        args.seconds,
        u64::from(limit.burst) + u64::from(limit.per_address_per_s) * args.seconds
    );
    println!("others' p99 during the flood / without it: {ratio:.2}× (goal: at most 2×)");
    Ok(())
}
