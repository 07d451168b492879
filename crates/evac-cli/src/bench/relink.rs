//! `evac bench relink`: relinking a stored crisis, as `evac relink` and every server start do,
//! next to the linkage core alone on as many generated people (`evac bench link`'s path) in the
//! same run. The gap between the two is what the store, the log and the index cost; sizes side
//! by side show whether it grows faster than the data.

use std::time::Instant;

use clap::Args;
use evac_link::{Settings, link};

use super::{demo_app, machine, peak_rss_mb};

#[derive(Debug, Args)]
pub struct RelinkBenchArgs {
    /// Stored requests to relink; several values run one after another
    #[arg(long, value_delimiter = ',', default_value = "100000,200000")]
    pub requests: Vec<usize>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn run(args: RelinkBenchArgs) -> anyhow::Result<()> {
    println!("machine: {}", machine());
    println!(
        "| requests | people | relink, first (logs every pair) | relink again (as a restart does) | core alone on as many people | first ÷ core | peak RSS of the relink, above what the process held before it |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &requests in &args.requests {
        let (app, _dir, _, load_s) = demo_app(requests, args.seed).await?;
        eprintln!("loaded {requests} requests in {load_s:.1} s");
        let rss_before_mb = current_rss_mb().unwrap_or(f64::NAN);
        reset_peak_rss();
        let started = Instant::now();
        let first = app.relink().await?;
        let first_s = started.elapsed().as_secs_f64();
        let relink_peak_mb = peak_rss_mb().unwrap_or(f64::NAN) - rss_before_mb;
        eprintln!("first relink: {}", first.took);
        let started = Instant::now();
        let again = app.relink().await?;
        let again_s = started.elapsed().as_secs_f64();
        eprintln!("relink again: {}", again.took);
        drop(app);

        let (records, _) = super::link::generated_records(first.persons, args.seed);
        let people = records.len();
        let core_before_mb = current_rss_mb().unwrap_or(f64::NAN);
        reset_peak_rss();
        let started = Instant::now();
        let linkage = link(records, &Settings::default())?;
        let core_s = started.elapsed().as_secs_f64();
        let core_peak_mb = peak_rss_mb().unwrap_or(f64::NAN) - core_before_mb;
        drop(linkage);
        println!(
            "| {requests} | {} | {first_s:.1} s | {again_s:.1} s | {core_s:.1} s ({people} people) | {:.2} | {relink_peak_mb:.0} MB ({:.2} GB per million people; the core alone {core_peak_mb:.0} MB) |",
            first.persons,
            first_s / core_s,
            relink_peak_mb / first.persons as f64 * 1e6 / 1024.0
        );
    }
    Ok(())
}

/// The resident set now, in MB.
fn current_rss_mb() -> Option<f64> {
    super::memory_status_mb("VmRSS:")
}

/// Starts the peak resident set (`VmHWM`) afresh from the current one, so the next reading is
/// one step's peak (Linux: writing 5 to `clear_refs`); where it cannot, the peak is the
/// process's.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
