//! SMS through a real Kannel (issue 25): bearerbox and smsbox from Debian's `kannel` package
//! with Kannel's own fake SMS centre (`fakesmsc`, package `kannel-extras`) standing in for the
//! operator, started by this test on ports of its own from `ops/kannel/kannel.conf.in`.
//!
//! A family that asked in Russian is seated by a published plan; its seat notice leaves
//! evac's outbox through Kannel's sendsms, reaches the "phone" (fakesmsc) in Cyrillic, and
//! Kannel's delivery report marks it delivered, the family notified. The phone answers "НЕТ":
//! the inbound SMS reaches evac through smsbox, withdraws the request, and the answer goes
//! back to the phone. CI installs Kannel and never skips this; elsewhere a missing Kannel is
//! announced loudly.

#[path = "../../evac-app/tests/common/ports.rs"]
mod ports;
use ports::free_port;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use evac_app::{App, KannelSettings, MessagingSettings, Settings, open_store};
use evac_model::{PersonStatus, Role};
use evac_store::{MessageFilter, MessageState};

const BEARERBOX: &str = "/usr/sbin/bearerbox";
const SMSBOX: &str = "/usr/sbin/smsbox";
const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";
const SECRET: &str = "kannel-test-secret";
/// How long a box may take to start, a message to arrive, in ms.
const WAIT_MS: u64 = 20_000;

/// Kannel's processes, killed when the test ends however it ends.
struct Kannel {
    children: Vec<Child>,
    dir: tempfile::TempDir,
    /// The fake SMS centre's standard input: a line is an SMS from a phone.
    phone: std::fs::File,
}

impl Drop for Kannel {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn kannel_installed() -> bool {
    let present = [BEARERBOX, SMSBOX, FAKESMSC]
        .iter()
        .all(|p| Path::new(p).exists());
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but Kannel is not installed (apt-get install kannel kannel-extras): this test must run in CI"
        );
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !! Kannel is not installed: the SMS test did NOT run.                  !!\n\
             !! apt-get install kannel kannel-extras (bash .ci/run does it in CI)   !!\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
    }
    present
}

/// Waits until `file` holds `line` (a box's "ready" log line, an SMS at the phone).
fn wait_for(file: &Path, line: &str) -> String {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.contains(line) {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_millis(WAIT_MS),
            "{} never said «{line}»:\n{text}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Kannel {
    fn start(evac_url: &str, sendsms_port: u16, password: &str) -> Kannel {
        let dir = tempfile::tempdir().unwrap();
        let (admin, smsbox, fake) = (free_port(), free_port(), free_port());
        let template = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ops/kannel/kannel.conf.in"),
        )
        .unwrap();
        let config = template
            .replace("@ADMIN_PORT@", &admin.to_string())
            .replace("@ADMIN_PASSWORD@", "admin-test")
            .replace("@SMSBOX_PORT@", &smsbox.to_string())
            .replace("@FAKESMSC_PORT@", &fake.to_string())
            .replace("@SENDSMS_PORT@", &sendsms_port.to_string())
            .replace("@SENDSMS_PASSWORD@", password)
            .replace("@DIR@", dir.path().to_str().unwrap())
            .replace("@EVAC_URL@", evac_url)
            .replace("@SECRET@", SECRET);
        let conf = dir.path().join("kannel.conf");
        std::fs::write(&conf, config).unwrap();
        let quiet = |name: &str| std::fs::File::create(dir.path().join(name)).unwrap();
        let mut children = Vec::new();
        children.push(
            Command::new(BEARERBOX)
                .args(["-v", "4"])
                .arg(&conf)
                .stdout(quiet("bearerbox.out"))
                .stderr(quiet("bearerbox.err"))
                .spawn()
                .unwrap(),
        );
        wait_for(
            &dir.path().join("bearerbox.log"),
            "Start-up done, entering mainloop",
        );
        children.push(
            Command::new(SMSBOX)
                .args(["-v", "4"])
                .arg(&conf)
                .stdout(quiet("smsbox.out"))
                .stderr(quiet("smsbox.err"))
                .spawn()
                .unwrap(),
        );
        wait_for(&dir.path().join("smsbox.log"), "Connected to bearerbox");
        // fakesmsc reads SMS to inject from its standard input; closing it would crash it, so
        // the test holds a FIFO open.
        let fifo = dir.path().join("phone.in");
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::File::open(fifo).unwrap())
        };
        let phone = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        let stdin = reader.join().unwrap();
        children.push(
            Command::new(FAKESMSC)
                .args(["-H", "127.0.0.1", "-r", &fake.to_string()])
                .stdin(Stdio::from(stdin))
                .stdout(quiet("phone.out"))
                .stderr(quiet("phone.err"))
                .spawn()
                .unwrap(),
        );
        wait_for(
            &dir.path().join("bearerbox.log"),
            "Fakesmsc client connected",
        );
        Kannel {
            children,
            dir,
            phone,
        }
    }

    /// What the fake SMS centre printed (the messages the phone got), both streams.
    fn phone_log(&self) -> PathBuf {
        self.dir.path().join("phone.err")
    }

    /// An SMS from the phone to the service number.
    fn text_from(&mut self, phone: &str, text: &str) {
        writeln!(self.phone, "{phone} 1400 text {text}").unwrap();
        self.phone.flush().unwrap();
    }
}

