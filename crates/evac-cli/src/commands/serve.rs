//! `evac serve` and `evac migrate`.

use anyhow::Context;
use clap::Args;
use evac_app::App;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [env: EVAC_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, env = "EVAC_LISTEN")]
    pub listen: Option<String>,
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = super::open(config, true).await?;
    store.migrate().await.context("applying migrations")?;
    println!("{} is up to date", config.database.redacted());
    Ok(())
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let listener = bind(&config.listen).await?;
    println!("evac is listening on http://{}", listener.local_addr()?);
    serve(listener, app).await
}

pub async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr}; is another evac running? choose another with --listen")
    })
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish. Linkage runs in the
/// background on whichever node holds its lease (this one, when alone): requests are taken at
/// once, and matched from the moment that node has taken the kept model up (at once), or
/// relinked a store that keeps none (an app that relinked already keeps its model).
pub async fn serve(listener: tokio::net::TcpListener, app: App) -> anyhow::Result<()> {
    let linkage = app.start_linkage_worker(&app.settings().messaging.node);
    // This node's senders: they drain the outbox (shared with every other node) until the
    // server stops.
    let senders = app.start_senders()?;
    let messaging = &app.settings().messaging;
    let mut channels: Vec<&str> = vec!["log"];
    if messaging.sms.is_some() {
        channels.push("sms (Kannel)");
    }
    if messaging.email.is_some() {
        channels.push("email (SMTP)");
    }
    if messaging.messenger.is_some() {
        channels.push("telegram (Bot API)");
    }
    if channels.len() == 1 {
        channels[0] =
            "log (records notices, sends nothing: configure [sms], [email] or [telegram] to send)";
    }
    tracing::info!(channels = ?channels, node = %messaging.node, "senders started");
    // Every node seals the audit trail's new events into its hash chain, taking turns.
    let sealer = app.start_audit_sealer();
    // A store from before places were kept catches up in the background: until it has, the
    // `town` filter and the dashboard's places miss its older requests.
    let places = {
        let app = app.clone();
        tokio::spawn(async move {
            match app.catch_up_places().await {
                Ok(0) => {}
                Ok(read) => tracing::info!(requests = read, "read the places of older requests"),
                Err(e) => tracing::warn!(error = %e, "could not read the places of older requests"),
            }
        })
    };
    // The crisis mailbox, read on every node: the Message-ID keeps each message once.
    let mail_reader = app.start_mail_reader();
    if mail_reader.is_some() {
        tracing::info!("reading the mailbox ([email.imap])");
    }
    // The messenger by long polling, where this node is the one set to (`[telegram] poll`);
    // otherwise its webhook brings updates to any node.
    let messenger_reader = app.start_messenger_reader();
    if messenger_reader.is_some() {
        tracing::info!("reading the messenger's updates ([telegram] poll)");
    }
    // Retention, where the crisis is declared closed ([retention]): every node looks hourly;
    // erasing twice finds nothing the second time.
    let retention = app.settings().retention.map(|schedule| {
        tracing::info!(due_at = %schedule.due_at(), "personal data is anonymised by itself from then ([retention])");
        let app = app.clone();
        tokio::spawn(async move {
            let mut every =
                tokio::time::interval(std::time::Duration::from_secs(evac_app::RETENTION_CHECK_S));
            loop {
                every.tick().await;
                match app.run_retention_schedule(evac_model::Timestamp::now()).await {
                    Ok(Some(done)) if done.persons > 0 => tracing::info!(
                        requests = done.requests,
                        persons = done.persons,
                        "retention: anonymised the closed crisis's personal data"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "retention could not run; it tries again in an hour"),
                }
            }
        })
    });
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
    };
    let served = evac_web::serve(listener, app, shutdown)
        .await
        .context("the server stopped");
    // Another node takes the linkage over at once.
    linkage.stop().await;
    drop(senders);
    drop(sealer);
    places.abort();
    drop(mail_reader);
    drop(messenger_reader);
    if let Some(task) = retention {
        task.abort();
    }
    served
}
