//! `evac`: the one binary. Parses arguments, resolves configuration, wires the store, the app
//! and the web server together, and runs one command. No business logic lives here.

mod bench;
mod commands;
mod config;
mod progress;
mod sealed;

use clap::{Parser, Subcommand};
use config::GlobalArgs;

/// mimalloc rather than the system allocator: intake allocates and frees many small strings
/// per request on two threads, and glibc's malloc spent a tenth of all CPU under intake load
/// doing it (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// evac — bring citizens home from a country in turmoil.
///
/// Takes evacuation requests (web, API, hotline, spreadsheets), keeps them safe on SQLite or
/// PostgreSQL, and gives the crisis centre's staff one picture of who needs to leave.
#[derive(Debug, Parser)]
#[command(name = "evac", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server on an existing database (migrations are applied at start-up).
    Serve(commands::serve::ServeArgs),
    /// Create (or reuse) a data directory with a generated January-2022 crisis, then serve it
    /// and print the URL and a supervisor login.
    Demo(commands::demo::DemoArgs),
    /// Write a generated crisis to files: requests.jsonl, requests.csv (importable) and
    /// truth.csv (the true person and household of every record, for benchmarks).
    Generate(commands::generate::GenerateArgs),
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Import requests from a CSV or XLSX file; invalid rows go to a rejects file.
    Import(commands::import::ImportArgs),
    /// Export requests as CSV, JSONL or XLSX (one row per person), optionally HXL-tagged.
    Export(commands::export::ExportArgs),
    /// Deduplicate a spreadsheet of people (or link it against the stored requests) with a
    /// column mapping; writes clusters.csv and pairs.csv.
    Link(commands::link::LinkArgs),
    /// The cases (households) in the order the priority policy serves them, with the reasons;
    /// store a new policy version and see what moved.
    Triage(commands::triage::TriageArgs),
    /// Situation reports: ingest (text or CAP), list, show, grade, confirm or dismiss.
    #[command(subcommand)]
    Report(commands::situation::ReportCommand),
    /// Hubs, routes and zones with their derived status; set a status by hand.
    #[command(subcommand)]
    Hub(commands::situation::HubCommand),
    /// Transports: add, list, change status.
    #[command(subcommand)]
    Transport(commands::planning::TransportCommand),
    /// Plan every household onto the stored transports (a preview), with the reasons for
    /// those left waiting; `--publish` stores the seats and issues boarding passes, keeping
    /// households already told where they still fit.
    Plan {
        #[command(flatten)]
        who: commands::review::Who,
        /// Show this many waiting households with their reasons
        #[arg(long, default_value_t = 5)]
        waiting: usize,
        /// Store the plan and issue passes (re-plans against the last published one)
        #[arg(long)]
        publish: bool,
        /// Plan as of this time (RFC 3339; default now), for exercises and replays
        #[arg(long)]
        at: Option<String>,
        /// Write the planning instance and evac's plan of it (JSON, docs/PLAN-INSTANCE.md) for
        /// an outside solver to check, e.g. scripts/highs-check.py
        #[arg(long, value_name = "FILE", conflicts_with = "publish")]
        export_instance: Option<std::path::PathBuf>,
    },
    /// Messages to requesters, newest first, with the outbox's counts.
    Outbox(commands::messages::OutboxArgs),
    /// Messages from requesters (by default those waiting for a human).
    Inbox(commands::messages::InboxArgs),
    /// A message to a group of requesters: previewed (count, text per language); `--send`
    /// queues it.
    Broadcast(commands::messages::BroadcastArgs),
    /// Ask requests that waited long whether they still need to leave; mark unreachable (no
    /// new seats) those who did not answer in time.
    Reconfirm(commands::messages::ReconfirmArgs),
    /// Log a hotline call to or from a request's people; a call that did not reach them
    /// queues a callback.
    Call(commands::calls::CallArgs),
    /// The callback queue, soonest due first; `--next` takes the next one to call.
    Callbacks(commands::calls::CallbacksArgs),
    /// The crisis mailbox ([email.imap]).
    #[command(subcommand)]
    Mailbox(commands::messages::MailboxCommand),
    /// Boarding passes at the gate: verify offline, check in, board.
    #[command(subcommand)]
    Pass(commands::planning::PassCommand),
    /// The gazetteer: resolve a location in any script.
    #[command(subcommand)]
    Place(commands::place::PlaceCommand),
    /// Link every stored request from scratch and keep each person's keys and the model (the
    /// server does this on its first start; a restart matches from what is kept).
    Relink,
    /// The duplicate review queue: list, decide, undo.
    #[command(subcommand)]
    Review(commands::review::ReviewCommand),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(commands::accounts::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(commands::accounts::TokenCommand),
    /// A person's data: export it for their subject-access request, or erase it.
    #[command(subcommand)]
    Person(commands::person::PersonCommand),
    /// After a crisis: anonymise the people of every request received before a cut-off
    /// (a preview of the counts without --apply).
    Retention(commands::person::RetentionArgs),
    /// Write a consistent copy of the embedded database while the server runs.
    Backup(commands::backup::BackupArgs),
    /// Put a copy from `evac backup` in place of the database (stop the server first); the
    /// database it replaces is kept beside it.
    Restore(commands::backup::RestoreArgs),
    /// Copy the embedded database for a drill or a replay, marked as an exercise: only there
    /// may `plan --publish --at` write seats as of another time.
    Exercise(commands::backup::ExerciseArgs),
    /// PostgreSQL: give the role evac runs as (after `evac migrate` as the owner) what a node
    /// needs and no more: it appends to the audit trail and can never update or delete it.
    GrantAppRole(commands::backup::GrantArgs),
    /// Boarding-pass keys (kept in a key file, never in the database): list, rotate, prune.
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// The audit trail's hash chain: print its head, verify it.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Measure throughput and latency (figures go to docs/BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// The nice value of the runtime's threads (HTTP workers and the blocking pool): one step below
/// the store's own threads. Every request that writes waits for the store's one writer (the
/// SQLite writer thread, or PostgreSQL's processes on the same machine); under intake load the
/// SQLite writer spent a quarter of its time runnable but waiting for a core the workers held,
/// and each of those moments held back every request in its batch (docs/BENCHMARKS.md).
const RUNTIME_THREAD_NICE: i32 = 5;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(|| evac_store::set_this_threads_nice(RUNTIME_THREAD_NICE))
        .build()
        .expect("a Tokio runtime");
    let outcome = runtime.block_on(run(cli));
    // Background work on the blocking pool (a relink on a first start, or for a crisis that
    // outgrew its model: minutes at a million requests) must not keep a stopped server alive: it is
    // redone by whichever node links next. Dropping the runtime would wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(BLOCKING_WORK_AT_EXIT_S));
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// How long, in seconds, the process waits at exit for background work on the blocking pool.
const BLOCKING_WORK_AT_EXIT_S: u64 = 2;

async fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve(a) => a.listen.as_deref(),
        Command::Demo(a) => a.listen.as_deref(),
        _ => None,
    };
    let config = cli.global.resolve(listen)?;
    init_logging(&config.log);
    match cli.command {
        Command::Serve(_) => commands::serve::run(&config).await,
        Command::Demo(args) => commands::demo::run(&config, args).await,
        Command::Generate(args) => commands::generate::run(args),
        Command::Migrate => commands::serve::migrate(&config).await,
        Command::Import(args) => commands::import::run(&config, args).await,
        Command::Export(args) => commands::export::run(&config, args).await,
        Command::Link(args) => commands::link::run(&config, args).await,
        Command::Relink => commands::review::relink(&config).await,
        Command::Place(command) => commands::place::run(command),
        Command::Report(command) => commands::situation::report(&config, command).await,
        Command::Hub(command) => commands::situation::hub(&config, command).await,
        Command::Transport(command) => commands::planning::transport(&config, command).await,
        Command::Plan {
            who,
            waiting,
            publish,
            at,
            export_instance,
        } => match export_instance {
            Some(file) => commands::planning::export_instance(&config, who, at, &file).await,
            None => commands::planning::plan(&config, who, waiting, publish, at).await,
        },
        Command::Pass(command) => commands::planning::pass(&config, command).await,
        Command::Outbox(args) => commands::messages::outbox(&config, args).await,
        Command::Inbox(args) => commands::messages::inbox(&config, args).await,
        Command::Broadcast(args) => commands::messages::broadcast(&config, args).await,
        Command::Mailbox(command) => commands::messages::mailbox(&config, command).await,
        Command::Reconfirm(args) => commands::messages::reconfirm(&config, args).await,
        Command::Call(args) => commands::calls::call(&config, args).await,
        Command::Callbacks(args) => commands::calls::callbacks(&config, args).await,
        Command::Triage(args) => commands::triage::run(&config, args).await,
        Command::Review(command) => commands::review::run(&config, command).await,
        Command::User(cmd) => commands::accounts::user(&config, cmd).await,
        Command::Token(cmd) => commands::accounts::token(&config, cmd).await,
        Command::Audit(cmd) => commands::audit::run(&config, cmd).await,
        Command::Keys(cmd) => commands::keys::run(&config, cmd).await,
        Command::Person(cmd) => commands::person::run(&config, cmd).await,
        Command::Retention(args) => commands::person::retention(&config, args).await,
        Command::Backup(args) => commands::backup::backup(&config, args).await,
        Command::Restore(args) => commands::backup::restore(&config, args).await,
        Command::Exercise(args) => commands::backup::exercise(&config, args).await,
        Command::GrantAppRole(args) => commands::backup::grant_app_role(&config, args).await,
        Command::Bench(cmd) => bench::run(&config, cmd).await,
    }
}
