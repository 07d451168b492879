//! `evac bench …`: the measurements behind docs/BENCHMARKS.md. Build with `--release`.
//!
//! Machines here are noisy, so every figure comes with a baseline measured in the same run:
//! intake is measured next to the same server's no-op route (`/healthz`), at the same
//! concurrency, with the same load generator. Medians over repeated rounds are reported.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use evac_app::{App, DatabaseUrl, open_store};
use evac_demo::{Scenario, generate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::Config;

mod cluster;
mod flood;
mod idle;
mod link;
mod linker;
mod manifest;
mod notify;
mod pages;
mod place;
mod plan;
mod relink;
mod replay;
mod sentences;
mod triage;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Requests/s and latency of POST /api/v1/requests (durable commits) over loopback, next to
    /// GET /healthz on the same server.
    Intake(IntakeArgs),
    /// Time and peak memory of importing a generated CSV of at least N rows.
    Import(ImportBenchArgs),
    /// Time of exporting N stored requests to CSV.
    Export(ExportBenchArgs),
    /// CPU cost of the intake steps that run on the HTTP workers: validation (and within it
    /// phone parsing) and serialising the stored body, per request, without I/O.
    Validate(ValidateBenchArgs),
    /// Record linkage on the generator's ground truth: pair and cluster precision/recall/F1
    /// (also across Cyrillic and Latin), blocking recall, records/s, peak memory, and the
    /// latency of matching one new record online.
    Link(link::LinkBenchArgs),
    /// Relinking a stored crisis (as `evac relink` and a server start do) at several sizes,
    /// next to the linkage core alone on as many people: time, each step's share, peak memory.
    Relink(relink::RelinkBenchArgs),
    /// The lease holder's online linker draining the requests a burst left due: requests/s
    /// matched, keyed and settled, on SQLite or a given database.
    Linker(linker::LinkerBenchArgs),
    /// Place resolution on a labelled set built from the gazetteer's alternate names with
    /// realistic noise: locations/s and the share resolved to the right place first.
    Place(place::PlaceBenchArgs),
    /// Re-ranking synthetic cases after a policy change and after a situation change.
    Triage(triage::TriageBenchArgs),
    /// Planning: a large instance's time, and the gap to the exact optimum on small and tight
    /// instances.
    Plan(plan::PlanBenchArgs),
    /// Rendering a manifest (CSV, XLSX, PDF) and boarding passes (PDF with QR codes).
    Manifest(manifest::ManifestBenchArgs),
    /// Server time of the desk's pages (dashboard with map, request list and searches) with
    /// many requests stored, next to /healthz.
    Pages(pages::PagesBenchArgs),
    /// January 2022 replayed through evac's use cases over ten days (closures, a reopening, a
    /// cancellation, no-shows, eligibility): the rules a planner relies on checked at every
    /// step, and each class's wait against the floor and first come, first served.
    Replay(replay::ReplayBenchArgs),
    /// Publishing a plan with its seat notices, next to the same plan's preview; draining the
    /// outbox through the log channel and every notice's queue-to-accepted latency.
    Notify(notify::NotifyBenchArgs),
    /// One address floods the public form while others submit: how much of the flood gets
    /// through the per-address limit, and the others' p99 with and without it.
    Flood(flood::FloodBenchArgs),
    /// One client holds idle and half-sent connections up to the open-file limit while another
    /// address asks /healthz: the probes' latency.
    Idle(idle::IdleBenchArgs),
}

#[derive(Debug, Args)]
pub struct ValidateBenchArgs {
    #[arg(long, default_value_t = 2_000)]
    pub requests: usize,
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
}

