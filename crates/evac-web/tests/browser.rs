//! The HTML pages in a real browser: Debian's Chromium driven through WebDriver
//! (`chromedriver`), against a real server on a fresh SQLite database. Screenshots of the key
//! pages go to `target/screenshots/` as test artefacts.
//!
//! Without `chromium` and `chromedriver` these tests print a loud notice and pass, except
//! under `CI=true`, where a missing browser is a failure (`.ci/run` installs both).

#[path = "../../evac-app/tests/common/ports.rs"]
mod ports;
use ports::free_port;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use evac_app::{App, DatabaseUrl, Settings, open_store};
use evac_model::Role;
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long the driver may take to listen (Chromium's first start is slow on 2 cores).
const DRIVER_START_MS_MAX: u64 = 30_000;

/// A WebDriver session on a headless Chromium with a fresh profile; the driver process ends
/// with it.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    /// The driver and the Chromium it started go together: the driver leads a process group of
    /// its own, and the whole group is killed (a test that ends without closing its session
    /// left a headless Chromium running after every run).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// How many times a driver is started on a fresh port before the test gives up (another
/// process on the host may take the port between the check and the driver's bind).
const DRIVER_ATTEMPTS_MAX: usize = 4;

/// A chromedriver listening on a port of its own, or why none could start.
async fn start_driver() -> (Child, u16) {
    let mut why = String::new();
    for _ in 0..DRIVER_ATTEMPTS_MAX {
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = driver.try_wait().unwrap() {
                why = format!("chromedriver on port {port} exited ({status})");
                break;
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                // Listening, and still ours: a driver that lost the port exits at once.
                tokio::time::sleep(Duration::from_millis(100)).await;
                if driver.try_wait().unwrap().is_none() {
                    return (driver, port);
                }
                why = format!("chromedriver on port {port} exited after another listened");
                break;
            }
            if started.elapsed() > Duration::from_millis(DRIVER_START_MS_MAX) {
                let _ = driver.kill();
                why = format!("chromedriver did not listen within {DRIVER_START_MS_MAX} ms");
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("no chromedriver after {DRIVER_ATTEMPTS_MAX} attempts; the last: {why}");
}

/// A browser, or `None` (after a loud notice) when Chromium is not installed outside CI.
async fn browser() -> Option<Browser> {
    let installed =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !installed {
        let notice = "BROWSER TESTS NOT RUN: install Debian's chromium and chromium-driver \
                      (apt-get install chromium chromium-driver; .ci/run does)";
        assert!(std::env::var("CI").is_err(), "{notice}");
        eprintln!("\n{}\n{notice}\n{}\n", "!".repeat(80), "!".repeat(80));
        return None;
    }
    let (mut driver, mut port) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1200,1000",
    ]
    .into_iter()
    .map(str::to_string)
    .chain([format!("--user-data-dir={}", profile.path().display())])
    .collect::<Vec<_>>();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    // A session that cannot connect means the port was not ours after all (a driver that
    // lost its IPv4 bind keeps running on IPv6): start another driver on another port.
    for attempt in 1..=DRIVER_ATTEMPTS_MAX {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => {
                return Some(Browser {
                    client,
                    driver,
                    _profile: profile,
                });
            }
            Err(error) => {
                let _ = driver.kill();
                let _ = driver.wait();
                assert!(
                    attempt < DRIVER_ATTEMPTS_MAX,
                    "no WebDriver session after {DRIVER_ATTEMPTS_MAX} attempts: {error}"
                );
                (driver, port) = start_driver().await;
            }
        }
    }
    unreachable!("the loop returns or panics on its last attempt")
}

/// The server on a fresh database, and the app behind it.
async fn serve() -> (String, App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&DatabaseUrl::Sqlite(dir.path().join("evac.db")), true)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let app = App::new(store, Settings::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(evac_web::serve(
        listener,
        app.clone(),
        std::future::pending(),
    ));
    (base, app, dir)
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// How long a page may take to show an element after a click or a navigation (three browsers
/// share two cores when the tests run in parallel).
const ELEMENT_WAIT_MS_MAX: u64 = 15_000;

/// The element `css` once the page shows it.
async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_millis(ELEMENT_WAIT_MS_MAX))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

async fn fill(client: &Client, css: &str, text: &str) {
    element(client, css).await.send_keys(text).await.unwrap();
}

/// A time picker (`input[type=datetime-local]`) set as a planner picks it: the crisis's wall
/// clock (Asia/Almaty) at `at`. Typing into a picker depends on the browser's locale; its
/// value does not.
async fn pick_time(client: &Client, css: &str, at: evac_model::Timestamp) {
    let zone = jiff::tz::TimeZone::get("Asia/Almaty").unwrap();
    let local = at
        .to_jiff()
        .to_zoned(zone)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let input = element(client, css).await;
    client
        .execute(
            "arguments[0].value = arguments[1]",
            vec![
                serde_json::to_value(&input).unwrap(),
                serde_json::json!(local),
            ],
        )
        .await
        .unwrap();
}

async fn click(client: &Client, css: &str) {
    element(client, css).await.click().await.unwrap();
}

/// A requester fills the form in Russian and gets a reference; an operator logs in, finds the
/// request by the name written in Latin letters, and opens it.
#[tokio::test]
async fn a_requester_asks_in_russian_and_an_operator_finds_the_request() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;

    c.goto(&format!("{base}/request?lang=ru")).await.unwrap();
    let title = element(c, "h1").await.text().await.unwrap();
    assert_eq!(title, "Запрос на эвакуацию");
    fill(c, "input[name=location]", "Алматы, гостиница Казахстан").await;
    fill(c, "input[name=country]", "KZ").await;
    fill(c, "input[name=phone]", "8 701 555 12 34").await;
    fill(
        c,
        "textarea[name=situation]",
        "Мы с сыном в гостинице, выйти нельзя.",
    )
    .await;
    click(c, "input[name=urgency][value=medical_emergency]").await;
    fill(
        c,
        "[data-person]:nth-of-type(1) input[name=surname]",
        "Тоқаева",
    )
    .await;
    fill(c, "[data-person] input[name=given_names]", "Әлия").await;
    fill(c, "[data-person] input[name=birth_date]", "1985-03-02").await;
    click(c, "input[name=consent]").await;
    screenshot(c, "request-form-ru").await;
    click(c, "button[type=submit]").await;
    let reference = element(c, "#reference").await.text().await.unwrap();
    let reference: evac_model::ReferenceCode = reference.parse().expect("a valid reference code");
    screenshot(c, "request-done-ru").await;
    let stored = app
        .store()
        .request_by_reference(&reference)
        .await
        .unwrap()
        .expect("stored under the reference shown");
    assert_eq!(
        stored.request.body.party[0]
            .surname
            .as_ref()
            .unwrap()
            .as_written,
        "Тоқаева"
    );
    assert_eq!(
        stored.request.body.language.as_ref().map(|l| l.as_str()),
        Some("ru")
    );

    app.add_user(None, "operator1", Role::Operator, "correct horse battery")
        .await
        .unwrap();
    c.goto(&format!("{base}/desk")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().ends_with("/login"),
        "the desk needs a login"
    );
    fill(c, "input[name=name]", "operator1").await;
    fill(c, "input[name=password]", "correct horse battery").await;
    click(c, "button[type=submit]").await;
    let total = element(c, "#requests-total").await.text().await.unwrap();
    assert_eq!(total, "1");
    screenshot(c, "desk-dashboard").await;
    c.goto(&format!("{base}/desk/requests?q=Tokaeva"))
        .await
        .unwrap();
    screenshot(c, "desk-requests").await;
    click(c, "#requests tbody a").await;
    element(c, "#people").await;
    let page = c.source().await.unwrap();
    assert!(
        page.contains(&reference.to_string()),
        "the detail page of {reference}"
    );
    assert!(page.contains("Тоқаева Әлия"), "names as written");
    assert!(page.contains("TOKAEVA ALIIA"), "and in ICAO Latin");
    screenshot(c, "desk-request-detail").await;
    click(c, "form.logout button").await;
    element(c, "input[name=password]").await;
    c.goto(&format!("{base}/desk")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().ends_with("/login"),
        "logged out"
    );
    browser.client.clone().close().await.unwrap();
}

