//! `evac bench pages`: server time of the desk's pages with many requests stored — the
//! dashboard (with its map), the request list and its searches, a request's page and the case
//! list, next to `/healthz` on the same router as the
//! baseline. Requests go through the real router in-process (no sockets), with a session
//! cookie, and the whole body is read, so the figure is the server's work: store queries,
//! folding, rendering.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use clap::Args;
use evac_model::Role;
use tower::ServiceExt as _;

#[derive(Debug, Args)]
pub struct PagesBenchArgs {
    #[arg(long, default_value_t = 100_000)]
    pub requests: usize,
    #[arg(long, default_value_t = 7)]
    pub rounds: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn run(args: PagesBenchArgs) -> anyhow::Result<()> {
    // The directory holds the database: it lives as long as the benchmark.
    let (app, _dir, loaded, load_s) = super::demo_app(args.requests, args.seed).await?;
    eprintln!("loaded {loaded} requests in {load_s:.1} s");
    // The pages are timed in the steady state: the name index holds every request. (While
    // the keyer is behind a large load, a name search also reads the bodies of the requests
    // not keyed yet, up to the keyer's backlog bound: that is a load's cost, not a page's.)
    let keying = Instant::now();
    let unkeyed = app.store().unkeyed_requests().await?;
    while app.store().unkeyed_requests().await? > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(super::KEYER_POLL_MS)).await;
    }
    eprintln!(
        "the name index held every request {:.1} s after the load ({unkeyed} were waiting)",
        keying.elapsed().as_secs_f64()
    );
    // Duplicates as linkage would log them (linking a million requests is a benchmark of its
    // own): every fifth request's first person merged with the next request's, so two
    // requests in five have a duplicate for the "has duplicates" list.
    let linking = Instant::now();
    let (linked, merged_request) = merge_every_fifth(&app).await?;
    eprintln!(
        "merged {linked} pairs of requests in {:.1} s",
        linking.elapsed().as_secs_f64()
    );
    app.add_user(None, "bench", Role::Supervisor, "correct horse battery")
        .await?;
    let session = app
        .login("bench", "correct horse battery", None)
        .await?
        .secret;
    let newest = app
        .store()
        .list_requests(
            &evac_store::RequestFilter::default(),
            evac_store::PageRequest {
                after: None,
                limit: 1,
                order: evac_store::ListOrder::NewestFirst,
            },
        )
        .await?
        .items
        .first()
        .map(|r| r.request.id)
        .ok_or_else(|| anyhow::anyhow!("no request loaded"))?;
    let router = evac_web::router(app);
    let get = |path: String| {
        let router = router.clone();
        let cookie = format!("evac_session={session}");
        async move {
            let request = Request::get(&path)
                .header("cookie", cookie)
                .body(Body::empty())
                .expect("a request");
            let started = Instant::now();
            let response = router.oneshot(request).await.expect("infallible");
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
            anyhow::ensure!(status.is_success(), "{path}: {status}");
            Ok::<_, anyhow::Error>((started.elapsed().as_secs_f64() * 1e3, bytes.len()))
        }
    };
    let pages = [
        ("/healthz (baseline)", "/healthz".to_string()),
        ("dashboard with map", "/desk".to_string()),
        ("request list, newest 50", "/desk/requests".to_string()),
        (
            "request list, name search",
            "/desk/requests?q=Nurlan".to_string(),
        ),
        (
            "name that is a town's case",
            "/desk/requests?q=Ivanova".to_string(),
        ),
        (
            "request list, place search",
            "/desk/requests?q=Karaganda".to_string(),
        ),
        (
            "search nobody matches",
            "/desk/requests?q=Zzyzx".to_string(),
        ),
        (
            "name in another scheme",
            "/desk/requests?q=Iwanowa%20Swetlana".to_string(),
        ),
        (
            "request detail and history",
            format!("/desk/requests/{newest}"),
        ),
        ("case list (kept ranking)", "/desk/cases".to_string()),
        ("case list, one class", "/desk/cases?class=3".to_string()),
        (
            "case list, medical emergency",
            "/desk/cases?mark=medical_emergency".to_string(),
        ),
        ("household page", format!("/desk/households/{newest}")),
        (
            "household of two requests",
            format!("/desk/households/{merged_request}"),
        ),
        (
            "request detail, merged",
            format!("/desk/requests/{merged_request}"),
        ),
        (
            "request list, oldest first",
            "/desk/requests?order=oldest".to_string(),
        ),
        ("inbox, handled", "/desk/inbox?state=handled".to_string()),
        (
            "request list, by need",
            "/desk/requests?need=wheelchair".to_string(),
        ),
        (
            "request list, by citizenship",
            "/desk/requests?citizenship=RU".to_string(),
        ),
        (
            "request list, has duplicates",
            "/desk/requests?has_duplicates=true".to_string(),
        ),
        (
            "request list, by status",
            "/desk/requests?status=verified".to_string(),
        ),
    ];
    println!("machine: {}", super::machine());
    println!(
        "{loaded} requests stored; server time per page, median of {} rounds (one warm-up):",
        args.rounds
    );
    // The case list's first view ranks every household (and keeps the ranking, so the pages
    // below, the dashboard's classes included, are timed with it kept and nothing ranking in
    // the background).
    let (first_view_ms, _) = get("/desk/cases".to_string()).await?;
    println!(
        "  {:<28} {first_view_ms:>9.1} ms  (one view)",
        "case list, first view"
    );
    for (name, path) in pages {
        get(path.clone()).await?;
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..args.rounds {
            let (ms, bytes) = get(path.clone()).await?;
            times.push(ms);
            size = bytes;
        }
        println!(
            "  {name:<28} {:>9.1} ms  {:>7} bytes",
            super::median(times),
            size
        );
    }
    Ok(())
}

/// Logs an automatic merge of the first persons of every fifth request and the one after it;
/// the answer is how many pairs, and a request of the last pair.
async fn merge_every_fifth(app: &evac_app::App) -> anyhow::Result<(usize, evac_model::RequestId)> {
    let mut after = None;
    let mut previous: Option<evac_model::PersonId> = None;
    let mut position = 0usize;
    let mut merged = 0;
    let mut merged_request = None;
    loop {
        let page = app
            .store()
            .list_requests(
                &evac_store::RequestFilter::default(),
                evac_store::PageRequest {
                    after,
                    limit: evac_store::PAGE_ITEMS_MAX,
                    order: evac_store::ListOrder::OldestFirst,
                },
            )
            .await?;
        let mut events = Vec::new();
        for stored in &page.items {
            let first = stored.request.body.party[0].id;
            if position % 5 == 1
                && let Some(a) = previous
            {
                events.push(evac_model::LinkEvent {
                    at: stored.request.received_at,
                    actor: evac_model::Actor::System,
                    kind: evac_model::LinkEventKind::AutoMerge,
                    person_a: a,
                    person_b: first,
                    match_probability: 0.99,
                    explanation: "{}".into(),
                    refers_to: None,
                });
                merged_request = Some(stored.request.id);
            }
            previous = Some(first);
            position += 1;
        }
        merged += events.len();
        app.store()
            .append_link_events(events, Vec::new(), evac_store::AppendIf::Always)
            .await?;
        match page.next {
            Some(next) => after = Some(next),
            None => {
                let request = merged_request
                    .ok_or_else(|| anyhow::anyhow!("too few requests to merge any"))?;
                return Ok((merged, request));
            }
        }
    }
}