#[derive(Debug, Args)]
pub struct IntakeArgs {
    /// Concurrent keep-alive connections; several values run one after another
    #[arg(long, value_delimiter = ',', default_value = "64,256")]
    pub concurrency: Vec<usize>,
    /// Seconds of load per measurement
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Rounds per configuration (the median is reported)
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Use this database instead of a fresh SQLite file in a temporary directory (e.g. a
    /// scratch PostgreSQL database: requests accumulate there)
    #[arg(long)]
    pub bench_database_url: Option<String>,
    /// Also write every answer to this CSV file (round, route, concurrency, when it was sent
    /// and how long it took, in ms): shows whether the slowest answers come together in time
    #[arg(long)]
    pub latency_log: Option<PathBuf>,
    /// Send the load through HAProxy to this many `evac serve` nodes started by
    /// scripts/cluster.sh on --bench-database-url (PostgreSQL), instead of to a server in
    /// this process; several values run one after another (e.g. 1,2,3)
    #[arg(long, value_delimiter = ',')]
    pub nodes: Vec<usize>,
}

#[derive(Debug, Args)]
pub struct ImportBenchArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ExportBenchArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub requests: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn run(_config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; figures are only meaningful from `cargo run --release`"
        );
    }
    match command {
        BenchCommand::Intake(args) => intake(args).await,
        BenchCommand::Import(args) => import(args).await,
        BenchCommand::Export(args) => export(args).await,
        BenchCommand::Validate(args) => validate(args),
        BenchCommand::Link(args) => link::run(args),
        BenchCommand::Relink(args) => relink::run(args).await,
        BenchCommand::Linker(args) => linker::run(args).await,
        BenchCommand::Place(args) => place::run(args),
        BenchCommand::Triage(args) => triage::run(args),
        BenchCommand::Plan(args) => plan::run(args),
        BenchCommand::Manifest(args) => manifest::run(args),
        BenchCommand::Pages(args) => pages::run(args).await,
        BenchCommand::Notify(args) => notify::run(args).await,
        BenchCommand::Replay(args) => replay::run(args).await,
        BenchCommand::Flood(args) => flood::run(args).await,
        BenchCommand::Idle(args) => idle::run(args).await,
    }
}

/// A fresh SQLite app in a temporary directory with `requests` demo requests loaded through
/// the app (durable, group commit), and the seconds the load took.
async fn demo_app(
    requests: usize,
    seed: u64,
) -> anyhow::Result<(App, tempfile::TempDir, u64, f64)> {
    let (app, dir) = fresh_app(None).await?;
    let dir = dir.expect("a temporary directory");
    let started = Instant::now();
    let loaded = crate::commands::demo::load(
        &app,
        Scenario::january_2022(requests, seed),
        &dir.path().join("truth.csv"),
    )
    .await?;
    Ok((app, dir, loaded, started.elapsed().as_secs_f64()))
}

/// A fresh app on a temporary SQLite database (or the given URL), without flood limits.
async fn fresh_app(url: Option<&str>) -> anyhow::Result<(App, Option<tempfile::TempDir>)> {
    let (url, dir) = match url {
        Some(u) => (DatabaseUrl::parse(u)?, None),
        None => {
            let dir = tempfile::tempdir()?;
            (DatabaseUrl::Sqlite(dir.path().join("bench.db")), Some(dir))
        }
    };
    let store = open_store(&url, true).await?;
    store.migrate().await?;
    // The load generator is one address sending thousands a second: no flood limit here.
    let settings = evac_app::Settings {
        public_limit: evac_app::PublicLimit {
            per_address_per_s: 0,
            burst: 0,
        },
        ..evac_app::Settings::default()
    };
    Ok((App::new(store, settings), dir))
}

/// Serves `app` on a loopback port of its own until the process ends; its address.
async fn serve_on_loopback(app: &App) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(evac_web::serve(
        listener,
        app.clone(),
        std::future::pending(),
    ));
    Ok(addr)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{} cores, {cpu}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    )
}

/// CPU time (user and system, all threads) this process has used so far; `None` where
/// `/proc` is not there. Its clock ticks are 10 ms (Linux reports `/proc` times in USER_HZ,
/// always 100 per second).
fn process_cpu() -> Option<Duration> {
    const TICKS_PER_S: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After "pid (comm) ", utime and stime are the 12th and 13th fields; comm may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_S))
}