/// A caller phones in a family: the operator looks the number up (unknown), takes the family
/// down from the keyboard alone and saves with Enter; the next call from that number finds it,
/// and so does the request list's search.
#[tokio::test]
async fn a_phoned_in_family_is_found_by_its_phone_on_the_next_call() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;
    app.add_user(None, "operator1", Role::Operator, "correct horse battery")
        .await
        .unwrap();
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "input[name=name]", "operator1").await;
    fill(c, "input[name=password]", "correct horse battery").await;
    click(c, "button[type=submit]").await;
    element(c, "#requests-total").await;

    c.goto(&format!("{base}/desk/hotline?lang=en"))
        .await
        .unwrap();
    // The phone field has the focus: the operator types the number and presses Enter.
    c.active_element()
        .await
        .unwrap()
        .send_keys("8 701 777 88 99\u{E007}")
        .await
        .unwrap();
    element(c, "#hotline-unknown").await;
    let phone_in_form = element(c, "#hotline-form input[name=phone]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(phone_in_form.as_deref(), Some("8 701 777 88 99"));
    // A refused save keeps what was typed and names the field.
    fill(c, "#hotline-form input[name=location]", "Almaty, Abay 10").await;
    fill(c, "#hotline-form input[name=country]", "KZ").await;
    fill(
        c,
        "#hotline-form [data-person]:nth-of-type(1) input[name=surname]",
        "Сейткали",
    )
    .await;
    fill(
        c,
        "#hotline-form [data-person]:nth-of-type(1) input[name=given_names]",
        "Дана",
    )
    .await;
    element(
        c,
        "#hotline-form [data-person]:nth-of-type(1) input[name=birth_date]",
    )
    .await
    .send_keys("31.02.1990\u{E007}")
    .await
    .unwrap();
    let errors = element(c, "#errors").await.text().await.unwrap();
    assert!(
        errors.contains("Birth date (DD.MM.YYYY) (person 1): '31.02.1990' is not a date"),
        "the field by its name and the person's number: {errors}"
    );
    let first_birth = element(
        c,
        "#hotline-form [data-person]:nth-of-type(1) input[name=birth_date]",
    )
    .await;
    first_birth.clear().await.unwrap();
    first_birth.send_keys("1990-05-05").await.unwrap();
    fill(
        c,
        "#hotline-form [data-person]:nth-of-type(2) input[name=surname]",
        "Сейткали",
    )
    .await;
    fill(
        c,
        "#hotline-form [data-person]:nth-of-type(2) input[name=given_names]",
        "Арман",
    )
    .await;
    element(
        c,
        "#hotline-form [data-person]:nth-of-type(2) input[name=birth_date]",
    )
    .await
    .send_keys("2016-01-10\u{E007}")
    .await
    .unwrap();
    let saved = element(c, "#hotline-saved strong")
        .await
        .text()
        .await
        .unwrap();
    let reference: evac_model::ReferenceCode = saved.parse().expect("a reference code");
    screenshot(c, "desk-hotline-saved").await;
    let known = element(c, "#hotline-known").await.text().await.unwrap();
    assert!(known.contains(&saved), "{known}");

    let stored = app
        .store()
        .request_by_reference(&reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.request.body.channel, evac_model::Channel::Hotline);
    assert_eq!(stored.request.body.party.len(), 2);
    assert_eq!(
        stored.request.body.language.as_ref().map(|l| l.as_str()),
        Some("ru"),
        "the caller's language, not the desk's"
    );
    let operator = app.console_staff("operator1").await.unwrap();
    let history = app.store().audit_trail(0, 1_000).await.unwrap();
    let history: Vec<_> = history
        .into_iter()
        .map(|r| r.event)
        .filter(|e| e.action == "request.create")
        .collect();
    assert!(
        history.iter().any(|e| e.actor == operator.actor()),
        "the operator is recorded: {history:?}"
    );

    // The next call from the same number, written another way.
    c.goto(&format!(
        "{base}/desk/hotline?lang=en&phone=%2B7%20701%20777%2088%2099"
    ))
    .await
    .unwrap();
    let known = element(c, "#hotline-known").await.text().await.unwrap();
    assert!(
        known.contains(&saved) && known.contains("Сейткали"),
        "{known}"
    );
    c.goto(&format!("{base}/desk/requests?q=87017778899"))
        .await
        .unwrap();
    let listed = element(c, "#requests").await.text().await.unwrap();
    assert!(listed.contains(&saved), "{listed}");
    browser.client.clone().close().await.unwrap();
}

