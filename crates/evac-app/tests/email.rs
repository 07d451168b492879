//! E-mail through real servers (issue 25): OpenSMTPD (Debian's `opensmtpd`) as the relay and
//! the world's mail, Dovecot (`dovecot-imapd`, `dovecot-lmtpd`) holding every mailbox, both
//! started by this test on ports of their own from `ops/mail/*.in`.
//!
//! A requester who gave only an e-mail address is told her reference by e-mail; her reply
//! "NO" (above the quoted notice) withdraws the request and is answered; a partner's e-mail
//! with a spreadsheet attached becomes imported requests, its refused row named; a stranger's
//! plea waits unmatched for a human; two nodes reading the mailbox at once keep and act on
//! each message once; reading it again after a crash stores nothing twice. CI installs the servers and never skips this; elsewhere their absence is announced.

#[path = "common/ports.rs"]
mod ports;
use ports::free_port;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use evac_app::{App, EmailSettings, ImapSettings, MessagingSettings, Settings, open_store};
use evac_model::{PersonStatus, Role};
use evac_store::{MessageFilter, MessageState};
use futures_util::StreamExt;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

const DOVECOT: &str = "/usr/sbin/dovecot";
const SMTPD: &str = "/usr/sbin/smtpd";
const PASSWORD: &str = "evac-test";
const CRISIS: &str = "crisis@evac.test";
/// How long a server may take to start, a message to arrive, in ms.
const WAIT_MS: u64 = 20_000;

/// The mail servers, stopped when the test ends however it ends.
struct MailServers {
    children: Vec<Child>,
    _dir: tempfile::TempDir,
    smtp_port: u16,
    imap_port: u16,
}

impl Drop for MailServers {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn mail_servers_installed() -> bool {
    let present = [DOVECOT, SMTPD].iter().all(|p| Path::new(p).exists())
        && Path::new("/usr/lib/dovecot/lmtp").exists();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the mail servers are not installed (apt-get install opensmtpd dovecot-imapd dovecot-lmtpd): this test must run in CI"
        );
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !! OpenSMTPD or Dovecot is not installed: the e-mail test did NOT run.       !!\n\
             !! apt-get install opensmtpd dovecot-imapd dovecot-lmtpd (bash .ci/run does) !!\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
    }
    present
}