/// The process's peak resident set so far, in MB.
fn peak_rss_mb() -> Option<f64> {
    memory_status_mb("VmHWM:")
}

/// A memory line of `/proc/self/status` (`VmHWM:`, `VmRSS:` …), in MB.
fn memory_status_mb(line: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with(line))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

// ---------------------------------------------------------------------------------------------
// Intake over HTTP.

/// One answer with the expected status: when its request was sent (µs after the load began)
/// and how long the answer took (µs).
#[derive(Debug, Clone, Copy)]
struct Answer {
    sent_us: u32,
    latency_us: u32,
}

/// One measured load: how many answers with the expected status, their latencies, failures.
#[derive(Debug, Default)]
struct Load {
    ok: u64,
    failed: u64,
    /// Failures by the status answered (0: the connection failed or was cut).
    failed_by: std::collections::BTreeMap<u16, u64>,
    answers: Vec<Answer>,
    elapsed: Duration,
}

impl Load {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.answers.is_empty() {
            return f64::NAN;
        }
        self.answers.sort_unstable_by_key(|a| a.latency_us);
        let index = ((self.answers.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.answers[index].latency_us) / 1000.0
    }
}

/// `d` in whole microseconds, saturating (a round lasts seconds).
fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Reads one HTTP/1.1 response from `stream` (using `buf` as carry-over); returns its status.
async fn read_response(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> anyhow::Result<u16> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).context("response head is not UTF-8")?;
            let status: u16 = head
                .get(9..12)
                .and_then(|s| s.parse().ok())
                .context("no status")?;
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.split_once(':')
                        .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .map(|(_, v)| v.trim())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let total = end + 4 + length;
            while buf.len() < total {
                let mut chunk = [0u8; 8192];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    bail!("connection closed mid-response");
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..total);
            return Ok(status);
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Drives `concurrency` keep-alive connections for `duration`, cycling through `requests`.
fn drive(
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    expect: u16,
    concurrency: usize,
    duration: Duration,
) -> Load {
    // The load generator gets its own single-threaded runtime on its own thread, so it does not
    // queue behind the server's tasks (it still shares the machine's cores).
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let started = Instant::now();
            let deadline = started + duration;
            let mut tasks = Vec::with_capacity(concurrency);
            for c in 0..concurrency {
                let requests = requests.clone();
                tasks.push(tokio::spawn(async move {
                    let mut load = Load::default();
                    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
                        load.failed += 1;
                        *load.failed_by.entry(0).or_default() += 1;
                        return load;
                    };
                    let _ = stream.set_nodelay(true);
                    let mut buf = Vec::with_capacity(16 * 1024);
                    let mut i = c;
                    while Instant::now() < deadline {
                        let sent = Instant::now();
                        let result = async {
                            stream.write_all(&requests[i % requests.len()]).await?;
                            read_response(&mut stream, &mut buf).await
                        }
                        .await;
                        i += concurrency;
                        match result {
                            Ok(status) if status == expect => {
                                load.ok += 1;
                                load.answers.push(Answer {
                                    sent_us: micros(sent - started),
                                    latency_us: micros(sent.elapsed()),
                                });
                            }
                            Ok(status) => {
                                load.failed += 1;
                                *load.failed_by.entry(status).or_default() += 1;
                            }
                            Err(_) => {
                                load.failed += 1;
                                *load.failed_by.entry(0).or_default() += 1;
                                break;
                            }
                        }
                    }
                    load
                }));
            }
            let mut total = Load::default();
            for t in tasks {
                let l = t.await.unwrap_or_default();
                total.ok += l.ok;
                total.failed += l.failed;
                for (status, n) in l.failed_by {
                    *total.failed_by.entry(status).or_default() += n;
                }
                total.answers.extend(l.answers);
            }
            total.elapsed = started.elapsed();
            total
        })
    })
    .join()
    .expect("the load generator thread")
}