/// A plea by SMS from a number no request gave waits in the inbox; the operator takes it down
/// as a request from there: the hotline form arrives with the sender's number and the text.
#[tokio::test]
async fn a_plea_in_the_inbox_becomes_a_request_on_the_hotline_desk() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;
    app.add_user(None, "operator1", Role::Operator, "correct horse battery")
        .await
        .unwrap();
    let at = evac_model::Timestamp::now();
    app.store()
        .store_inbound(
            evac_store::NewInbound {
                id: evac_model::InboundId::new_v7(),
                channel: "sms".into(),
                provider_id: Some("plea-1".into()),
                sender: "+77015550011".into(),
                received_at: at,
                text: "Помогите, мы вчетвером в Алматы, дети".into(),
                request: None,
                understood: "other".into(),
                state: "unmatched".into(),
            },
            evac_store::AuditEvent {
                at,
                actor: evac_model::Actor::Public,
                action: "inbound.receive".into(),
                subject: None,
                detail: serde_json::json!({}),
            },
        )
        .await
        .unwrap();
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "input[name=name]", "operator1").await;
    fill(c, "input[name=password]", "correct horse battery").await;
    click(c, "button[type=submit]").await;
    element(c, "#requests-total").await;
    c.goto(&format!("{base}/desk/inbox?lang=en")).await.unwrap();
    click(c, "#inbox a.draft").await;
    let phone = element(c, "#hotline-form input[name=phone]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(phone.as_deref(), Some("+77015550011"));
    let situation = element(c, "#hotline-form textarea[name=situation]")
        .await
        .text()
        .await
        .unwrap();
    assert!(situation.contains("вчетвером"), "{situation}");
    fill(c, "#hotline-form input[name=location]", "Алматы").await;
    fill(
        c,
        "#hotline-form [data-person]:nth-of-type(1) input[name=surname]",
        "Нурланова",
    )
    .await;
    element(
        c,
        "#hotline-form [data-person]:nth-of-type(1) input[name=birth_date]",
    )
    .await
    .send_keys("1988-02-02\u{E007}")
    .await
    .unwrap();
    let saved = element(c, "#hotline-saved strong")
        .await
        .text()
        .await
        .unwrap();
    let reference: evac_model::ReferenceCode = saved.parse().unwrap();
    let stored = app
        .store()
        .request_by_reference(&reference)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.request.body.situation.contains("вчетвером"),
        "the message's text is the request's situation"
    );
    browser.client.clone().close().await.unwrap();
}

