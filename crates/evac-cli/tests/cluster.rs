//! Two evac nodes behind a real HAProxy on one PostgreSQL, started by `scripts/cluster.sh`
//! (issue 24): intake through the balancer, a duplicate posted to each node linked, a pass
//! checked in on one node refused on the other, and the node holding the linkage lease killed
//! mid-load with nothing acknowledged lost and its linkage work taken over.
//!
//! Runs where `EVAC_TEST_POSTGRES_URL` names a server (CI always sets it, and installs
//! HAProxy); without HAProxy it fails, saying how to install it.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use evac_store_postgres::scratch::{ScratchDatabase, test_server_url};
use serde_json::{Value, json};

/// How long the survivor may take to link what the killed node left: the lease runs out
/// (5 s), one renewal period (1 s), a relink of a few hundred requests, and the drain.
const TAKEOVER_S_MAX: u64 = 60;

fn evac(data: &Path, database: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_evac"))
        .arg("--data-dir")
        .arg(data)
        .args(["--database-url", database])
        .args(args)
        .env_remove("EVAC_CONFIG")
        .env("EVAC_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "evac {args:?} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// One HTTP/1.1 exchange on a fresh connection: the status (0 when the connection failed or
/// was cut) and the body as JSON (`Null` when it is not).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    headers: &str,
    body: &Value,
) -> (u16, Value) {
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return (0, Value::Null);
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}connection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, Value::Null);
    }
    let mut response = Vec::new();
    if stream.read_to_end(&mut response).is_err() {
        return (0, Value::Null);
    }
    let response = String::from_utf8_lossy(&response);
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