/// Distinct generated bodies the intake benchmark cycles through (the generator's own
/// duplicates among them, as in a real crisis; few enough to generate in a second or two).
const INTAKE_BODIES: usize = 20_000;
/// How often the intake benchmark asks whether the name index has caught up.
const KEYER_POLL_MS: u64 = 50;

fn post_bodies(count: usize) -> Vec<Vec<u8>> {
    generate(Scenario::january_2022(count, 99))
        .map(|g| {
            let mut request = crate::commands::generate::api_json(&g)["request"].take();
            // The public API takes web channels only; hotline and import rows come from staff.
            request["channel"] = serde_json::json!("api");
            let body = request.to_string();
            format!(
                "POST /api/v1/requests HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
        .collect()
}

/// The rounds of one route at one concurrency.
struct Rounds {
    route: &'static str,
    rates: Vec<f64>,
    p50_ms: Vec<f64>,
    p99_ms: Vec<f64>,
    /// CPU of the whole process (server, load generator, background threads) per answer.
    cpu_us_per_answer: Vec<f64>,
    failed: u64,
    failed_by: std::collections::BTreeMap<u16, u64>,
}

impl Rounds {
    fn new(route: &'static str) -> Self {
        Rounds {
            route,
            rates: Vec::new(),
            p50_ms: Vec::new(),
            p99_ms: Vec::new(),
            cpu_us_per_answer: Vec::new(),
            failed: 0,
            failed_by: Default::default(),
        }
    }

    /// The row's cells of the intake table: route, concurrency, medians, failures.
    fn table_cells(self, concurrency: usize) -> String {
        let cpu = if self.cpu_us_per_answer.is_empty() {
            "n/a".to_string()
        } else {
            format!("{:.0}", median(self.cpu_us_per_answer))
        };
        // Which answers failed: a status, or "cut" (the connection failed or was closed).
        let why: Vec<String> = self
            .failed_by
            .iter()
            .map(|(&status, n)| match status {
                0 => format!("cut {n}"),
                status => format!("{status}: {n}"),
            })
            .collect();
        let failed = if why.is_empty() {
            self.failed.to_string()
        } else {
            format!("{} ({})", self.failed, why.join(", "))
        };
        format!(
            "{} | {concurrency} | {:.0} | {:.2} | {:.2} | {cpu} | {failed}",
            self.route,
            median(self.rates),
            median(self.p50_ms),
            median(self.p99_ms),
        )
    }

    fn record(&mut self, load: &mut Load, cpu: Option<Duration>) {
        if let Some(cpu) = cpu.filter(|_| load.ok > 0) {
            self.cpu_us_per_answer
                .push(cpu.as_secs_f64() * 1e6 / load.ok as f64);
        }
        self.rates.push(load.rate());
        self.p50_ms.push(load.percentile_ms(0.50));
        self.p99_ms.push(load.percentile_ms(0.99));
        self.failed += load.failed;
        for (&status, &n) in &load.failed_by {
            *self.failed_by.entry(status).or_default() += n;
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn intake(args: IntakeArgs) -> anyhow::Result<()> {
    if !args.nodes.is_empty() {
        return cluster::intake(args).await;
    }
    let (app, _dir) = fresh_app(args.bench_database_url.as_deref()).await?;
    let backend = app.store().backend_name();
    // As `evac serve` does at start: with an index, every acknowledged request is also queued
    // for the background linker, whose catch-up is timed after the rounds.
    app.relink().await?;
    let addr = serve_on_loopback(&app).await?;
    let posts = Arc::new(post_bodies(INTAKE_BODIES));
    let health = Arc::new(vec![
        b"GET /healthz HTTP/1.1\r\nhost: bench\r\n\r\n".to_vec(),
    ]);
    let duration = Duration::from_secs(args.seconds);

    println!(
        "machine: {}; backend: {backend}; {} s per round, median of {} rounds",
        machine(),
        args.seconds,
        args.rounds
    );
    let mut latency_log = args
        .latency_log
        .as_deref()
        .map(|path| -> anyhow::Result<_> {
            let mut log =
                std::io::BufWriter::new(std::fs::File::create(path).with_context(|| {
                    format!("cannot create the latency log {}", path.display())
                })?);
            writeln!(log, "round,route,concurrency,sent_ms,latency_ms")?;
            Ok(log)
        })
        .transpose()?;
    println!("| route | concurrency | answers/s | p50 ms | p99 ms | CPU µs/answer | failed |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &concurrency in &args.concurrency {
        let mut rows = [
            Rounds::new("GET /healthz (no-op baseline)"),
            Rounds::new("POST /api/v1/requests"),
        ];
        for round in 1..=args.rounds {
            for (row, (requests, expect)) in rows
                .iter_mut()
                .zip([(health.clone(), 200), (posts.clone(), 201)])
            {
                let before = app.store().intake_counts().await?.requests;
                let cpu_before = process_cpu();
                let load_requests = requests.clone();
                let mut load = tokio::task::spawn_blocking(move || {
                    drive(addr, load_requests, expect, concurrency, duration)
                })
                .await?;
                let cpu = process_cpu()
                    .zip(cpu_before)
                    .map(|(after, before)| after - before);
                if expect == 201 {
                    // Nothing lost: every acknowledged request is in the store.
                    let stored = app.store().intake_counts().await?.requests - before;
                    if stored != load.ok {
                        bail!("{} requests acknowledged but {stored} stored", load.ok);
                    }
                }
                if let Some(log) = &mut latency_log {
                    // The method and path, without the row's note.
                    let route = row.route.split(" (").next().unwrap_or(row.route);
                    for a in &load.answers {
                        writeln!(
                            log,
                            "{round},{route},{concurrency},{:.3},{:.3}",
                            f64::from(a.sent_us) / 1000.0,
                            f64::from(a.latency_us) / 1000.0
                        )?;
                    }
                }
                row.record(&mut load, cpu);
            }
        }
        for row in rows {
            println!("| {} |", row.table_cells(concurrency));
        }
    }
    if let Some(mut log) = latency_log {
        log.flush()?;
    }
    println!("every acknowledged request was found in the store");
    // Both background jobs catch up on the requests of the rounds: the keyer (name index) and
    // the linker; each time counts from the end of the last round.
    let rounds_over = Instant::now();
    let unkeyed = app.store().unkeyed_requests().await?;
    while app.store().unkeyed_requests().await? > 0 {
        tokio::time::sleep(Duration::from_millis(KEYER_POLL_MS)).await;
    }
    println!(
        "the name index held every request {:.1} s after the last round ({unkeyed} were waiting)",
        rounds_over.elapsed().as_secs_f64()
    );
    app.linking_caught_up().await;
    println!(
        "the background linker matched every request {:.1} s after the last round",
        rounds_over.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Import and export.

async fn import(args: ImportBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let csv_path: PathBuf = dir.path().join("requests.csv");
    let rows = write_generated_csv(&csv_path, args.rows, args.seed)?;
    let size_mb = std::fs::metadata(&csv_path)?.len() as f64 / 1e6;
    let rss_before = peak_rss_mb().unwrap_or(0.0);
    let (app, _db) = fresh_app(None).await?;
    let started = Instant::now();
    let import_args = crate::commands::import::ImportArgs {
        file: csv_path,
        mapping: None,
        rejects: None,
    };
    let (summary, rejects) = crate::commands::import::import_file(&app, &import_args).await?;
    let elapsed = started.elapsed().as_secs_f64();
    println!("machine: {}", machine());
    println!(
        "import: {rows} rows ({size_mb:.0} MB CSV) → {} requests in {elapsed:.1} s ({:.0} rows/s); {} rejected; peak RSS {:.0} MB (before import {rss_before:.0} MB)",
        summary.imported,
        rows as f64 / elapsed,
        rejects.len(),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    Ok(())
}

/// Writes generated requests as an importable CSV until it has at least `rows` person rows.
fn write_generated_csv(path: &std::path::Path, rows: usize, seed: u64) -> anyhow::Result<usize> {
    let mut csv = crate::commands::generate::ImportableCsv::new(std::io::BufWriter::new(
        std::fs::File::create(path)?,
    ))?;
    let mut written = 0;
    // Generated lazily: the loop stops as soon as there are enough rows.
    for g in generate(Scenario::january_2022(usize::MAX / 2, seed)) {
        written += csv.write(&g)?;
        if written >= rows {
            break;
        }
    }
    csv.finish()?;
    Ok(written)
}

async fn export(args: ExportBenchArgs) -> anyhow::Result<()> {
    let (app, dir, loaded, load_s) = demo_app(args.requests, args.seed).await?;
    let out = dir.path().join("export.csv");
    let started = Instant::now();
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let (count, _) = crate::commands::export::export_to(
        &app,
        evac_exchange::export::Format::Csv,
        false,
        Default::default(),
        file,
    )
    .await?;
    let export_s = started.elapsed().as_secs_f64();
    let size_mb = std::fs::metadata(&out)?.len() as f64 / 1e6;
    println!("machine: {}", machine());
    println!(
        "loaded {loaded} requests in {load_s:.1} s ({:.0} requests/s through the app, durable)",
        loaded as f64 / load_s
    );
    println!(
        "export: {count} requests → {size_mb:.0} MB CSV in {export_s:.1} s ({:.0} requests/s)",
        count as f64 / export_s
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Intake CPU without I/O.

fn validate(args: ValidateBenchArgs) -> anyhow::Result<()> {
    let generated: Vec<_> = generate(Scenario::january_2022(args.requests, 99)).collect();
    let region: evac_model::CountryCode = "KZ".parse()?;
    let ctx = evac_model::ValidationContext {
        now: generated[0].received_at,
        default_region: Some(region),
    };
    // One pass over the items per round; the median round is reported.
    let per_item_us =
        |started: Instant, items: usize| started.elapsed().as_secs_f64() * 1e6 / items as f64;
    let medians = |measure: &mut dyn FnMut() -> f64| {
        median((0..args.rounds.max(1)).map(|_| measure()).collect())
    };

    let validate = medians(&mut || {
        let started = Instant::now();
        for g in &generated {
            std::hint::black_box(g.draft.validate(&ctx).ok());
        }
        per_item_us(started, generated.len())
    });
    let phones: Vec<&String> = generated
        .iter()
        .flat_map(|g| {
            g.draft
                .submitter
                .phones
                .iter()
                .chain(g.draft.party.iter().flat_map(|p| &p.phones))
        })
        .collect();
    let phone = medians(&mut || {
        let started = Instant::now();
        for p in &phones {
            std::hint::black_box(evac_model::PhoneE164::parse(p, Some(region)).ok());
        }
        per_item_us(started, phones.len())
    });
    let requests: Vec<_> = generated
        .iter()
        .filter_map(|g| g.draft.validate(&ctx).ok())
        .collect();
    let serialise = medians(&mut || {
        let started = Instant::now();
        for r in &requests {
            std::hint::black_box(serde_json::to_string(r).map(|s| s.len()).unwrap_or(0));
        }
        per_item_us(started, requests.len())
    });
    println!(
        "machine: {}; {} requests, {} phones, median of {} rounds",
        machine(),
        generated.len(),
        phones.len(),
        args.rounds
    );
    println!(
        "validate: {validate:.1} µs per request; of which phone parsing {phone:.1} µs per number ({:.1} numbers per request)",
        phones.len() as f64 / generated.len() as f64
    );
    println!("serialise the stored body: {serialise:.1} µs per request");
    Ok(())
}