/// An operator works the callback queue from the keyboard's page: a family nobody reached
/// waits there; "take the next call" opens its request at the call log; logging "no answer"
/// puts it back with the next try's time; reaching it empties the queue.
#[tokio::test]
async fn an_operator_takes_the_next_callback_and_logs_the_calls() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;
    app.add_user(None, "operator1", Role::Operator, "correct horse battery")
        .await
        .unwrap();
    let draft = evac_model::RequestDraft {
        location: evac_model::LocationDraft {
            text: Some("Алматы".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        submitter: evac_model::SubmitterDraft {
            phones: vec!["8 701 555 00 11".into()],
            ..Default::default()
        },
        party: vec![evac_model::PersonDraft {
            surname: Some("Сейткали".into()),
            given_names: Some("Дана".into()),
            birth_date: Some("1990-04-05".into()),
            ..Default::default()
        }],
        consent: Some(true),
        ..Default::default()
    };
    let submitted = app
        .submit_request(&evac_model::Actor::Public, &draft, None)
        .await
        .unwrap();
    // Nobody answered a re-confirmation, say: the family waits for a call.
    app.store()
        .queue_callbacks(vec![(
            submitted.id,
            evac_model::Timestamp::now(),
            "did not answer the re-confirmation".into(),
        )])
        .await
        .unwrap();
    log_in(c, &base, "operator1").await;
    c.goto(&format!("{base}/desk/callbacks?lang=en"))
        .await
        .unwrap();
    let queue = element(c, "#callbacks").await.text().await.unwrap();
    assert!(
        queue.contains(&submitted.reference.to_string()) && queue.contains("+77015550011"),
        "{queue}"
    );
    click(c, "#take-next button").await;
    element(c, "#log-call").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with(&submitted.id.to_string()),
        "the taken family's request is open"
    );
    let phone = element(c, "#log-call input[name=phone]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(phone.as_deref(), Some("+77015550011"), "the number to dial");
    element(c, "#log-call select[name=outcome] option[value=no_answer]")
        .await
        .click()
        .await
        .unwrap();
    fill(c, "#log-call textarea[name=note]", "rang twelve times").await;
    click(c, "#log-call button[type=submit]").await;
    let log = text_once(c, "#call-log", |t| t.contains("rang twelve times")).await;
    assert!(
        log.contains("No answer") && log.contains("operator1"),
        "{log}"
    );
    let waiting = text_once(c, "p.notice", |t| t.contains("failed try")).await;
    assert!(waiting.contains("no answer (1 failed try)"), "{waiting}");
    // Nothing is due now (the next try is in 15 minutes).
    c.goto(&format!("{base}/desk/callbacks?lang=en"))
        .await
        .unwrap();
    click(c, "#take-next button").await;
    let said = text_once(c, "p.notice", |t| t.contains("Nothing is due")).await;
    assert!(said.contains("Nothing is due now."), "{said}");
    // Back on the request: they called back and were reached.
    c.goto(&format!("{base}/desk/requests/{}?lang=en", submitted.id))
        .await
        .unwrap();
    element(c, "#log-call select[name=direction] option[value=inbound]")
        .await
        .click()
        .await
        .unwrap();
    element(c, "#log-call select[name=outcome] option[value=reached]")
        .await
        .click()
        .await
        .unwrap();
    click(c, "#log-call button[type=submit]").await;
    text_once(c, "#call-log", |t| t.contains("They called")).await;
    c.goto(&format!("{base}/desk/callbacks?lang=en"))
        .await
        .unwrap();
    let empty = text_once(c, "main", |t| t.contains("Nobody waits")).await;
    assert!(empty.contains("Nobody waits for a callback."), "{empty}");
    browser.client.clone().close().await.unwrap();
}

/// The text of `css` once `settled` says the page shows it (a form post may still be
/// loading the next page), or what it shows after `SETTLE_MS_MAX`.
async fn text_once(c: &Client, css: &str, settled: impl Fn(&str) -> bool) -> String {
    const SETTLE_MS_MAX: u64 = 5_000;
    let started = std::time::Instant::now();
    loop {
        let text = match c.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if settled(&text) || started.elapsed() > Duration::from_millis(SETTLE_MS_MAX) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Accounts for `staff` (password "correct horse battery") and a supervisor `super1` who seeds
/// the demo's situation: hubs (Almaty closed), routes and the sample reports.
async fn staff_and_the_demo_situation(app: &App, staff: &[(&str, Role)]) {
    for (name, role) in [("super1", Role::Supervisor)].iter().chain(staff) {
        app.add_user(None, name, *role, "correct horse battery")
            .await
            .unwrap();
    }
    let supervisor = app.console_staff("super1").await.unwrap();
    let start = evac_demo::Scenario::january_2022(0, 3).start;
    app.seed_demo_situation(&supervisor, start).await.unwrap();
    // A replay of January 2022 on today's clock, as the demo is: its situation stays in force.
    app.store()
        .mark_exercise(
            "the demo's January-2022 crisis",
            evac_model::Timestamp::now(),
        )
        .await
        .unwrap();
}

async fn log_in(c: &Client, base: &str, name: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "input[name=name]", name).await;
    fill(c, "input[name=password]", "correct horse battery").await;
    click(c, "button[type=submit]").await;
    element(c, "form.logout").await;
    assert!(
        c.current_url().await.unwrap().path().starts_with("/desk"),
        "{name} is in"
    );
}

/// A planner adds a flight, publishes a plan and downloads its manifest; a field officer
/// checks a passenger in with the pass's code, and a second scan of it is refused.
#[tokio::test]
async fn a_planner_publishes_and_a_field_officer_checks_a_passenger_in_once() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;
    for g in evac_demo::generate(evac_demo::Scenario::january_2022(80, 3)) {
        app.submit_request_at(&evac_model::Actor::System, &g.draft, None, g.received_at)
            .await
            .unwrap();
    }
    staff_and_the_demo_situation(
        &app,
        &[("planner1", Role::Planner), ("field1", Role::FieldOfficer)],
    )
    .await;

    log_in(c, &base, "planner1").await;
    // The dashboard's map shows where requests come from and the hubs (Almaty closed).
    element(c, "#map circle.density").await;
    element(c, "#map rect.hub.closed").await;
    element(c, "#per-hour rect.hour").await;
    screenshot(c, "desk-dashboard-map").await;
    // A bubble on the map leads to its place's requests (issue 27: nothing could be clicked).
    // (A bubble whose centre no hub square covers: the square would take the click.)
    let free = c
        .execute(
            "const dots = [...document.querySelectorAll('#map a.map-place circle')]; \
             return dots.findIndex(d => { const r = d.getBoundingClientRect(); \
               return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === d; });",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert!(free >= 0, "some bubble can be clicked");
    click(
        c,
        &format!("#map a.map-place:nth-of-type({}) circle", free + 1),
    )
    .await;
    let count = element(c, "#match-count").await.text().await.unwrap();
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/desk/requests");
    assert!(
        url.query_pairs().any(|(k, v)| k == "town" && !v.is_empty()),
        "{url}"
    );
    assert!(
        count.chars().next().is_some_and(|d| d.is_ascii_digit()),
        "{count}"
    );
    assert!(
        element(c, "#requests tbody tr").await.text().await.is_ok(),
        "the place's requests are listed"
    );
    // The situation board: Almaty's airport is closed; a pasted rumour is read and graded E5
    // (untrusted: the status stays).
    c.goto(&format!("{base}/desk/situation")).await.unwrap();
    let hubs = element(c, "table.subjects").await.text().await.unwrap();
    assert!(
        hubs.contains("hub:ALA") && hubs.contains("closed"),
        "{hubs}"
    );
    fill(c, "form.ingest input[name=source]", "a taxi driver").await;
    fill(
        c,
        "form.ingest textarea[name=text]",
        "Говорят, аэропорт Алматы снова открыт.",
    )
    .await;
    click(c, "form.ingest button").await;
    let reports = text_once(c, "#reports", |text| text.contains("a taxi driver")).await;
    assert!(
        reports.contains("Almaty"),
        "the places it mentions: {reports}"
    );
    let row = element(c, "#reports tbody tr").await;
    let row_id = row.attr("id").await.unwrap().unwrap();
    click(c, &format!("#{row_id} select[name=grade] option[value=E5]")).await;
    click(c, &format!("#{row_id} form.judge button")).await;
    let selected = element(c, &format!("#{row_id} select[name=grade] option[selected]")).await;
    assert_eq!(selected.text().await.unwrap(), "E5");
    let hubs = element(c, "table.subjects").await.text().await.unwrap();
    assert!(
        hubs.contains("closed"),
        "an E5 rumour does not open it: {hubs}"
    );
    screenshot(c, "desk-situation").await;
    c.goto(&format!("{base}/desk/planning")).await.unwrap();
    click(c, "details summary").await;
    for (field, value) in [
        ("code", "KC-1"),
        ("hub", "NQZ"),
        ("destination", "Москва Чкаловский"),
        ("seats", "40"),
    ] {
        fill(c, &format!("form.grid input[name={field}]"), value).await;
    }
    let departs: evac_model::Timestamp = "2022-01-06T16:00:00Z".parse().unwrap();
    pick_time(c, "form.grid input[name=departs_at]", departs).await;
    click(c, "form.grid button[type=submit]").await;
    // The planning page comes back with the new flight (the old page had the table too).
    let transports = text_once(c, "#transports", |text| text.contains("KC-1")).await;
    assert!(transports.contains("KC-1"), "{transports}");
    fill(c, "form.plan input[name=at]", "2022-01-06T08:00:00Z").await;
    click(c, "#confirm-publish").await;
    click(c, "#publish").await;
    let seated: u64 = element(c, "#seated-households")
        .await
        .text()
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(seated > 0, "households from Nur-Sultan get seats on KC-1");
    screenshot(c, "desk-planning-published").await;
    // The manifest link works with the browser's session (what a click downloads).
    let href = element(c, "a[data-manifest=pdf]")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let cookie = c.get_named_cookie("evac_session").await.unwrap();
    let pdf = reqwest::Client::new()
        .get(format!("{base}{href}"))
        .header("cookie", format!("evac_session={}", cookie.value()))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), reqwest::StatusCode::OK);
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    click(c, "form.logout button").await;
    element(c, "input[name=password]").await;

    // At the gate: the code of a pass (what the scanner reads from its QR code).
    let field = app.console_staff("field1").await.unwrap();
    let kc1 = app.transports(&field).await.unwrap()[0].id;
    let passes = app.boarding_passes(&field, kc1).await.unwrap();
    // On a phone (390 px wide), without a scanner: the transport and the pass's short code,
    // typed as people type it (issue 27: the ~250-character token was the only way in).
    let keys = app.pass_public_key(&field).await.unwrap();
    let code = evac_model::verify_pass(&keys, &passes[0].token)
        .unwrap()
        .pass
        .code()
        .to_lowercase();
    c.set_window_size(390, 844).await.unwrap();
    log_in(c, &base, "field1").await;
    c.goto(&format!("{base}/desk/check-in")).await.unwrap();
    click(c, &format!("#gate-transport option[value='{kc1}']")).await;
    fill(c, "textarea[name=token]", &code).await;
    click(c, "#check-in").await;
    let outcome = element(c, "#outcome").await.text().await.unwrap();
    assert!(outcome.contains("Checked in"), "{outcome}");
    assert!(outcome.contains("KC-1"), "{outcome}");
    let overflow = c
        .execute(
            "const o = document.getElementById('outcome').getBoundingClientRect(); \
             return [o.right, window.innerWidth, document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    let [right, width, scroll] = [0, 1, 2].map(|i| overflow[i].as_f64().unwrap());
    assert!(
        right <= width && scroll <= width,
        "the result fits a 390 px screen: {overflow}"
    );
    screenshot(c, "desk-check-in-phone").await;
    c.set_window_size(1280, 900).await.unwrap();
    fill(c, "textarea[name=token]", &passes[0].token).await;
    click(c, "#check-in").await;
    let outcome = text_once(c, "#outcome", |text| text.contains("Refused")).await;
    assert!(outcome.contains("Refused"), "{outcome}");
    assert!(outcome.contains("second scan"), "{outcome}");
    screenshot(c, "desk-check-in-refused").await;
    browser.client.clone().close().await.unwrap();
}

/// A case officer opens the duplicate queue, compares a pair side by side with the weight of
/// every field and the reasons it needs a human, and decides it is one person; the pair leaves
/// the queue.
#[tokio::test]
async fn a_case_officer_resolves_a_duplicate() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;
    for g in evac_demo::generate(evac_demo::Scenario::january_2022(300, 4)) {
        app.submit_request_at(&evac_model::Actor::System, &g.draft, None, g.received_at)
            .await
            .unwrap();
    }
    app.relink().await.unwrap();
    app.add_user(None, "officer1", Role::CaseOfficer, "correct horse battery")
        .await
        .unwrap();
    let officer = app.console_staff("officer1").await.unwrap();
    let queued = app.review_queue(&officer, 20).await.unwrap();
    assert!(
        !queued.is_empty(),
        "the generated crisis leaves pairs to review"
    );

    log_in(c, &base, "officer1").await;
    c.goto(&format!("{base}/desk/review")).await.unwrap();
    let pair = element(c, "section.pair").await;
    let id = pair.attr("id").await.unwrap().unwrap();
    let seq: i64 = id.trim_start_matches("pair-").parse().unwrap();
    let weights = c
        .wait()
        .for_element(Locator::Css(&format!("#{id} table.weights")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        weights.contains("Birth date"),
        "per-field weights: {weights}"
    );
    // Issue 29: the page says why the pair needs a human, in words.
    let doubts = c
        .find(Locator::Css(&format!("#{id} ul.doubts")))
        .await
        .expect("the reasons a pair needs a human")
        .text()
        .await
        .unwrap();
    let reasons = [
        "Same household",
        "Birth dates",
        "birth date is missing",
        "Only an age",
        "Given names",
        "Surnames differ",
        "Sexes differ",
        "Documents differ",
        "already told apart",
        "matches better",
    ];
    assert!(
        reasons.iter().any(|r| doubts.contains(r)),
        "reasons in words: {doubts}"
    );
    screenshot(c, "desk-review").await;
    click(c, &format!("#{id} button[value=match]")).await;
    let started = std::time::Instant::now();
    while c.find(Locator::Id(&id)).await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the decided pair left the page"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = app.review_queue(&officer, 1000).await.unwrap();
    assert!(after.iter().all(|i| i.seq != seq), "and the queue");
    browser.client.clone().close().await.unwrap();
}

/// A supervisor adds an account in the browser; an auditor reads the trail that records it.
#[tokio::test]
async fn a_supervisor_adds_an_account_and_an_auditor_reads_the_trail() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;
    app.add_user(None, "super1", Role::Supervisor, "correct horse battery")
        .await
        .unwrap();
    log_in(c, &base, "super1").await;
    c.goto(&format!("{base}/desk/users")).await.unwrap();
    fill(c, "form.grid input[name=name]", "auditor1").await;
    click(c, "form.grid select[name=role] option[value=auditor]").await;
    fill(c, "form.grid input[name=password]", "correct horse battery").await;
    click(c, "form.grid button").await;
    let users = text_once(c, "#users", |text| text.contains("auditor1")).await;
    assert!(
        users.contains("auditor1") && users.contains("auditor"),
        "{users}"
    );
    screenshot(c, "desk-users").await;
    click(c, "form.logout button").await;
    element(c, "input[name=password]").await;

    log_in(c, &base, "auditor1").await;
    c.goto(&format!("{base}/desk/audit")).await.unwrap();
    let trail = element(c, "#audit").await.text().await.unwrap();
    assert!(
        trail.contains("user.create") && trail.contains("auditor1"),
        "{trail}"
    );
    // Who did it is named, and what is read as words: not "user:0190…" and JSON.
    assert!(
        trail.contains("super1") && trail.contains("role: auditor") && !trail.contains("user:"),
        "{trail}"
    );
    screenshot(c, "desk-audit").await;
    browser.client.clone().close().await.unwrap();
}