/// One value from the database, by `psql` (PostgreSQL's own client). The query goes in on
/// standard input: a query naming every acknowledged id outgrows one argument's limit (128 KiB).
fn sql(database: &str, query: &str) -> String {
    let mut psql = Command::new("psql")
        .args([database, "-tA", "-v", "ON_ERROR_STOP=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql (Debian's postgresql-client) is installed");
    let mut stdin = psql.stdin.take().expect("psql's input is piped");
    stdin
        .write_all(query.as_bytes())
        .expect("psql reads the query");
    stdin.write_all(b";\n").expect("psql reads the query");
    drop(stdin);
    let out = psql.wait_with_output().expect("psql ends");
    assert!(
        out.status.success(),
        "{}…: {}",
        query.chars().take(200).collect::<String>(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn family(surname: &str, given: &str, phone: &str) -> Value {
    json!({
        "channel": "hotline",
        "location": { "text": "Almaty", "country": "KZ" },
        "submitter": { "phones": [phone] },
        "party": [
            { "surname": surname, "given_names": given, "birth_date": "1987-03-09", "sex": "F" },
            { "surname": surname, "given_names": "Айша", "birth_date": "2014-06-01", "sex": "F" },
        ],
        "consent": true,
    })
}

/// Four free ports in a row from a base, and the base + 100 (HAProxy's status page).
fn free_base_port() -> u16 {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let seed = std::process::id() as u16;
    (0..200)
        .map(|i| 20_000 + (seed.wrapping_add(i * 37) % 20_000))
        .find(|&base| (0..4).all(|k| free(base + k)) && free(base + 100))
        .expect("a free range of ports")
}

struct Cluster {
    script: Child,
    balancer: String,
    nodes: Vec<(String, u32)>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGTERM: the script stops its nodes and HAProxy.
        let _ = Command::new("kill")
            .args(["-TERM", &self.script.id().to_string()])
            .status();
        let _ = self.script.wait();
    }
}

fn start_cluster(data: &Path, database: &str) -> Cluster {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/cluster.sh");
    let mut child = Command::new("bash")
        .arg(script)
        .args(["--nodes", "2", "--port", &free_base_port().to_string()])
        .args(["--database-url", database])
        .arg("--data-dir")
        .arg(data)
        .env("EVAC_BIN", env!("CARGO_BIN_EXE_evac"))
        .env("EVAC_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut balancer = String::new();
    let mut nodes = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["balancer", url] => balancer = url.trim_start_matches("http://").into(),
            ["node", _, url, "pid", pid] => nodes.push((
                url.trim_start_matches("http://").into(),
                pid.parse().unwrap(),
            )),
            ["ready"] => break,
            _ => {}
        }
    }
    assert!(
        !balancer.is_empty() && nodes.len() == 2,
        "the cluster did not start; see {}",
        data.display()
    );
    Cluster {
        script: child,
        balancer,
        nodes,
    }
}

fn poll_until<T>(what: &str, within: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_behind_haproxy_take_link_and_check_in_as_one() {
    let Some(admin) = test_server_url() else {
        return;
    };
    assert!(
        Command::new("haproxy").arg("-v").output().is_ok(),
        "HAProxy is not installed: apt-get install haproxy (.ci/run does)"
    );
    let scratch = ScratchDatabase::create(&admin).await.unwrap();
    let database = scratch.url().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();

    // A generated crisis with two flights, and a token, from the console.
    let printed = evac(
        &data,
        &database,
        &[
            "demo",
            "--requests",
            "200",
            "--no-serve",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    let token = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("token:"))
        .unwrap()
        .trim()
        .to_string();

    let database_for_threads = database.clone();
    let report = tokio::task::spawn_blocking(move || {
        let cluster = start_cluster(&data, &database_for_threads);
        let (node_1, node_2) = (&cluster.nodes[0].0, &cluster.nodes[1].0);
        let lb = &cluster.balancer;

        // Intake through the balancer: every acknowledged request reads back on both nodes.
        let mut ids = Vec::new();
        for i in 0..20 {
            let body = family(&format!("Балансова{i}"), "Дана", &format!("+7 701 300 {:02} {:02}", i / 100, i % 100));
            let (status, ack) = http(lb, "POST", "/api/v1/requests", &token, "", &body);
            assert_eq!(status, 201, "{ack}");
            ids.push(ack["id"].as_str().unwrap().to_string());
        }
        for node in [node_1, node_2] {
            for id in &ids {
                let (status, _) = http(node, "GET", &format!("/api/v1/requests/{id}"), &token, "", &Value::Null);
                assert_eq!(status, 200, "request {id} on {node}");
            }
        }

        // A Cyrillic family on node 1, its Latin copy on node 2: linked, whichever node links.
        let (status, web) = http(node_1, "POST", "/api/v1/requests", &token, "", &family("Жұмабаева", "Әйгерім", "8 701 555 12 34"));
        assert_eq!(status, 201, "{web}");
        let (status, hotline) = http(node_2, "POST", "/api/v1/requests", &token, "", &family("Zhumabayeva", "Aigerim", "8 701 555 12 34"));
        assert_eq!(status, 201, "{hotline}");
        let (web, hotline) = (web["id"].as_str().unwrap(), hotline["id"].as_str().unwrap());
        let posted = Instant::now();
        for node in [node_1, node_2] {
            poll_until("the duplicate across nodes is linked", Duration::from_secs(20), || {
                let (_, links) = http(node, "GET", &format!("/api/v1/requests/{hotline}/links"), &token, "", &Value::Null);
                let household = links["household_requests"].as_array()?;
                household.iter().any(|r| r == web).then_some(())
            });
        }
        let linked_after = posted.elapsed();

        // A plan published through the balancer; a pass checked in on node 1 is refused on 2.
        let (status, plan) = http(lb, "POST", "/api/v1/plans/publish", &token, "", &json!({}));
        assert_eq!(status, 200, "{plan}");
        let transport = plan["seated"][0]["transport"].as_str().unwrap().to_string();
        let (status, passes) = http(lb, "GET", &format!("/api/v1/transports/{transport}/passes"), &token, "", &Value::Null);
        assert_eq!(status, 200, "{passes}");
        let pass = passes["items"][0]["token"].as_str().unwrap().to_string();
        let (status, checked) = http(node_1, "POST", "/api/v1/check-in", &token, "", &json!({ "token": pass }));
        assert_eq!(status, 200, "{checked}");
        let (status, again) = http(node_2, "POST", "/api/v1/check-in", &token, "", &json!({ "token": pass }));
        assert_eq!(status, 409, "a second scan on the other node: {again}");

        // Load through the balancer, and the node holding the linkage lease killed mid-load:
        // every acknowledged request is kept and linked by the survivor. A post cut by the
        // kill is retried with its Idempotency-Key, as a client does.
        let holder = poll_until("a node holds the linkage lease", Duration::from_secs(10), || {
            let name = sql(&database_for_threads, "SELECT holder FROM leases WHERE name = 'linkage'");
            name.strip_prefix("node-")?.parse::<usize>().ok()
        });
        let (victim_addr, victim_pid) = cluster.nodes[holder - 1].clone();
        let survivor = &cluster.nodes[2 - holder].0;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let loaders: Vec<_> = (0..4)
            .map(|l| {
                let (lb, token, stop) = (lb.clone(), token.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut acknowledged = Vec::new();
                    let mut i = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let key = format!("idempotency-key: cluster-{l}-{i}\r\n");
                        let body = family(&format!("Нагрузова{l}x{i}"), "Мира", &format!("+7 702 {l}00 {:02} {:02}", i / 100 % 100, i % 100));
                        let mut tries = 0;
                        loop {
                            let (status, ack) = http(&lb, "POST", "/api/v1/requests", &token, &key, &body);
                            if status == 201 || status == 200 {
                                acknowledged.push(ack["id"].as_str().unwrap().to_string());
                                break;
                            }
                            tries += 1;
                            assert!(tries < 50, "a post kept failing: {status} {ack}");
                            std::thread::sleep(Duration::from_millis(100));
                        }
                        i += 1;
                    }
                    acknowledged
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1_500));
        let killed = Command::new("kill").args(["-KILL", &victim_pid.to_string()]).status().unwrap();
        assert!(killed.success());
        let killed_at = Instant::now();
        std::thread::sleep(Duration::from_millis(2_500));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let acknowledged: Vec<String> = loaders.into_iter().flat_map(|l| l.join().unwrap()).collect();
        assert!(acknowledged.len() > 20, "the load ran: {}", acknowledged.len());
        // Read in the database itself: the API limits one account's reads per second.
        let listed = acknowledged.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(",");
        let kept = sql(&database_for_threads, &format!("SELECT count(*) FROM requests WHERE id IN ({listed})"));
        assert_eq!(kept, acknowledged.len().to_string(), "every acknowledged request is kept");
        let (status, _) = http(survivor, "GET", &format!("/api/v1/requests/{}", acknowledged[0]), &token, "", &Value::Null);
        assert_eq!(status, 200, "the survivor serves");
        let (status, _) = http(&victim_addr, "GET", "/healthz", &token, "", &Value::Null);
        assert_eq!(status, 0, "the killed node is gone");
        let survivor_name = format!("node-{}", 3 - holder);
        poll_until("the survivor holds the lease and nothing waits for linking", Duration::from_secs(TAKEOVER_S_MAX), || {
            let said = sql(&database_for_threads, "SELECT (SELECT holder FROM leases WHERE name = 'linkage') || ' ' || (SELECT count(*) FROM links_due)");
            (said == format!("{survivor_name} 0")).then_some(())
        });
        format!(
            "duplicate linked after {linked_after:?}; {} acknowledged under load; taken over and drained {:?} after the kill",
            acknowledged.len(),
            killed_at.elapsed()
        )
    })
    .await
    .unwrap();
    println!("{report}");
    scratch.drop_now().await.unwrap();
}