fn wait_for_port(port: u16, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_millis(WAIT_MS),
            "{what} never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl MailServers {
    fn start() -> MailServers {
        let dir = tempfile::tempdir().unwrap();
        let (smtp_port, imap_port, lmtp_port) = (free_port(), free_port(), free_port());
        let ops = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ops/mail");
        let fill = |name: &str| {
            std::fs::read_to_string(ops.join(name))
                .unwrap()
                .replace("@DIR@", dir.path().to_str().unwrap())
                .replace("@IMAP_PORT@", &imap_port.to_string())
                .replace("@LMTP_PORT@", &lmtp_port.to_string())
                .replace("@SMTP_PORT@", &smtp_port.to_string())
                .replace("@PASSWORD@", PASSWORD)
        };
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        // Dovecot delivers as its own user; the scratch directory must let it in.
        assert!(
            Command::new("chown")
                .args(["dovecot:dovecot"])
                .arg(dir.path().join("mail"))
                .status()
                .unwrap()
                .success()
        );
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let dovecot_conf = dir.path().join("dovecot.conf");
        std::fs::write(&dovecot_conf, fill("dovecot.conf.in")).unwrap();
        let smtpd_conf = dir.path().join("smtpd.conf");
        std::fs::write(&smtpd_conf, fill("smtpd.conf.in")).unwrap();
        std::fs::set_permissions(
            &smtpd_conf,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let log = |name: &str| std::fs::File::create(dir.path().join(name)).unwrap();
        let dovecot = Command::new(DOVECOT)
            .args(["-F", "-c"])
            .arg(&dovecot_conf)
            .stdout(log("dovecot.out"))
            .stderr(log("dovecot.err"))
            .spawn()
            .unwrap();
        let smtpd_log = (log("smtpd.out"), log("smtpd.err"));
        // Owned from the first server on, so a server that fails to start stops the others
        // (a Dovecot left running after a failed start outlived the test).
        let mut servers = MailServers {
            children: vec![dovecot],
            _dir: dir,
            smtp_port,
            imap_port,
        };
        wait_for_port(imap_port, "Dovecot's IMAP");
        wait_for_port(lmtp_port, "Dovecot's LMTP");
        servers.children.push(
            Command::new(SMTPD)
                .args(["-d", "-f"])
                .arg(&smtpd_conf)
                .stdout(smtpd_log.0)
                .stderr(smtpd_log.1)
                .spawn()
                .unwrap(),
        );
        wait_for_port(smtp_port, "OpenSMTPD");
        servers
    }

    /// Sends an e-mail as someone in the world would, through the same relay.
    async fn send(&self, raw: lettre::Message) {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(self.smtp_port)
            .build()
            .send(raw)
            .await
            .unwrap();
    }

    async fn imap_session(&self, address: &str) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().unwrap();
        client
            .login(address, PASSWORD)
            .await
            .map_err(|e| e.0)
            .unwrap()
    }

    /// The raw messages in `address`'s inbox.
    async fn inbox_of(&self, address: &str) -> Vec<String> {
        let mut session = self.imap_session(address).await;
        let mailbox = session.select("INBOX").await.unwrap();
        let mut texts = Vec::new();
        if mailbox.exists > 0 {
            let fetched: Vec<_> = session
                .fetch("1:*", "BODY.PEEK[]")
                .await
                .unwrap()
                .collect()
                .await;
            for f in fetched {
                texts.push(String::from_utf8_lossy(f.unwrap().body().unwrap()).to_string());
            }
        }
        session.logout().await.unwrap();
        texts
    }

    /// Marks every message of the crisis mailbox unseen again: as if evac had crashed after
    /// storing them and before the server heard it had read them.
    async fn forget_reading(&self) {
        let mut session = self.imap_session(CRISIS).await;
        session.select("INBOX").await.unwrap();
        let _: Vec<_> = session
            .store("1:*", "-FLAGS ($EvacRead)")
            .await
            .unwrap()
            .collect()
            .await;
        session.logout().await.unwrap();
    }
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

fn decoded_text(raw: &str) -> String {
    let parsed = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    format!(
        "{}\n{}",
        parsed.subject().unwrap_or(""),
        parsed.body_text(0).unwrap_or_default()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requesters_are_told_by_email_and_their_mail_is_read() {
    if !mail_servers_installed() {
        return;
    }
    let mail = MailServers::start();
    let data = tempfile::tempdir().unwrap();
    let store = open_store(
        &evac_app::DatabaseUrl::Sqlite(data.path().join("evac.db")),
        true,
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let settings = Settings {
        messaging: MessagingSettings {
            public_url: "https://evac.example".into(),
            email: Some(EmailSettings {
                smtp_host: "127.0.0.1".into(),
                smtp_port: mail.smtp_port,
                smtp_username: None,
                smtp_password: None,
                from: format!("Crisis centre <{CRISIS}>"),
                messages_per_second: 50,
                imap: Some(ImapSettings {
                    host: "127.0.0.1".into(),
                    port: mail.imap_port,
                    username: CRISIS.into(),
                    password: PASSWORD.into(),
                    mailbox: "INBOX".into(),
                    poll_seconds: 3600,
                }),
                import_from: vec!["desk@ngo.example".into()],
            }),
            ..MessagingSettings::default()
        },
        ..Settings::default()
    };
    // Two nodes over one database, both reading the mailbox (every node does).
    let other_node = App::new(store.clone(), settings.clone());
    let app = App::new(store, settings);
    let _senders = app.start_senders().unwrap();
    app.add_user(None, "super1", Role::Supervisor, "correct horse battery")
        .await
        .unwrap();
    let staff = app.console_staff("super1").await.unwrap();

    // Anna gave only an e-mail address, in Italian: her acknowledgement goes by e-mail.
    let draft = evac_model::RequestDraft {
        language: Some("it".into()),
        submitter: evac_model::SubmitterDraft {
            name: Some("Anna Rossi".into()),
            email: Some("Anna.Rossi@Example.org".into()),
            ..Default::default()
        },
        location: evac_model::LocationDraft {
            text: Some("Almaty, Hotel Kazakhstan".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        party: vec![evac_model::PersonDraft {
            surname: Some("Rossi".into()),
            given_names: Some("Anna".into()),
            birth_date: Some("02.03.1985".into()),
            ..Default::default()
        }],
        consent: Some(true),
        ..Default::default()
    };
    let anna = app
        .submit_request(&evac_model::Actor::Public, &draft, None)
        .await
        .unwrap();
    let reference = anna.reference.to_string();
    let ack = eventually("the acknowledgement reaching Anna's mailbox", async || {
        mail.inbox_of("anna.rossi@example.org").await.pop()
    })
    .await;
    let ack_text = decoded_text(&ack);
    assert!(
        ack_text.contains(&reference),
        "the acknowledgement names the reference: {ack_text}"
    );
    assert!(
        ack.contains(&format!("From: \"Crisis centre\" <{CRISIS}>")),
        "{ack}"
    );
    // (The relay may deliver before the sender has recorded its answer.)
    let sent = eventually("the acknowledgement recorded as sent", async || {
        let sent = app
            .outbox(
                &staff,
                &MessageFilter {
                    request: Some(anna.id),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap();
        (sent.len() == 1 && sent[0].state == MessageState::Sent).then_some(sent)
    })
    .await;
    assert_eq!(
        (sent[0].channel.as_str(), sent[0].template.as_str()),
        ("email", "ack")
    );
    // Her status page takes her address, as the acknowledgement says.
    let status = app
        .public_status(&reference, "ANNA.ROSSI@example.org")
        .await
        .unwrap()
        .expect("found by reference and address");
    assert!(status.messages.iter().any(|m| m.template == "ack"));
    assert!(
        app.public_status(&reference, "mallory@example.org")
            .await
            .unwrap()
            .is_none()
    );
    let message_id = sent[0].provider_id.clone().unwrap();
    assert!(ack.contains(&format!("Message-ID: {message_id}")), "{ack}");

    // Someone forges her address: "NO" with her code, answering nothing evac sent. A From
    // line proves nothing: it waits for a human and withdraws nothing.
    mail.send(
        lettre::Message::builder()
            .from("Anna Rossi <anna.rossi@example.org>".parse().unwrap())
            .to(CRISIS.parse().unwrap())
            .subject(format!("NO {reference}"))
            .body(format!("NO {reference}"))
            .unwrap(),
    )
    .await;
    // She replies NO above the quoted notice.
    mail.send(
        lettre::Message::builder()
            .from("Anna Rossi <anna.rossi@example.org>".parse().unwrap())
            .to(CRISIS.parse().unwrap())
            .subject(format!("Re: evac: {reference}"))
            .in_reply_to(message_id.clone())
            .body(format!(
                "NO\r\n\r\nOn Fri, 7 Jan 2022, Crisis centre <{CRISIS}> wrote:\r\n> {ack_text}\r\n"
            ))
            .unwrap(),
    )
    .await;
    // A partner sends a spreadsheet of three families, one with an impossible birth date.
    let sheet = "Семья;ФИО;Дата рождения;Телефон;Город;Родство\n\
                 A1;Иванова Мария Петровна;02.03.1980;8 701 123 45 67;Алматы;сама\n\
                 A1;Иванов Пётр Сергеевич;05.06.2012;;Алматы;сын\n\
                 B2;Петров Олег;31.02.1990;8 701 765 43 21;Астана;\n\
                 C3;Сидорова Ольга;1975-01-01;8 702 111 22 33;Алматы;\n";
    let with_sheet = lettre::Message::builder()
        .from("Partner NGO <desk@ngo.example>".parse().unwrap())
        .to(CRISIS.parse().unwrap())
        .subject("Список граждан в Алматы")
        .multipart(
            lettre::message::MultiPart::mixed()
                .singlepart(lettre::message::SinglePart::plain(
                    "Добрый день, список во вложении.".to_string(),
                ))
                .singlepart(
                    lettre::message::Attachment::new("список.csv".into())
                        .body(sheet.as_bytes().to_vec(), "text/csv".parse().unwrap()),
                ),
        )
        .unwrap();
    mail.send(with_sheet).await;
    // A stranger sends a spreadsheet too: not a sender evac imports from.
    mail.send(
        lettre::Message::builder()
            .from("someone@elsewhere.example".parse().unwrap())
            .to(CRISIS.parse().unwrap())
            .subject("list")
            .multipart(
                lettre::message::MultiPart::mixed()
                    .singlepart(lettre::message::SinglePart::plain(
                        "see attached".to_string(),
                    ))
                    .singlepart(
                        lettre::message::Attachment::new("list.csv".into())
                            .body(sheet.as_bytes().to_vec(), "text/csv".parse().unwrap()),
                    ),
            )
            .unwrap(),
    )
    .await;
    // A stranger pleads, with no code.
    mail.send(
        lettre::Message::builder()
            .from("someone@example.net".parse().unwrap())
            .to(CRISIS.parse().unwrap())
            .subject("help")
            .body("Please help us leave Almaty, we are four.".to_string())
            .unwrap(),
    )
    .await;
    eventually("five messages in the crisis mailbox", async || {
        (mail.inbox_of(CRISIS).await.len() == 5).then_some(())
    })
    .await;

    // Both nodes read at once: each message is kept and acted on once, the sheet imported
    // once, whichever node got to it.
    let (pass, other_pass) = tokio::join!(app.read_mailbox(), other_node.read_mailbox());
    let (pass, other_pass) = (pass.unwrap(), other_pass.unwrap());
    assert!(pass.read + other_pass.read >= 5, "{pass:?} {other_pass:?}");
    assert_eq!(
        (
            pass.imported + other_pass.imported,
            pass.rejected_rows.max(other_pass.rejected_rows)
        ),
        (2, 1),
        "{pass:?} {other_pass:?}"
    );

    // NO withdrew Anna's request, and she is told so by e-mail.
    let stored = app.store().request(anna.id).await.unwrap().unwrap();
    assert!(
        stored
            .statuses
            .iter()
            .all(|(_, s)| *s == PersonStatus::Withdrawn),
        "{:?}",
        stored.statuses
    );
    let answered = eventually("the answer reaching Anna", async || {
        let inbox = mail.inbox_of("anna.rossi@example.org").await;
        (inbox.len() == 2).then(|| inbox[1].clone())
    })
    .await;
    assert!(decoded_text(&answered).contains(&reference));

    let inbox = app.inbox(&staff, &[], None, 50).await.unwrap();
    assert_eq!(inbox.len(), 5);
    let from = |sender: &str| inbox.iter().find(|m| m.sender == sender).unwrap();
    let forged = inbox
        .iter()
        .find(|m| m.sender == "anna.rossi@example.org" && m.understood == "other")
        .expect("the forged NO, kept for a human");
    assert_eq!(
        (forged.state.as_str(), forged.request),
        ("to_read", Some(anna.id))
    );
    let reply = inbox
        .iter()
        .find(|m| m.sender == "anna.rossi@example.org" && m.understood != "other")
        .unwrap();
    assert_eq!(
        (
            reply.understood.as_str(),
            reply.state.as_str(),
            reply.request
        ),
        ("no", "attached", Some(anna.id))
    );
    let partner = from("desk@ngo.example");
    assert_eq!(
        partner.state, "unmatched",
        "a human looks at every spreadsheet sender"
    );
    // The node that kept the message may have found some rows imported by the other (each
    // importing one family at the same moment: "1 requests imported, 1 imported before"), so
    // the note's two counts add up to the two families, however they fell.
    let count_before = |text: &str, words: &str| -> Option<u32> {
        let at = text.find(words)?;
        text[..at].split_whitespace().last()?.parse().ok()
    };
    let imported = count_before(&partner.text, " requests imported");
    let before = count_before(&partner.text, " imported before");
    assert!(
        imported.zip(before).map(|(i, b)| i + b) == Some(2) && partner.text.contains("row 4"),
        "the note names what was imported and the refused row: {}",
        partner.text
    );
    let sheet_stranger = from("someone@elsewhere.example");
    assert!(
        sheet_stranger.text.contains("not imported"),
        "{}",
        sheet_stranger.text
    );
    let stranger = from("someone@example.net");
    assert_eq!(
        (stranger.understood.as_str(), stranger.state.as_str()),
        ("other", "unmatched")
    );
    assert!(stranger.text.contains("Please help us leave Almaty"));

    // A crash after storing and before marking read: the next reading stores nothing twice
    // and imports nothing twice.
    mail.forget_reading().await;
    let again = app.read_mailbox().await.unwrap();
    assert_eq!((again.read, again.imported), (5, 0), "{again:?}");
    assert_eq!(app.inbox(&staff, &[], None, 50).await.unwrap().len(), 5);
    assert_eq!(app.read_mailbox().await.unwrap().read, 0, "all marked read");
}