/// The web UI's "done when", in one walk through the browser and nothing else: a requester
/// asks on the public form; a case officer finds the request by its reference, verifies the
/// traveller (after correcting her phone number and her given names) and sees the household on the case list; a planner adds a flight and publishes;
/// a field officer opens the request, reads the boarding pass there, checks the passenger in
/// and boards them; the request's history tells the whole story.
#[tokio::test]
async fn a_request_goes_from_the_public_form_to_a_boarded_passenger_in_the_browser() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;
    staff_and_the_demo_situation(
        &app,
        &[
            ("officer1", Role::CaseOfficer),
            ("planner1", Role::Planner),
            ("field1", Role::FieldOfficer),
        ],
    )
    .await;

    // The requester, in English, from Astana.
    c.goto(&format!("{base}/request?lang=en")).await.unwrap();
    fill(c, "input[name=location]", "Astana, Hotel Duman").await;
    fill(c, "input[name=country]", "KZ").await;
    fill(c, "input[name=phone]", "+39 333 123 4567").await;
    fill(
        c,
        "textarea[name=situation]",
        "Tourist, my flight was cancelled.",
    )
    .await;
    fill(c, "[data-person] input[name=surname]", "Rossi").await;
    fill(c, "[data-person] input[name=given_names]", "Giulia").await;
    fill(c, "[data-person] input[name=birth_date]", "1990-05-17").await;
    click(c, "input[name=consent]").await;
    click(c, "button[type=submit]").await;
    let reference = element(c, "#reference").await.text().await.unwrap();

    // The case officer: the reference finds the request; the traveller is verified.
    log_in(c, &base, "officer1").await;
    let nav = element(c, "nav.links").await.text().await.unwrap();
    assert!(
        nav.contains("Duplicates") && !nav.contains("Users") && !nav.contains("Check-in"),
        "the nav follows the role: {nav}"
    );
    c.goto(&format!("{base}/desk/requests?q={reference}"))
        .await
        .unwrap();
    element(c, "#people").await;
    // The requester called again from another number: the contacts are corrected.
    click(c, "#correct summary").await;
    let phones = element(c, "#correct textarea[name=phones]").await;
    phones.clear().await.unwrap();
    phones.send_keys("+39 333 765 4321").await.unwrap();
    fill(
        c,
        "#correct textarea[name=reason]",
        "called from her sister's phone",
    )
    .await;
    click(c, "#correct button").await;
    let history = text_once(c, "#history", |t| t.contains("sister")).await;
    assert!(
        history.contains("request corrected (contacts)"),
        "{history}"
    );
    // Her passport says Giulia Maria.
    click(c, "#correct-person summary").await;
    fill(c, "#correct-person input[name=given_names]", "Giulia Maria").await;
    fill(
        c,
        "#correct-person textarea[name=reason]",
        "as in her passport",
    )
    .await;
    click(c, "#correct-person button").await;
    let history = text_once(c, "#history", |t| t.contains("as in her passport")).await;
    assert!(history.contains("corrected (given names)"), "{history}");
    let people = element(c, "#people").await.text().await.unwrap();
    assert!(people.contains("ROSSI GIULIA MARIA"), "{people}");
    click(c, "#change select[name=status] option[value=verified]").await;
    fill(
        c,
        "#change textarea[name=reason]",
        "passport seen on video call",
    )
    .await;
    click(c, "#change button").await;
    let history = text_once(c, "#history", |t| t.contains("passport seen")).await;
    assert!(
        history.contains("registered → verified") && history.contains("officer1"),
        "{history}"
    );
    c.goto(&format!("{base}/desk/cases")).await.unwrap();
    let cases = element(c, "#cases").await.text().await.unwrap();
    assert!(cases.contains(&reference), "{cases}");
    screenshot(c, "desk-cases").await;
    click(c, "form.logout button").await;
    element(c, "input[name=password]").await;

    // The planner: a flight from Nur-Sultan tomorrow at noon, published now. (Not this time
    // tomorrow: Nur-Sultan's airport is shut by its night curfew, 23:00–07:00 local, and a run
    // in that part of the day found no flight it could board.)
    log_in(c, &base, "planner1").await;
    c.goto(&format!("{base}/desk/planning")).await.unwrap();
    click(c, "details summary").await;
    let tomorrow = {
        let astana = jiff::tz::TimeZone::get("Asia/Almaty").unwrap();
        let noon = evac_model::Timestamp::now()
            .to_jiff()
            .to_zoned(astana.clone())
            .date()
            .tomorrow()
            .unwrap()
            .at(12, 0, 0, 0)
            .to_zoned(astana)
            .unwrap();
        evac_model::Timestamp::from_unix_micros(noon.timestamp().as_microsecond())
    };
    for (field, value) in [
        ("code", "IT-1"),
        ("hub", "NQZ"),
        ("destination", "Roma Fiumicino"),
        ("seats", "10"),
    ] {
        fill(c, &format!("form.grid input[name={field}]"), value).await;
    }
    pick_time(c, "form.grid input[name=departs_at]", tomorrow).await;
    click(c, "form.grid button[type=submit]").await;
    text_once(c, "#transports", |text| text.contains("IT-1")).await;
    click(c, "#confirm-publish").await;
    click(c, "#publish").await;
    let seated = element(c, "#seated-households").await.text().await.unwrap();
    assert_eq!(seated, "1", "the one household is seated");
    click(c, "form.logout button").await;
    element(c, "input[name=password]").await;

    // The field officer: the pass is on the request's page; check in, then board.
    log_in(c, &base, "field1").await;
    c.goto(&format!("{base}/desk/requests?q={reference}"))
        .await
        .unwrap();
    let seats = element(c, "#seats").await.text().await.unwrap();
    assert!(seats.contains("IT-1"), "{seats}");
    click(c, "details.pass summary").await;
    element(c, "details.pass img").await;
    screenshot(c, "desk-request-pass").await;
    let token = element(c, "details.pass code.token")
        .await
        .text()
        .await
        .unwrap();
    assert!(token.starts_with("EVAC1."), "{token}");
    c.goto(&format!("{base}/desk/check-in")).await.unwrap();
    fill(c, "textarea[name=token]", &token).await;
    click(c, "#check-in").await;
    let outcome = element(c, "#outcome").await.text().await.unwrap();
    assert!(
        outcome.contains("Checked in") && outcome.contains("ROSSI"),
        "{outcome}"
    );
    fill(c, "textarea[name=token]", &token).await;
    click(c, "#board").await;
    let outcome = text_once(c, "#outcome", |text| text.contains("Boarded")).await;
    assert!(outcome.contains("Boarded"), "{outcome}");
    c.goto(&format!("{base}/desk/requests?q={reference}"))
        .await
        .unwrap();
    let people = element(c, "#people").await.text().await.unwrap();
    assert!(people.contains("boarded"), "{people}");
    let history = element(c, "#history").await.text().await.unwrap();
    for step in [
        "registered → verified",
        // No sender runs here: the seat stays assigned (told by no channel) until the scan.
        "verified → assigned",
        "assigned → checked_in",
        "checked_in → boarded",
    ] {
        assert!(history.contains(step), "{step} in {history}");
    }
    screenshot(c, "desk-request-boarded").await;
    browser.client.clone().close().await.unwrap();
}