/// The texts the phone got: fakesmsc prints `Got message N: <from to ucs-2 DATA>` with DATA
/// URL-encoded UTF-16BE (`+` a space), or `text DATA` for GSM text.
fn received_texts(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.split_once("Got message ")?.1.split_once(": <"))
        .filter_map(|(_, rest)| {
            let rest = rest.strip_suffix('>')?;
            let mut parts = rest.splitn(4, ' ');
            let (_from, _to, kind, data) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let bytes: Vec<u8> = {
                let mut out = Vec::new();
                let mut it = data.bytes();
                while let Some(b) = it.next() {
                    match b {
                        b'+' => out.push(b' '),
                        b'%' => {
                            let hex: String = [it.next()?, it.next()?]
                                .iter()
                                .map(|&c| c as char)
                                .collect();
                            out.push(u8::from_str_radix(&hex, 16).ok()?);
                        }
                        b => out.push(b),
                    }
                }
                out
            };
            Some(match kind {
                "ucs-2" => {
                    let units: Vec<u16> = bytes
                        .chunks(2)
                        .map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)]))
                        .collect();
                    String::from_utf16_lossy(&units)
                }
                _ => String::from_utf8_lossy(&bytes).to_string(),
            })
        })
        .collect()
}

/// A migrated SQLite store in a directory of its own (kept while the directory lives).
async fn migrated_store() -> (tempfile::TempDir, std::sync::Arc<dyn evac_store::Store>) {
    let data = tempfile::tempdir().unwrap();
    let store = open_store(
        &evac_app::DatabaseUrl::Sqlite(data.path().join("evac.db")),
        true,
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    (data, store)
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_millis(WAIT_MS),
            "{what} did not happen within {WAIT_MS} ms"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_notice_reaches_the_phone_through_kannel_and_a_reply_withdraws_the_request() {
    if !kannel_installed() {
        return;
    }
    // evac first, on a port of its own, then Kannel pointing at it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evac_url = format!("http://{}", listener.local_addr().unwrap());
    let sendsms_port = free_port();
    let (_data, store) = migrated_store().await;
    let settings = Settings {
        messaging: MessagingSettings {
            public_url: evac_url.clone(),
            callback_secret: Some(SECRET.into()),
            sms: Some(KannelSettings {
                sendsms_url: format!("http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms"),
                username: "evac".into(),
                password: "sendsms-test".into(),
                callback_url: evac_url.clone(),
                messages_per_second: 20,
                reports_within_s: evac_app::KANNEL_REPORTS_WITHIN_S,
            }),
            ..MessagingSettings::default()
        },
        ..Settings::default()
    };
    let app = App::new(store, settings);
    tokio::spawn(evac_web::serve(
        listener,
        app.clone(),
        std::future::pending(),
    ));
    let mut kannel = Kannel::start(&evac_url, sendsms_port, "sendsms-test");
    let _senders = app.start_senders().unwrap();

    // A family in Almaty asks in Russian; Almaty's airport and road are open; a flight.
    app.add_user(None, "super1", Role::Supervisor, "correct horse battery")
        .await
        .unwrap();
    let staff = app.console_staff("super1").await.unwrap();
    let start: evac_model::Timestamp = "2022-01-05T06:00:00Z".parse().unwrap();
    app.seed_demo_situation(&staff, start).await.unwrap();
    for (subject, effect) in [("hub:ALA", "open"), ("route:almaty-airport", "open")] {
        let statement = evac_model::StatementDraft {
            subject: Some(subject.into()),
            effect: Some(effect.into()),
            from: Some("2022-01-05T07:00:00Z".into()),
            ..Default::default()
        }
        .validate(start)
        .unwrap();
        app.set_status_as(&staff, &statement).await.unwrap();
    }
    let draft = evac_model::RequestDraft {
        language: Some("ru".into()),
        submitter: evac_model::SubmitterDraft {
            name: Some("Алия Токаева".into()),
            phones: vec!["8 701 123 45 67".into()],
            ..Default::default()
        },
        location: evac_model::LocationDraft {
            text: Some("Алматы, гостиница Казахстан".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        party: vec![evac_model::PersonDraft {
            surname: Some("Токаева".into()),
            given_names: Some("Алия".into()),
            birth_date: Some("02.03.1985".into()),
            ..Default::default()
        }],
        consent: Some(true),
        ..Default::default()
    };
    let submitted = app
        .submit_request_at(
            &evac_model::Actor::Public,
            &draft,
            None,
            start.plus_seconds(3600),
        )
        .await
        .unwrap();
    let flight = evac_model::TransportDraft {
        code: Some("SU 1942".into()),
        hub: Some("ALA".into()),
        destination: Some("Москва".into()),
        departs_at: Some("2022-01-07T08:00:00Z".into()),
        seats: Some("100".into()),
        ..Default::default()
    };
    app.add_transport(&staff, &flight).await.unwrap();
    let published = app
        .publish_plan(&staff, start.plus_seconds(4 * 3600))
        .await
        .unwrap();
    assert_eq!(published.people_seated, 1);

    // The notice reaches the phone in Cyrillic, with the flight and the hub's local time
    // (14:00 in Almaty), and Kannel's delivery report comes back.
    let log = kannel.phone_log();
    let reference = submitted.reference.to_string();
    wait_for(&log, "Got message");
    let notice = eventually("the seat notice at the phone", async || {
        let texts = received_texts(&std::fs::read_to_string(&log).unwrap_or_default());
        texts
            .into_iter()
            .find(|t| t.contains(&reference) && t.contains("SU 1942"))
    })
    .await;
    // And the acknowledgement of the request, with its reference.
    eventually("the acknowledgement at the phone", async || {
        let texts = received_texts(&std::fs::read_to_string(&log).unwrap_or_default());
        texts
            .iter()
            .any(|t| t.contains(&reference) && t.contains("принят"))
            .then_some(())
    })
    .await;
    assert!(
        notice.contains("SU 1942") && notice.contains("14:00"),
        "{notice}"
    );
    assert!(notice.contains("место"), "in Russian: {notice}");
    let delivered = eventually("the delivery report", async || {
        let sent = app
            .store()
            .messages(
                &MessageFilter {
                    request: Some(submitted.id),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap();
        sent.into_iter()
            .find(|m| m.template == "seat" && m.state == MessageState::Delivered)
    })
    .await;
    assert_eq!(delivered.channel, "sms");
    assert_eq!(delivered.recipient, "+77011234567");
    let status = |app: App| async move {
        app.store()
            .request(submitted.id)
            .await
            .unwrap()
            .unwrap()
            .statuses[0]
            .1
    };
    assert_eq!(status(app.clone()).await, PersonStatus::Notified);

    // The phone answers НЕТ: the request is withdrawn and the phone is told so.
    kannel.text_from("+77011234567", "НЕТ");
    eventually("the withdrawal", async || {
        (status(app.clone()).await == PersonStatus::Withdrawn).then_some(())
    })
    .await;
    eventually("the answer at the phone", async || {
        let texts = received_texts(&std::fs::read_to_string(&log).unwrap_or_default());
        texts.iter().any(|t| t.contains("снят")).then_some(())
    })
    .await;
    let inbound = app
        .store()
        .inbound(&[], Some(submitted.id), 10)
        .await
        .unwrap();
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0].understood, "no");
    // A callback without the secret is refused.
    let refused = reqwest::get(format!(
        "{evac_url}/api/v1/channels/sms/inbound?secret=guess&from=%2B77011234567&text=NO"
    ))
    .await
    .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
}

/// A send that a crash cut after Kannel took it: the restarted node holds the message back
/// while smsbox retries the delivery report the dead node could not take, and the report
/// settles it. The phone gets it once (it got it twice when a restarted node sent at once
/// what it had held).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_cut_by_a_crash_is_settled_by_kannels_report_not_sent_twice() {
    if !kannel_installed() {
        return;
    }
    // evac is "down" (nothing listens on its port) while the send is cut.
    let evac_port = free_port();
    let evac_url = format!("http://127.0.0.1:{evac_port}");
    let sendsms_port = free_port();
    let kannel = Kannel::start(&evac_url, sendsms_port, "sendsms-test");
    let (_data, store) = migrated_store().await;
    let sms = KannelSettings {
        sendsms_url: format!("http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms"),
        username: "evac".into(),
        password: "sendsms-test".into(),
        callback_url: evac_url.clone(),
        messages_per_second: 20,
        reports_within_s: 6,
    };
    let node = "node-cut".to_string();
    let settings = Settings {
        messaging: MessagingSettings {
            public_url: evac_url.clone(),
            callback_secret: Some(SECRET.into()),
            sms: Some(sms.clone()),
            node: node.clone(),
            ..MessagingSettings::default()
        },
        ..Settings::default()
    };
    let now = evac_model::Timestamp::now();
    let text = "Drill: stay indoors tonight, keep your phone on.";
    let message = evac_store::NewMessage {
        id: evac_model::MessageId::new_v7(),
        dedup_key: "drill:cut".into(),
        request: None,
        persons: vec![],
        channel: "sms".into(),
        recipient: "+77011234500".into(),
        language: "en".into(),
        template: "broadcast".into(),
        body: text.into(),
        parts: 1,
        priority: 5,
        created_at: now,
    };
    store
        .enqueue_messages(vec![message.clone()], vec![])
        .await
        .unwrap();
    // The node claims it and Kannel takes it, then the node dies before it records that.
    let claimed = store
        .claim_messages("sms", &node, now, now.plus_seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let channel = evac_app::KannelChannel::new(sms, SECRET.into()).unwrap();
    evac_app::Channel::send(&channel, &claimed[0])
        .await
        .expect("Kannel takes the message");
    let log = kannel.phone_log();
    wait_for(&log, "Got message");

    // The node restarts under its name: its server and its senders.
    let app = App::new(store, settings);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", evac_port))
        .await
        .unwrap();
    tokio::spawn(evac_web::serve(
        listener,
        app.clone(),
        std::future::pending(),
    ));
    let _senders = app.start_senders().unwrap();
    let settled = eventually("the retried report settles the message", async || {
        let found = app
            .store()
            .messages(&MessageFilter::default(), 10)
            .await
            .unwrap();
        found.into_iter().find(|m| {
            m.id == message.id && matches!(m.state, MessageState::Sent | MessageState::Delivered)
        })
    })
    .await;
    assert_eq!(settled.attempts, 1, "{settled:?}");
    // Past the hold: nothing went out again.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let got = received_texts(&std::fs::read_to_string(&log).unwrap_or_default())
        .into_iter()
        .filter(|t| t == text)
        .count();
    assert_eq!(got, 1, "the phone got the message {got} times");
    let after = app
        .store()
        .messages(&MessageFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].attempts, 1, "{:?}", after[0]);
}
