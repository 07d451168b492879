//! `evac bench intake --nodes 1,2,3`: intake through HAProxy in front of several `evac serve`
//! nodes on one PostgreSQL (issue 24), each started by `scripts/cluster.sh` as an operator
//! would, next to the same balancer's no-op route (`/healthz` answered by a node).
//!
//! The nodes are this binary; the load generator is this process. CPU per answer is the nodes'
//! (from `/proc/PID/stat`), not HAProxy's, PostgreSQL's or the generator's.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use evac_app::{DatabaseUrl, open_store};

use super::{INTAKE_BODIES, IntakeArgs, Rounds, drive, machine, post_bodies};

/// How long a cluster may take to start (every node migrates and answers `/readyz`).
const CLUSTER_START_S_MAX: u64 = 120;
/// How often the benchmark asks whether linkage has caught up, in ms.
const LINKS_DUE_POLL_MS: u64 = 100;
/// How long the benchmark waits for linkage to catch up after a node count's rounds, in s.
const LINKS_DUE_WAIT_S_MAX: u64 = 300;

/// A cluster started by scripts/cluster.sh; stopped (SIGTERM to the script) when dropped.
struct Cluster {
    script: Child,
    balancer: SocketAddr,
    node_pids: Vec<u32>,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.script.id().to_string()])
            .status();
        let _ = self.script.wait();
    }
}

fn cluster_script() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/release/evac in a clone, or the working directory of one.
    let candidates = [
        exe.parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .map(|root| root.join("scripts/cluster.sh")),
        Some(PathBuf::from("scripts/cluster.sh")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .context("scripts/cluster.sh not found: run the benchmark from evac's clone")
}

fn free_base_port() -> anyhow::Result<u16> {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    (0..500u16)
        .map(|i| 30_000 + i * 20)
        .find(|&base| (0..=8).all(|k| free(base + k)) && free(base + 100))
        .context("no free range of ports for the cluster")
}

fn start(nodes: usize, database: &str) -> anyhow::Result<Cluster> {
    let dir = tempfile::tempdir()?;
    let mut script = Command::new("bash")
        .arg(cluster_script()?)
        .args(["--nodes", &nodes.to_string()])
        .args(["--port", &free_base_port()?.to_string()])
        .args(["--database-url", database])
        .arg("--data-dir")
        .arg(dir.path())
        .env("EVAC_BIN", std::env::current_exe()?)
        // The load generator is one address sending thousands a second: no flood limit here.
        .env(
            "EVAC_NODE_CONFIG_EXTRA",
            "[public_limit]\nper_address_per_s = 0\nburst = 0\n[account_limit]\nper_account_per_s = 0\nburst = 0",
        )
        .stdout(Stdio::piped())
        .spawn()
        .context("starting scripts/cluster.sh")?;
    let started = Instant::now();
    let mut balancer = None;
    let mut node_pids = Vec::new();
    for line in std::io::BufReader::new(script.stdout.take().expect("piped")).lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["balancer", url] => balancer = Some(url.trim_start_matches("http://").parse()?),
            ["node", _, _, "pid", pid] => node_pids.push(pid.parse()?),
            ["ready"] => break,
            _ => {}
        }
        if started.elapsed() > Duration::from_secs(CLUSTER_START_S_MAX) {
            break;
        }
    }
    let Some(balancer) = balancer.filter(|_| node_pids.len() == nodes) else {
        bail!(
            "the cluster did not start; see the logs in {}",
            dir.path().display()
        );
    };
    Ok(Cluster {
        script,
        balancer,
        node_pids,
        _dir: dir,
    })
}

/// CPU time the nodes have used so far (user and system; `/proc` counts 100 ticks a second).
fn nodes_cpu(pids: &[u32]) -> Option<Duration> {
    let mut ticks = 0u64;
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        ticks += fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    }
    Some(Duration::from_millis(ticks * 10))
}

pub(super) async fn intake(args: IntakeArgs) -> anyhow::Result<()> {
    let Some(database) = args
        .bench_database_url
        .as_deref()
        .filter(|u| u.starts_with("postgres"))
    else {
        bail!(
            "--nodes needs --bench-database-url naming a PostgreSQL database (the nodes share it), e.g. postgres://postgres@127.0.0.1:5432/bench"
        );
    };
    let store = open_store(&DatabaseUrl::parse(database)?, true).await?;
    store.migrate().await?;
    let posts = Arc::new(post_bodies(INTAKE_BODIES));
    let health = Arc::new(vec![
        b"GET /healthz HTTP/1.1\r\nhost: bench\r\n\r\n".to_vec(),
    ]);
    let duration = Duration::from_secs(args.seconds);
    println!(
        "machine: {}; PostgreSQL through HAProxy (scripts/cluster.sh); {} s per round, median of {} rounds",
        machine(),
        args.seconds,
        args.rounds
    );
    println!(
        "| nodes | route | concurrency | answers/s | p50 ms | p99 ms | nodes' CPU µs/answer | failed |"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &nodes in &args.nodes {
        let cluster = start(nodes, database)?;
        for &concurrency in &args.concurrency {
            let mut rows = [
                Rounds::new("GET /healthz (no-op baseline)"),
                Rounds::new("POST /api/v1/requests"),
            ];
            for _ in 0..args.rounds {
                for (row, (requests, expect)) in rows
                    .iter_mut()
                    .zip([(health.clone(), 200), (posts.clone(), 201)])
                {
                    let before = store.intake_counts().await?.requests;
                    let cpu_before = nodes_cpu(&cluster.node_pids);
                    let addr = cluster.balancer;
                    let load_requests = requests.clone();
                    let mut load = tokio::task::spawn_blocking(move || {
                        drive(addr, load_requests, expect, concurrency, duration)
                    })
                    .await?;
                    let cpu = nodes_cpu(&cluster.node_pids)
                        .zip(cpu_before)
                        .map(|(after, before)| after - before);
                    if expect == 201 {
                        // More stored than acknowledged is a request whose answer was cut
                        // (a 502): stored, not lost.
                        let stored = store.intake_counts().await?.requests - before;
                        if stored < load.ok {
                            bail!("{} requests acknowledged but {stored} stored", load.ok);
                        }
                    }
                    row.record(&mut load, cpu);
                }
            }
            for row in rows {
                println!("| {nodes} | {} |", row.table_cells(concurrency));
            }
        }
        // The lease holder links what every node took: timed from the end of the rounds.
        let rounds_over = Instant::now();
        let waiting = store.links_due_count().await?;
        let mut left = waiting;
        while left > 0 && rounds_over.elapsed() < Duration::from_secs(LINKS_DUE_WAIT_S_MAX) {
            tokio::time::sleep(Duration::from_millis(LINKS_DUE_POLL_MS)).await;
            left = store.links_due_count().await?;
        }
        if left == 0 {
            println!(
                "{nodes} node(s): every acknowledged request was stored; the lease holder linked the {waiting} still due {:.1} s after the last round",
                rounds_over.elapsed().as_secs_f64()
            );
        } else {
            println!(
                "{nodes} node(s): every acknowledged request was stored; {left} of the {waiting} due were still unlinked {LINKS_DUE_WAIT_S_MAX} s after the last round"
            );
        }
        drop(cluster);
    }
    Ok(())
}