/// Issue 27, item 5: a teacher could list at most six people on the public form, and a wrong
/// date came back in English at the top of the page. On the Kazakh form a teacher adds eight
/// pupils with the "+" button; a wrong date is answered in Kazakh beside the pupil's field,
/// where the cursor waits; corrected, all nine are stored.
#[tokio::test]
async fn a_teacher_lists_a_school_group_and_fixes_a_date_on_the_kazakh_form() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;
    c.goto(&format!("{base}/request?lang=kk")).await.unwrap();
    fill(c, "input[name=location]", "Алматы").await;
    fill(c, "input[name=phone]", "8 701 555 77 00").await;
    let people = 9;
    for line in 0..people {
        if line > 0 {
            click(c, "fieldset.party > button.secondary").await;
        }
        let (surname, birth) = if line == 0 {
            ("Ахметова", "02.03.1980")
        } else if line == 7 {
            ("Оқушы", "31.02.2012")
        } else {
            ("Оқушы", "15.06.2012")
        };
        fill(c, &format!("#f-surname-{line}"), surname).await;
        fill(c, &format!("#f-given_names-{line}"), "Test").await;
        fill(c, &format!("#f-birth_date-{line}"), birth).await;
    }
    click(c, "input[name=consent]").await;
    click(c, "button[type=submit]").await;
    let advice = element(c, "#f-birth_date-7-error")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        advice.starts_with("Өткендегі нақты туған күнді"),
        "in Kazakh, beside the field: {advice}"
    );
    let focused = c
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(
        focused, "f-birth_date-7",
        "the cursor waits at the wrong date"
    );
    screenshot(c, "request-form-kk-date").await;
    let field = element(c, "#f-birth_date-7").await;
    field.clear().await.unwrap();
    field.send_keys("15.06.2012").await.unwrap();
    click(c, "button[type=submit]").await;
    let reference = element(c, "#reference").await.text().await.unwrap();
    let stored = app
        .store()
        .request_by_reference(&reference.parse().unwrap())
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.request.body.party.len(), people);
}

/// Issue 27's goal: a case officer filters the request list (the hotline's requests with
/// children), ticks a household's request and verifies everyone in it in one go; the list
/// then shows them verified, and the filter stays as chosen.
#[tokio::test]
async fn a_case_officer_filters_the_list_and_verifies_a_household_in_bulk() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let (base, app, _dir) = serve().await;
    let mut hotline = None;
    for g in evac_demo::generate(evac_demo::Scenario::january_2022(60, 5)) {
        let ack = app
            .submit_request_at(&evac_model::Actor::System, &g.draft, None, g.received_at)
            .await
            .unwrap();
        let stored = app.store().request(ack.id).await.unwrap().unwrap();
        if hotline.is_none()
            && stored.request.body.channel == evac_model::Channel::Hotline
            && stored.request.body.party.len() > 1
        {
            hotline = Some((ack.reference.to_string(), stored.request.body.party.len()));
        }
    }
    let (reference, people) = hotline.expect("the generated crisis has a hotline family");
    app.add_user(None, "officer1", Role::CaseOfficer, "correct horse battery")
        .await
        .unwrap();
    log_in(c, &base, "officer1").await;
    c.goto(&format!("{base}/desk/requests?lang=en"))
        .await
        .unwrap();
    click(c, "#filters select[name=channel] option[value=hotline]").await;
    click(c, "#filters button[type=submit]").await;
    let listed = text_once(c, "#requests", |t| t.contains(&reference)).await;
    assert!(listed.contains(&reference), "{listed}");
    // Times read in the desk's zone (Almaty, +06), and in UTC on hover.
    let time = element(c, "#requests tbody tr td time").await;
    let shown = time.text().await.unwrap();
    let title = time.attr("title").await.unwrap().unwrap();
    let utc: evac_model::Timestamp = time
        .attr("datetime")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(shown.ends_with("+06"), "{shown}");
    assert_eq!(
        utc.to_minute_in(&jiff::tz::TimeZone::get("Asia/Almaty").unwrap()),
        shown
    );
    assert_eq!(
        title,
        format!("{} UTC", &utc.to_string()[..16].replace('T', " "))
    );
    assert!(
        c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains("channel=hotline"),
        "the filter is in the address, to share or reload"
    );
    let row = c
        .find(Locator::XPath(&format!(
            "//table[@id='requests']//tr[.//a[text()='{reference}']]"
        )))
        .await
        .unwrap();
    row.find(Locator::Css("input[type=checkbox]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(
        c,
        "fieldset.bulk select[name=status] option[value=verified]",
    )
    .await;
    fill(
        c,
        "fieldset.bulk textarea[name=reason]",
        "passports seen at the embassy",
    )
    .await;
    screenshot(c, "desk-requests-bulk").await;
    click(c, "fieldset.bulk button[type=submit]").await;
    let notice = text_once(c, "#bulk-notice", |t| t.contains("People changed")).await;
    assert!(
        notice.contains(&format!("People changed: {people}")),
        "everyone of the household: {notice}"
    );
    let row = text_once(c, "#requests", |t| t.contains("verified")).await;
    assert!(
        row.lines()
            .any(|l| l.contains(&reference) && l.contains(&format!("{people} verified"))),
        "{row}"
    );
    let selected = element(c, "#filters select[name=channel] option[value=hotline]")
        .await
        .prop("selected")
        .await
        .unwrap();
    assert_eq!(
        selected.as_deref(),
        Some("true"),
        "the filter stays as chosen"
    );
    browser.client.clone().close().await.unwrap();
}
