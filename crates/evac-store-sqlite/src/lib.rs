//! evac's embedded backend: one SQLite file in WAL mode, durable at commit.
//!
//! All writes go through one writer thread that practises *group commit*: it takes every job
//! waiting in its queue (up to [`BATCH_JOBS_MAX`]), runs them all in one transaction, commits
//! once (one fsync for the whole batch, `synchronous = FULL`) and only then answers each caller.
//! Under load, batches grow by themselves, and a busy writer waits [`BATCH_GATHER_US`] for more;
//! when idle, a lone request commits at once.
//!
//! Jobs run optimistically, side by side in the one transaction. Should one fail, the batch is
//! rolled back and run again with each job in its own savepoint, so the failure takes only its
//! own job with it. (Savepoints for every job were the writer's largest cost: SQLite copies every
//! page a savepoint touches first into a sub-journal.) A job is therefore a closure that can run
//! twice; it only touches the connection it is given.
//!
//! Reads run on a small pool of connections on the blocking thread pool; WAL lets them proceed
//! while the writer commits.

mod assignments;
mod audit;
pub mod backup;
mod batch;
mod calls;
mod links;
mod name_keys;
mod outbox;
mod persons;
mod rows;
mod seats;
mod situation;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use batch::WriteBatch;
use evac_model::{
    Actor, Claim, Feature, Grade, Hub, InboundId, LinkEvent, MessageId, PersonId, ReferenceCode,
    Report, ReportId, ReportState, RequestId, SeatEvent, Statement, StoredLinkEvent,
    StoredSeatEvent, Timestamp, Transport,
};
use evac_store::*;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Jobs waiting for the writer; senders wait (asynchronously) when it is full.
pub const WRITE_QUEUE_JOBS_MAX: usize = 8_192;
/// Jobs in one transaction: bounds the latency a batch adds and the size of a rollback.
pub const BATCH_JOBS_MAX: usize = 4_096;
/// How long a busy writer waits for more jobs before it runs a batch, in µs. Every commit
/// rewrites the last page of each table and index intake appends to, and the database header:
/// about 25 pages whatever the batch's size (`scripts/wal-pages.py`). Under load the writer
/// committed every ~12 jobs; waiting this long lets ~4 more join at 13,000 requests/s, a seventh
/// fewer bytes written per request (docs/BENCHMARKS.md).
pub const BATCH_GATHER_US: u64 = 300;
/// Jobs already waiting that make the writer gather: fewer means it is not busy, and a lone
/// request commits at once.
pub const BATCH_GATHER_MIN_JOBS: usize = 8;
/// Jobs already waiting that make gathering pointless: the commit's fixed ~25 pages are already
/// shared by enough requests (under half a page each), and the writer itself is then what
/// intake waits for. At 256 connections batches held ~105 jobs and the writer spent 6 % of its
/// time in the gathering sleep (docs/BENCHMARKS.md).
pub const BATCH_GATHER_MAX_JOBS: usize = 64;
/// Concurrent read connections.
pub const READERS_MAX: usize = 8;
/// How often the background connection copies committed WAL pages into the database file.
///
/// Short, so that each pass's write and `fdatasync` of the database file is small: the WAL's
/// commits share the disk with it, and a commit's sync that lands behind a pass waits for the
/// whole pass. On this project's machine a 180 KB write and sync (a commit's size) took 0.4 ms
/// alone, p99 10–12 ms (max 22–24) beside 5 MB written and synced every 50 ms (intake's pace at
/// 10,000 requests/s), p99 6 ms (max 8) beside 1 MB every 10 ms (`scripts/sync-interference.py`).
/// In the intake benchmark, 10 ms against 50 gave a lower p99 at 256 connections in five
/// alternating pairs of seven (the two others ran while the machine was at half speed) and a
/// smaller p99/p50 in all seven (docs/BENCHMARKS.md). A pass with nothing new to copy returns
/// at once, without a sync.
pub const CHECKPOINT_INTERVAL_MS: u64 = 10;
/// WAL pages after which the writer completes a checkpoint, so the WAL starts over (1 GiB).
///
/// That checkpoint holds every commit up for its last copy and sync, so all requests in flight
/// wait: 256 at 256 connections. With 256 MiB that came every ~22,000 requests (~12 KB of WAL
/// each), over 1 % of them, and set the p99: without those windows the p99 was 30–34 ms instead
/// of 47–50 (docs/BENCHMARKS.md). At 1 GiB it is ~0.3 %. The checkpointer copies all but the
/// last few milliseconds of the WAL first ([`checkpoint_loop`]), which keeps the stall itself
/// short (0.6–22 ms measured), but not short enough to start over more often: a 64 MiB WAL, hot
/// in the page cache and rewritten in place, stalled ~4 % of requests and gave no better p99 in
/// alternating runs (docs/BENCHMARKS.md). The file keeps its size while intake goes on
/// (appends then reuse written blocks) and is truncated once intake pauses
/// ([`WAL_TRUNCATE_IDLE_MS`]).
pub const WAL_RESTART_PAGES: u32 = 262_144;
/// How long the WAL must go without a commit before the checkpointer truncates its file, in ms
/// (see [`SqliteStore::set_wal_truncate_idle_ms`]), so a burst of intake does not leave a
/// gigabyte behind for good.
///
/// A minute, not a second: writing into new WAL space costs the writer more than rewriting
/// blocks the file already has (block allocation, zeroing the partly written blocks, a larger
/// `fsync`), and intake comes in waves with pauses of seconds. Truncated after one idle second,
/// every wave started from an empty file; kept, the writer reuses it: three alternating pairs
/// of full benchmark runs, p99 at 256 connections 53.7 / 66.2 / 64.2 ms truncating after 1 s
/// against 45.7 / 58.5 / 54.5 ms keeping it (docs/BENCHMARKS.md).
pub const WAL_TRUNCATE_IDLE_MS: u64 = 60_000;
/// A batch that takes this long is logged (at debug level) with where its time went.
const SLOW_BATCH_MS: u128 = 20;
/// The writer's page cache, in KiB: enough for the right-hand edges of the append-mostly
/// B-trees and the hot part of the others (the operating system caches the rest of the file).
///
/// Larger is slower while the file is under 1 GiB: when a B-tree split reorders its new pages,
/// SQLite parks one page under the number of the never-used page at 1 GiB (the lock page), and
/// the commit then finds that number beyond the file's end and sweeps the whole page cache for
/// pages to drop. With 64 MiB that sweep was ~10 % of the writer's time (`perf`), in every
/// commit; a C reproduction with the bundled SQLite halved its CPU time with a 2 MiB cache.
/// Smaller is slower once the file has grown: with 8 MiB, after the intake benchmark's
/// 64-connection rounds had stored ~150,000 requests, p99 at 256 connections was 3–25 ms worse
/// than with 32 MiB in each of three alternating runs (docs/BENCHMARKS.md; presumably the
/// random `reference` index no longer fitted beside the tails of the other B-trees).
const WRITER_CACHE_KIB: i64 = 32 * 1024;
/// How long a connection waits for a lock before reporting the database busy.
const BUSY_TIMEOUT_MS: u64 = 10_000;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_situation.sql"),
    include_str!("../migrations/0003_linkage.sql"),
    include_str!("../migrations/0004_statements.sql"),
    include_str!("../migrations/0005_transports.sql"),
    include_str!("../migrations/0006_seats.sql"),
    include_str!("../migrations/0007_counts.sql"),
    include_str!("../migrations/0008_name_keys.sql"),
    include_str!("../migrations/0009_corrections.sql"),
    include_str!("../migrations/0010_batch_counts.sql"),
    include_str!("../migrations/0011_name_keys_behind.sql"),
    include_str!("../migrations/0012_name_index.sql"),
    include_str!("../migrations/0013_fewer_btrees.sql"),
    include_str!("../migrations/0014_serialised_logs.sql"),
    include_str!("../migrations/0015_outbox.sql"),
    include_str!("../migrations/0016_phones_and_acks.sql"),
    include_str!("../migrations/0017_chats_and_calls.sql"),
    include_str!("../migrations/0018_token_expiry.sql"),
    include_str!("../migrations/0019_audit_chain.sql"),
    include_str!("../migrations/0020_pass_keys.sql"),
    include_str!("../migrations/0021_exercise.sql"),
    include_str!("../migrations/0022_login_failures.sql"),
    include_str!("../migrations/0023_shared_linkage.sql"),
    include_str!("../migrations/0024_assignments.sql"),
    include_str!("../migrations/0025_party_tags.sql"),
    include_str!("../migrations/0026_moved_persons_index.sql"),
    include_str!("../migrations/0027_link_events_second.sql"),
    include_str!("../migrations/0028_seat_numbers.sql"),
    include_str!("../migrations/0029_journey_seats.sql"),
    include_str!("../migrations/0030_places.sql"),
    include_str!("../migrations/0031_presences.sql"),
    include_str!("../migrations/0032_households_without_cases.sql"),
    include_str!("../migrations/0033_link_keys.sql"),
    include_str!("../migrations/0034_link_keys_forgotten.sql"),
    include_str!("../migrations/0035_feeder_chains.sql"),
];
const APPLICATION_ID: i64 = 1_702_257_251;

/// For tests: makes a store look as if its requests were stored before name keys (no keys, the
/// backfill due), so that the next `migrate` must key them all again.
pub const UNKEY_REQUESTS_SQL: &str = "INSERT INTO name_index (name_index) VALUES ('delete-all');
     INSERT INTO name_keys_backfill (due) VALUES (1)";

/// Whether opening may create the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `evac serve`: a missing file is an error (a mistyped path must not start an empty system).
    MustExist,
    /// `evac migrate` and `evac demo`: create the file if it is not there.
    CreateIfMissing,
}

/// A write waiting for the writer.
trait WriteJob: Send {
    /// Runs the work on the writer's connection, in a savepoint of its own when `isolated`;
    /// false when it failed (its changes must then not be committed).
    fn run(&mut self, batch: &WriteBatch, isolated: bool) -> bool;
    /// Whether the job runs by itself, after the batch it arrived with and outside any
    /// transaction of the writer's, beginning and committing its own (see
    /// [`WriterHandle::run_alone`]).
    fn runs_alone(&self) -> bool;
    /// Answers the caller once the batch's commit is known.
    fn answer(self: Box<Self>, commit: Result<(), &StoreError>);
}

type Job = Box<dyn WriteJob>;

/// A job and, once it has run, its result.
struct PendingWrite<W, R> {
    work: W,
    alone: bool,
    result: Option<Result<R, StoreError>>,
    reply: oneshot::Sender<Result<R, StoreError>>,
}

impl<W, R> WriteJob for PendingWrite<W, R>
where
    W: FnMut(&WriteBatch) -> Result<R, StoreError> + Send,
    R: Send,
{
    fn run(&mut self, batch: &WriteBatch, isolated: bool) -> bool {
        let result = if isolated {
            in_savepoint(batch, &mut self.work)
        } else {
            (self.work)(batch)
        };
        let succeeded = result.is_ok();
        self.result = Some(result);
        succeeded
    }

    fn runs_alone(&self) -> bool {
        self.alone
    }

    fn answer(self: Box<Self>, commit: Result<(), &StoreError>) {
        let answer = match commit {
            Ok(()) => self
                .result
                .unwrap_or_else(|| Err(StoreError::Backend("the write was never run".into()))),
            Err(e) => Err(StoreError::Backend(format!("commit failed: {e}"))),
        };
        let _ = self.reply.send(answer);
    }
}

/// Where jobs are handed to the writer thread.
#[derive(Clone)]
pub(crate) struct WriterHandle {
    jobs: mpsc::Sender<Job>,
}

/// `work` as a job for the writer, and where its answer will arrive.
fn pending_write<R: Send + 'static>(
    work: impl FnMut(&WriteBatch) -> Result<R, StoreError> + Send + 'static,
    alone: bool,
) -> (Job, oneshot::Receiver<Result<R, StoreError>>) {
    let (reply, answer) = oneshot::channel();
    let job: Job = Box::new(PendingWrite {
        work,
        alone,
        result: None,
        reply,
    });
    (job, answer)
}

impl WriterHandle {
    /// Runs `work` in the writer's next batch and waits until that batch is durable. `work` may
    /// run twice (see the module's note), each time on a transaction without the other's changes.
    async fn run<R: Send + 'static>(
        &self,
        work: impl FnMut(&WriteBatch) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.send(pending_write(work, false)).await
    }

    /// Runs `work` on the writer's connection by itself, outside any transaction, and waits for
    /// it: `work` begins and commits its own transactions. For schema migrations, which rebuild
    /// tables with foreign keys off as SQLite prescribes, and that pragma takes effect only
    /// outside a transaction.
    async fn run_alone<R: Send + 'static>(
        &self,
        work: impl FnMut(&WriteBatch) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.send(pending_write(work, true)).await
    }

    async fn send<R>(
        &self,
        (job, answer): (Job, oneshot::Receiver<Result<R, StoreError>>),
    ) -> Result<R, StoreError> {
        self.jobs.send(job).await.map_err(|_| writer_stopped())?;
        answer.await.map_err(|_| writer_stopped())?
    }

    /// [`WriterHandle::run`] for a thread outside the async runtime (the keyer).
    fn run_blocking<R: Send + 'static>(
        &self,
        work: impl FnMut(&WriteBatch) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (job, answer) = pending_write(work, false);
        self.jobs.blocking_send(job).map_err(|_| writer_stopped())?;
        answer.blocking_recv().map_err(|_| writer_stopped())?
    }
}

fn writer_stopped() -> StoreError {
    StoreError::Unavailable("the writer has stopped".into())
}

pub struct SqliteStore {
    path: PathBuf,
    /// Tells the checkpointer and keyer threads to stop when the store is dropped.
    stop_background: Arc<std::sync::atomic::AtomicBool>,
    /// The checkpointer's idle window before it truncates the WAL ([`WAL_TRUNCATE_IDLE_MS`]).
    wal_truncate_idle_ms: Arc<std::sync::atomic::AtomicU64>,
    writer: WriterHandle,
    /// Bumped by every correction, so the keyer never writes keys from a body read before one.
    corrections: Arc<std::sync::atomic::AtomicU64>,
    /// The keyer starts after the first migration, once its tables exist.
    keyer_started: std::sync::Once,
    readers: Arc<Mutex<Vec<Connection>>>,
    read_permits: Arc<Semaphore>,
    /// Counted by the app; the keyer waits while intake is busy.
    intake_load: IntakeLoad,
}

fn backend(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, msg)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Unavailable(msg.unwrap_or_else(|| "the database is busy".into()))
        }
        other => StoreError::Backend(other.to_string()),
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    // WAL: readers never block the writer. FULL: a commit is on disk before it is acknowledged.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )?;
    Ok(())
}

/// The database holds every requester's personal data and the passes' signing secret: only
/// its owner may read it. A new file is created 0600 (SQLite gives its WAL and shared-memory
/// files the database's mode); an existing one readable by others is narrowed to 0600, with
/// its WAL and shared-memory files.
fn keep_private(path: &Path, exists: bool) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let config = |e: std::io::Error| {
            StoreError::Config(format!("cannot keep {} private: {e}", path.display()))
        };
        if !exists {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(config)?;
            return Ok(());
        }
        let companions = path.as_os_str().to_owned();
        for suffix in ["", "-wal", "-shm"] {
            let mut file = companions.clone();
            file.push(suffix);
            let file = std::path::PathBuf::from(file);
            if let Ok(meta) = std::fs::metadata(&file)
                && meta.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(config)?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, exists);
    Ok(())
}

impl SqliteStore {
    /// Opens (or, with [`OpenMode::CreateIfMissing`], creates) the database file at `path`.
    /// Must be called inside a Tokio runtime. Does not migrate: call [`Store::migrate`].
    pub fn open(path: &Path, mode: OpenMode) -> Result<Self, StoreError> {
        let exists = path.exists();
        if !exists && mode == OpenMode::MustExist {
            return Err(StoreError::Config(format!(
                "no evac database at {}; check the path, or create one with `evac migrate` (or `evac demo`)",
                path.display()
            )));
        }
        if !exists {
            match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                    return Err(StoreError::Config(format!(
                        "the directory {} does not exist; create it first or fix the path",
                        dir.display()
                    )));
                }
                _ => {}
            }
        }
        keep_private(path, exists)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let writer = Connection::open_with_flags(path, flags).map_err(backend)?;
        configure(&writer).map_err(backend)?;
        let (version, app_id): (i64, i64) = writer
            .query_row("SELECT user_version, application_id FROM pragma_user_version, pragma_application_id", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(backend)?;
        if version > 0 && app_id != APPLICATION_ID {
            return Err(StoreError::Config(format!(
                "{} is a SQLite database but not an evac one; point evac at its own database file",
                path.display()
            )));
        }
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::Config(format!(
                "{} has schema version {version}, newer than this evac ({}); upgrade evac",
                path.display(),
                MIGRATIONS.len()
            )));
        }

        // Checkpoints run on their own connection (below), not inside the writer's commits,
        // where copying pages back into the database file would stall every waiting request.
        writer
            // temp_store = MEMORY keeps each job's savepoint sub-journal in memory: on disk it
            // costs a pwrite for every page a job touches first, which was most of the writer's time.
            .execute_batch(&format!(
                "PRAGMA cache_size = -{WRITER_CACHE_KIB}; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;"
            ))
            .map_err(backend)?;
        let stop_background = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let checkpointer = Connection::open_with_flags(path, flags).map_err(backend)?;
        configure(&checkpointer).map_err(backend)?;
        let stop = stop_background.clone();
        let wal_truncate_idle_ms =
            Arc::new(std::sync::atomic::AtomicU64::new(WAL_TRUNCATE_IDLE_MS));
        let truncate_idle_ms = wal_truncate_idle_ms.clone();
        let wal_restart_due = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let restart_due = wal_restart_due.clone();
        std::thread::Builder::new()
            .name("evac-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, stop, restart_due, truncate_idle_ms))
            .map_err(|e| StoreError::Backend(format!("cannot start the checkpoint thread: {e}")))?;

        let corrections = Arc::<std::sync::atomic::AtomicU64>::default();
        let corrections_committed = corrections.clone();
        let (jobs, queue) = mpsc::channel::<Job>(WRITE_QUEUE_JOBS_MAX);
        std::thread::Builder::new()
            .name("evac-sqlite-writer".into())
            .spawn(move || writer_loop(writer, queue, wal_restart_due, corrections_committed))
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        let writer = WriterHandle { jobs };

        Ok(SqliteStore {
            path: path.to_path_buf(),
            stop_background,
            wal_truncate_idle_ms,
            writer,
            corrections,
            keyer_started: std::sync::Once::new(),
            readers: Arc::new(Mutex::new(Vec::new())),
            read_permits: Arc::new(Semaphore::new(READERS_MAX)),
            intake_load: IntakeLoad::default(),
        })
    }

    /// Sets how long the WAL must go without a commit before its file is truncated
    /// (default [`WAL_TRUNCATE_IDLE_MS`]): shorter gives the disk space back sooner, at the cost
    /// of writing into new file space when intake resumes.
    pub fn set_wal_truncate_idle_ms(&self, idle_ms: u64) {
        self.wal_truncate_idle_ms
            .store(idle_ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs `work` in the writer's next batch and waits until that batch is durable.
    async fn write<R: Send + 'static>(
        &self,
        work: impl FnMut(&WriteBatch) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.writer.run(work).await
    }

    fn start_keyer(&self) -> Result<(), StoreError> {
        let reader = open_reader(&self.path)?;
        let (writer, corrections, stop, intake_load) = (
            self.writer.clone(),
            self.corrections.clone(),
            self.stop_background.clone(),
            self.intake_load.clone(),
        );
        std::thread::Builder::new()
            .name("evac-sqlite-keyer".into())
            .spawn(move || name_keys::keyer_loop(reader, writer, corrections, stop, intake_load))
            .map(|_| ())
            .map_err(|e| StoreError::Backend(format!("cannot start the keyer thread: {e}")))
    }

    /// Runs `work` on a pooled read connection on the blocking pool.
    async fn read<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let permit = self
            .read_permits
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        let pool = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = pool.lock().expect("reader pool lock").pop();
            let conn = match pooled {
                Some(c) => c,
                None => open_reader(&path)?,
            };
            let result = work(&conn);
            pool.lock().expect("reader pool lock").push(conn);
            drop(permit);
            result
        })
        .await
        .map_err(|e| StoreError::Backend(format!("a read task failed: {e}")))?
    }
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let c = Connection::open_with_flags(path, flags).map_err(backend)?;
    c.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
        .map_err(backend)?;
    Ok(c)
}

fn in_savepoint<R>(
    batch: &WriteBatch,
    work: impl FnOnce(&WriteBatch) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    batch.execute_batch("SAVEPOINT job").map_err(backend)?;
    let counted = batch.counts();
    let result = work(batch);
    let end = if result.is_ok() {
        "RELEASE job"
    } else {
        batch.restore_counts(counted);
        "ROLLBACK TO job; RELEASE job"
    };
    batch.execute_batch(end).map_err(backend)?;
    result
}

/// Runs every job of `jobs` in one transaction and commits it. Jobs first run side by side;
/// if one fails, that transaction is rolled back and the jobs run again, each in its own
/// savepoint. The batch's counts are written just before the commit. Answers how long the
/// commit itself took (writing the batch's pages to the WAL and `fsync`).
fn run_batch(batch: &WriteBatch, jobs: &mut [Job]) -> Result<std::time::Duration, StoreError> {
    batch.discard_counts();
    batch.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
    let mut all_succeeded = true;
    for job in jobs.iter_mut() {
        all_succeeded &= job.run(batch, false);
    }
    if !all_succeeded {
        // A failed statement may already have ended the transaction; then there is nothing
        // to roll back, and that error says nothing new.
        let _ = batch.execute_batch("ROLLBACK");
        batch.discard_counts();
        batch.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
        for job in jobs.iter_mut() {
            job.run(batch, true);
        }
    }
    batch.write_counts()?;
    let committing = std::time::Instant::now();
    batch.execute_batch("COMMIT").map_err(backend)?;
    Ok(committing.elapsed())
}

/// Moves the jobs already waiting into `batch`, up to [`BATCH_JOBS_MAX`], and those that run
/// alone into `alone`; never blocks.
fn take_waiting(batch: &mut Vec<Job>, alone: &mut Vec<Job>, queue: &mut mpsc::Receiver<Job>) {
    while batch.len() < BATCH_JOBS_MAX {
        match queue.try_recv() {
            Ok(job) => sort_job(job, batch, alone),
            Err(_) => break,
        }
    }
}

/// Puts `job` into the batch, or with the jobs that run alone after it.
fn sort_job(job: Job, batch: &mut Vec<Job>, alone: &mut Vec<Job>) {
    if job.runs_alone() {
        alone.push(job);
    } else {
        batch.push(job);
    }
}

/// Runs a job that manages its own transactions (see [`WriterHandle::run_alone`]), and answers
/// it. A job that left a transaction open has it rolled back, so the next batch can begin.
fn run_alone(writer: &WriteBatch, mut job: Job) {
    job.run(writer, false);
    if !writer.is_autocommit() {
        tracing::error!("a write that runs alone left a transaction open; rolling it back");
        let _ = writer.execute_batch("ROLLBACK");
    }
    job.answer(Ok(()));
}

/// `restart_due`: set by the checkpointer when the WAL has grown past `WAL_RESTART_PAGES`.
/// `corrections`: the keyer's correction counter, bumped after each commit that corrected a
/// request.
fn writer_loop(
    conn: Connection,
    mut queue: mpsc::Receiver<Job>,
    restart_due: Arc<std::sync::atomic::AtomicBool>,
    corrections: Arc<std::sync::atomic::AtomicU64>,
) {
    let writer = WriteBatch::new(conn);
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH_JOBS_MAX);
    let mut alone: Vec<Job> = Vec::new();
    warn_if_niced();
    let mut pace = WriterPace::new();
    while let Some(first) = queue.blocking_recv() {
        let woken = std::time::Instant::now();
        sort_job(first, &mut batch, &mut alone);
        take_waiting(&mut batch, &mut alone, &mut queue);
        if (BATCH_GATHER_MIN_JOBS..BATCH_GATHER_MAX_JOBS).contains(&batch.len()) {
            // Busy: let the batch fill a little longer (see BATCH_GATHER_US).
            std::thread::sleep(std::time::Duration::from_micros(BATCH_GATHER_US));
            take_waiting(&mut batch, &mut alone, &mut queue);
        }
        if !batch.is_empty() {
            commit_batch(&writer, &mut batch, woken, &mut pace, &corrections);
        }
        for job in alone.drain(..) {
            run_alone(&writer, job);
        }
        pace.log_each_second();
        if restart_due.swap(false, std::sync::atomic::Ordering::AcqRel) {
            // Between batches no frame is being added, so this checkpoint copies the rest of
            // the WAL (the checkpointer copied most of it) and the next batch starts it over.
            // A reader's snapshot (or the checkpointer's own pass) can keep it from copying
            // everything; the checkpointer then asks again after its next pass.
            let checkpointing = std::time::Instant::now();
            match writer.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], wal_checkpoint_row) {
                Ok(pass) => tracing::debug!(
                    checkpoint_ms = checkpointing.elapsed().as_millis(),
                    complete = pass.is_complete(),
                    "the writer's checkpoint before the WAL starts over"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "the writer's wal checkpoint failed; will retry")
                }
            }
        }
    }
}

/// Runs the batch's jobs in one transaction, commits it and answers each job (`woken`: when
/// the writer took its first job, for the pace log).
fn commit_batch(
    writer: &WriteBatch,
    batch: &mut Vec<Job>,
    woken: std::time::Instant,
    pace: &mut WriterPace,
    corrections: &std::sync::atomic::AtomicU64,
) {
    let started = std::time::Instant::now();
    let committed = run_batch(writer, batch);
    let running = started.elapsed();
    pace.batch(
        batch.len(),
        started - woken,
        running,
        committed.as_ref().ok(),
    );
    if writer.take_corrected() {
        corrections.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
    if let Err(e) = &committed {
        tracing::error!(error = %e, jobs = batch.len(), "sqlite batch failed");
        let _ = writer.execute_batch("ROLLBACK");
    }
    let jobs = batch.len();
    for job in batch.drain(..) {
        job.answer(committed.as_ref().map(|_| ()));
    }
    // A slow batch delays every request in it and every one queued behind it: the log says
    // which part was slow (`EVAC_LOG=evac_store_sqlite=debug`).
    let batch_ms = running.as_millis();
    if let Ok(commit) = &committed
        && batch_ms >= SLOW_BATCH_MS
    {
        tracing::debug!(jobs, batch_ms, commit_ms = commit.as_millis(), "slow batch");
    }
}

/// Where the writer's time went, logged each second it works (at debug level:
/// `EVAC_LOG=evac_store_sqlite=debug`): the way to tell whether intake waits for the writer
/// (busy nearly all the second) or the writer for intake, and what a batch costs.
struct WriterPace {
    since: std::time::Instant,
    batches: u64,
    jobs: u64,
    gathering: std::time::Duration,
    running: std::time::Duration,
    committing: std::time::Duration,
}

impl WriterPace {
    fn new() -> Self {
        WriterPace {
            since: std::time::Instant::now(),
            batches: 0,
            jobs: 0,
            gathering: Default::default(),
            running: Default::default(),
            committing: Default::default(),
        }
    }

    /// One batch: how long the writer gathered its jobs, ran them and (of that) committed.
    fn batch(
        &mut self,
        jobs: usize,
        gathering: std::time::Duration,
        running: std::time::Duration,
        committing: Option<&std::time::Duration>,
    ) {
        self.batches += 1;
        self.jobs += jobs as u64;
        self.gathering += gathering;
        self.running += running;
        self.committing += committing.copied().unwrap_or_default();
    }

    fn log_each_second(&mut self) {
        let elapsed = self.since.elapsed();
        if elapsed.as_secs() < 1 {
            return;
        }
        let busy = self.gathering + self.running;
        tracing::debug!(
            batches = self.batches,
            jobs_per_batch = self.jobs as f64 / self.batches as f64,
            busy_percent = 100.0 * busy.as_secs_f64() / elapsed.as_secs_f64(),
            gathering_ms = self.gathering.as_millis() as u64,
            running_ms = (self.running - self.committing).as_millis() as u64,
            committing_ms = self.committing.as_millis() as u64,
            "the writer's last second"
        );
        *self = WriterPace::new();
    }
}

/// The writer is intake's one serial stage, so it must not run below the threads that feed
/// it: a thread inherits its creator's nice value and may not lower it again. The CLI's runtime
/// threads run at nice 5 (evac-cli's `RUNTIME_THREAD_NICE`); a store opened on one of them
/// would get a writer at 5 too. This says so in the log.
fn warn_if_niced() {
    if let Some(nice) = evac_store::this_threads_nice()
        && nice > 0
    {
        tracing::warn!(
            nice,
            "the SQLite writer runs at a lower priority than normal (it inherited it from the \
             thread that opened the store); open the store outside the runtime's worker threads"
        );
    }
}

/// Copies committed WAL frames into the database file without blocking readers or the writer
/// (PASSIVE), so reads stay fast and the writer's own checkpoint has little left to copy.
///
/// The WAL starts again from its beginning only after a checkpoint has copied all of it, which
/// this one, racing the writer's appends under steady intake, never quite does: the WAL then
/// grew by gigabytes, and every write into new file space made the kernel zero page-cache memory
/// (a seventh of all CPU). So once the WAL holds `WAL_RESTART_PAGES`, it asks the writer to
/// finish a checkpoint between two batches (`restart_due`), after their answers have gone out.
/// Once intake pauses, it truncates the WAL file ([`WAL_TRUNCATE_IDLE_MS`]).
fn checkpoint_loop(
    conn: Connection,
    stop: Arc<std::sync::atomic::AtomicBool>,
    restart_due: Arc<std::sync::atomic::AtomicBool>,
    truncate_idle_ms: Arc<std::sync::atomic::AtomicU64>,
) {
    let mut idle_passes: u64 = 0;
    let mut wal_pages_before = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(CHECKPOINT_INTERVAL_MS));
        let Some(pass) = passive_checkpoint(&conn) else {
            continue;
        };
        if pass.wal_pages >= i64::from(WAL_RESTART_PAGES) {
            // What this pass left is what was committed while it ran; a second pass at once
            // copies that in a fraction of the time, so the writer's own checkpoint, which
            // every request in flight waits for, has only the last few milliseconds to copy.
            passive_checkpoint(&conn);
            restart_due.store(true, std::sync::atomic::Ordering::Release);
        }
        // Idle: a WAL with frames, all copied, and no commit since the last pass.
        let idle = pass.is_complete() && pass.wal_pages > 0 && pass.wal_pages == wal_pages_before;
        idle_passes = if idle { idle_passes + 1 } else { 0 };
        wal_pages_before = pass.wal_pages;
        let idle_passes_max =
            truncate_idle_ms.load(std::sync::atomic::Ordering::Relaxed) / CHECKPOINT_INTERVAL_MS;
        if idle_passes >= idle_passes_max.max(1) {
            idle_passes = 0;
            truncate_idle_wal(&conn);
        }
    }
}

/// One checkpointer pass; `None` (logged) when it failed, to be retried on the next pass.
fn passive_checkpoint(conn: &Connection) -> Option<CheckpointPass> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], wal_checkpoint_row)
        .inspect_err(|e| tracing::warn!(error = %e, "wal checkpoint failed; will retry"))
        .ok()
}

/// One `PRAGMA wal_checkpoint` answer.
#[derive(Debug, Clone, Copy)]
struct CheckpointPass {
    /// The checkpoint could not start: another one was running (or, in the modes that need
    /// them, the writer or a reader held their locks).
    busy: bool,
    /// Frames in the WAL (-1 when busy).
    wal_pages: i64,
    /// Frames copied into the database file so far, by this pass or earlier ones.
    copied_pages: i64,
}

impl CheckpointPass {
    /// Every frame of the WAL is in the database file: the next write may start it over.
    fn is_complete(&self) -> bool {
        !self.busy && self.copied_pages == self.wal_pages
    }
}

fn wal_checkpoint_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CheckpointPass> {
    Ok(CheckpointPass {
        busy: row.get::<_, i64>(0)? != 0,
        wal_pages: row.get(1)?,
        copied_pages: row.get(2)?,
    })
}

/// Truncates the WAL file to nothing. A TRUNCATE checkpoint takes the writer's lock and waits
/// for every reader; here it does not wait at all (no busy timeout), so a request arriving
/// meanwhile waits at most for a truncation of an already copied WAL, and a reader mid-query
/// makes it give up until the next idle pass.
fn truncate_idle_wal(conn: &Connection) {
    let wait = std::time::Duration::from_millis(BUSY_TIMEOUT_MS);
    if let Err(e) = conn.busy_timeout(std::time::Duration::ZERO) {
        tracing::warn!(error = %e, "cannot set the checkpointer's busy timeout");
        return;
    }
    match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], wal_checkpoint_row) {
        Ok(pass) if !pass.busy => tracing::debug!("intake paused: the WAL file was truncated"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "the idle WAL's truncation failed; will retry"),
    }
    if let Err(e) = conn.busy_timeout(wait) {
        tracing::warn!(error = %e, "cannot restore the checkpointer's busy timeout");
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.stop_background
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Brings the schema up to date, one transaction per migration, with foreign keys off while
/// they run: SQLite's way to rebuild a table that other tables refer to (drop the old, rename
/// the new) needs them off, and the pragma is ignored inside a transaction, so this runs
/// outside any ([`WriterHandle::run_alone`]). Each migration's transaction checks that no
/// foreign key is broken before it commits.
fn migrate_conn(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA foreign_keys = OFF")
        .map_err(backend)?;
    let migrated = apply_migrations(conn);
    let restored = conn
        .execute_batch("PRAGMA foreign_keys = ON")
        .map_err(backend);
    migrated.and(restored)
}

fn apply_migrations(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let number = index + 1;
        let failed = |e| StoreError::Backend(format!("migration {number}: {e}"));
        // Rolled back when dropped uncommitted, on any error below.
        let migration = begin_immediate(conn)?;
        migration.execute_batch(sql).map_err(failed)?;
        migration
            .execute_batch(&format!("PRAGMA user_version = {number}"))
            .map_err(failed)?;
        let broken: Option<(String, Option<i64>, String)> = migration
            .query_row("PRAGMA foreign_key_check", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(failed)?;
        if let Some((table, rowid, parent)) = broken {
            return Err(StoreError::Corrupt(format!(
                "migration {number}: row {} of {table} refers to a missing row of {parent}",
                rowid.unwrap_or_default()
            )));
        }
        migration.commit().map_err(failed)?;
    }
    let backfill = begin_immediate(conn)?;
    name_keys::backfill_if_due(&backfill)?;
    backfill.commit().map_err(backend)
}

fn begin_immediate(conn: &Connection) -> Result<rusqlite::Transaction<'_>, StoreError> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
        .map_err(backend)
}

#[async_trait]
impl Store for SqliteStore {
    fn intake_load(&self) -> &IntakeLoad {
        &self.intake_load
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.writer.run_alone(|c| migrate_conn(c)).await?;
        let mut started = Ok(());
        self.keyer_started
            .call_once(|| started = self.start_keyer());
        started
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(backend))
            .await
    }

    async fn insert_request(&self, insert: &RequestInsert) -> Result<InsertOutcome, StoreError> {
        let row = rows::RequestRow::new(insert)?;
        self.write(move |c| rows::insert_request(c, &row)).await
    }

    async fn request(&self, id: RequestId) -> Result<Option<StoredRequest>, StoreError> {
        self.read(move |c| rows::request_where(c, "id", &id.to_string()))
            .await
    }

    async fn request_by_reference(
        &self,
        reference: &ReferenceCode,
    ) -> Result<Option<StoredRequest>, StoreError> {
        let compact = reference.compact().to_string();
        self.read(move |c| rows::request_where(c, "reference", &compact))
            .await
    }

    async fn list_requests(
        &self,
        filter: &RequestFilter,
        page: PageRequest,
    ) -> Result<Page, StoreError> {
        let filter = filter.clone();
        self.read(move |c| rows::list_requests(c, &filter, page))
            .await
    }

    async fn count_requests(&self, filter: &RequestFilter, cap: u64) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.read(move |c| rows::count_requests(c, &filter, cap))
            .await
    }

    async fn intake_counts(&self) -> Result<IntakeCounts, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM persons)",
                [],
                |r| {
                    Ok(IntakeCounts {
                        requests: r.get::<_, i64>(0)? as u64,
                        persons: r.get::<_, i64>(1)? as u64,
                    })
                },
            )
            .map_err(backend)
        })
        .await
    }

    async fn unkeyed_requests(&self) -> Result<u64, StoreError> {
        self.read(name_keys::unkeyed_count).await
    }

    async fn insert_user(&self, user: &User, audit: AuditEvent) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        let user = user.clone();
        self.write(move |c| {
            rows::insert_user(c, &user)?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_string();
        self.read(move |c| rows::user_where(c, "u.name = ?1", &name))
            .await
    }

    async fn insert_token(&self, token: &ApiToken, audit: AuditEvent) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        let token = token.clone();
        self.write(move |c| {
            rows::insert_token(c, &token)?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn user_by_token(
        &self,
        token_sha256: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let digest = *token_sha256;
        self.read(move |c| rows::user_by_token(c, &digest, now))
            .await
    }

    async fn update_user(
        &self,
        name: &str,
        change: UserChange,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        let name = name.to_string();
        self.write(move |c| {
            let id: Option<String> = c
                .prepare_cached("SELECT id FROM users WHERE name = ?1")
                .and_then(|mut s| s.query_row([&name], |r| r.get(0)).optional())
                .map_err(backend)?;
            let Some(id) = id else {
                return Err(StoreError::Missing(format!("the account {name}")));
            };
            let (sql, value): (&str, rusqlite::types::Value) = match &change {
                UserChange::Disable => ("UPDATE users SET disabled = 1 WHERE id = ?1", 0.into()),
                UserChange::Enable => ("UPDATE users SET disabled = 0 WHERE id = ?1", 0.into()),
                UserChange::Password(hash) => (
                    "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                    hash.clone().into(),
                ),
            };
            let mut s = c.prepare_cached(sql).map_err(backend)?;
            if matches!(change, UserChange::Password(_)) {
                s.execute(rusqlite::params![id, value]).map_err(backend)?;
            } else {
                s.execute([&id]).map_err(backend)?;
            }
            if change.ends_sessions() {
                c.prepare_cached("DELETE FROM api_tokens WHERE user_id = ?1")
                    .and_then(|mut s| s.execute([&id]))
                    .map_err(backend)?;
            }
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn append_audit(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        self.write(move |c| {
            events
                .iter()
                .try_for_each(|e| rows::insert_audit(c, &rows::AuditRow::from(e)))
        })
        .await
    }

    async fn audit_trail(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.read(move |c| rows::audit_trail(c, after_seq, limit.min(PAGE_ITEMS_MAX)))
            .await
    }

    async fn seal_audit(&self, limit: u32) -> Result<u32, StoreError> {
        self.write(move |c| audit::seal_audit(c, limit)).await
    }

    async fn audit_chain_head(&self) -> Result<Option<audit_chain::ChainLink>, StoreError> {
        self.read(audit::head).await
    }

    async fn audit_chain(
        &self,
        after_pos: i64,
        limit: u32,
    ) -> Result<Vec<audit_chain::ChainRow>, StoreError> {
        self.read(move |c| audit::audit_chain(c, after_pos, limit.min(PAGE_ITEMS_MAX)))
            .await
    }

    async fn audit_unsealed(
        &self,
        up_to_seq: i64,
        limit: u32,
    ) -> Result<(Vec<i64>, u64), StoreError> {
        self.read(move |c| audit::audit_unsealed(c, up_to_seq, limit.min(PAGE_ITEMS_MAX)))
            .await
    }

    async fn upsert_hub(&self, hub: &Hub) -> Result<(), StoreError> {
        let hub = hub.clone();
        self.write(move |c| situation::upsert_hub(c, &hub)).await
    }

    async fn hubs(&self) -> Result<Vec<Hub>, StoreError> {
        self.read(situation::hubs).await
    }

    async fn upsert_feature(&self, feature: &Feature, audit: AuditEvent) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        let feature = feature.clone();
        self.write(move |c| {
            situation::upsert_feature(c, &feature)?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn features(&self) -> Result<Vec<Feature>, StoreError> {
        self.read(situation::features).await
    }

    async fn insert_report(
        &self,
        report: &Report,
        statements: &[Statement],
        audit: AuditEvent,
    ) -> Result<(ReportId, bool), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        let report = report.clone();
        let statements = statements.to_vec();
        self.write(move |c| {
            let stored = situation::insert_report(c, &report, &statements)?;
            if stored.1 {
                rows::insert_audit(c, &audit_row)?;
            }
            Ok(stored)
        })
        .await
    }

    async fn report(&self, id: ReportId) -> Result<Option<Report>, StoreError> {
        self.read(move |c| situation::report(c, id)).await
    }

    async fn reports(&self, limit: u32) -> Result<Vec<Report>, StoreError> {
        self.read(move |c| situation::reports(c, limit.min(PAGE_ITEMS_MAX)))
            .await
    }

    async fn update_report(
        &self,
        id: ReportId,
        grade: Option<Grade>,
        state: ReportState,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        self.write(move |c| {
            let found = situation::update_report(c, id, grade, state)?;
            if found {
                rows::insert_audit(c, &audit_row)?;
            }
            Ok(found)
        })
        .await
    }

    async fn add_statements(
        &self,
        report: ReportId,
        statements: &[Statement],
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        let statements = statements.to_vec();
        self.write(move |c| {
            if !situation::report_exists(c, report)? {
                return Ok(false);
            }
            situation::insert_statements(c, report, &statements)?;
            rows::insert_audit(c, &audit_row)?;
            Ok(true)
        })
        .await
    }

    async fn claims(&self) -> Result<Vec<Claim>, StoreError> {
        self.read(situation::claims).await
    }

    async fn upsert_transport(
        &self,
        transport: &Transport,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        let (id, departs_at, body) = (
            transport.id.to_string(),
            transport.departs_at.unix_micros(),
            transport_body(transport)?,
        );
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO transports (id, departs_at, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET departs_at = excluded.departs_at, body = excluded.body",
            )
            .and_then(|mut s| s.execute(rusqlite::params![id, departs_at, body]))
            .map_err(backend)?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn transports(&self) -> Result<Vec<Transport>, StoreError> {
        self.read(|c| {
            let mut s = c
                .prepare_cached("SELECT id, body FROM transports ORDER BY departs_at, id")
                .map_err(backend)?;
            let rows = s
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(backend)?;
            rows.map(|row| {
                let (id, body) = row.map_err(backend)?;
                transport_from_body(&id, &body)
            })
            .collect()
        })
        .await
    }

    async fn insert_policy(
        &self,
        toml: &str,
        at: Timestamp,
        author: &Actor,
        audit: AuditEvent,
    ) -> Result<i64, StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        let (toml, author) = (toml.to_string(), author.label());
        self.write(move |c| {
            let version = situation::insert_policy(c, &toml, at, &author)?;
            rows::insert_audit(c, &audit_row)?;
            Ok(version)
        })
        .await
    }

    async fn policy(&self, version: Option<i64>) -> Result<Option<StoredPolicy>, StoreError> {
        self.read(move |c| Ok(situation::policies(c, version, true)?.pop()))
            .await
    }

    async fn policy_versions(&self) -> Result<Vec<StoredPolicy>, StoreError> {
        self.read(|c| situation::policies(c, None, false)).await
    }

    async fn request_id_of_person(
        &self,
        person: PersonId,
    ) -> Result<Option<RequestId>, StoreError> {
        let person = person.to_string();
        self.read(move |c| {
            let id: Option<String> = c
                .prepare_cached("SELECT request_id FROM persons WHERE id = ?1")
                .and_then(|mut s| s.query_row([&person], |r| r.get(0)).optional())
                .map_err(backend)?;
            id.map(|id| parse_id("persons.request_id", &id)).transpose()
        })
        .await
    }

    async fn append_link_events(
        &self,
        events: Vec<LinkEvent>,
        audit: Vec<AuditEvent>,
        when: AppendIf,
    ) -> Result<usize, StoreError> {
        let audit_rows: Vec<rows::AuditRow> = audit.iter().map(rows::AuditRow::from).collect();
        self.write(move |c| {
            links::check_head(c, when)?;
            let mut appended = 0;
            for e in &events {
                appended += links::insert_link_event(c, e)?;
            }
            audit_rows
                .iter()
                .try_for_each(|a| rows::insert_audit(c, a))?;
            Ok(appended)
        })
        .await
    }

    async fn link_events(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredLinkEvent>, StoreError> {
        self.read(move |c| links::link_events(c, after_seq, limit.min(PAGE_ITEMS_MAX)))
            .await
    }

    async fn link_events_of(
        &self,
        persons: &[PersonId],
    ) -> Result<Vec<StoredLinkEvent>, StoreError> {
        let persons: Vec<String> = persons.iter().map(ToString::to_string).collect();
        self.read(move |c| links::link_events_of(c, &persons)).await
    }

    async fn links_due(&self, limit: u32) -> Result<Vec<RequestId>, StoreError> {
        self.read(move |c| rows::requests_due(c, rows::DueQueue::Links, limit))
            .await
    }

    async fn links_due_count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM links_due", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }

    async fn settle_links(
        &self,
        events: Vec<LinkEvent>,
        keyed: Vec<KeyedPerson>,
        requests: Vec<RequestId>,
        fence: LeaseFence,
        read_at: i64,
    ) -> Result<usize, StoreError> {
        self.write(move |c| {
            // The one writer serialises this with every lease change and every forgetting.
            links::check_fence(c, &fence)?;
            let forgotten = links::forgotten_since(c, read_at)?;
            // A job may run again (its batch rolled back): the offer is left as it came.
            let (mut events, mut keyed, mut requests) =
                (events.clone(), keyed.clone(), requests.clone());
            let their_people = links::people_of_requests(c, &forgotten)?;
            leave_out_forgotten(
                &forgotten,
                &their_people,
                &mut events,
                &mut keyed,
                &mut requests,
            );
            let mut appended = 0;
            for e in &events {
                appended += links::insert_link_event(c, e)?;
            }
            links::key_persons(c, &keyed, &forgotten)?;
            rows::clear_due(c, rows::DueQueue::Links, &requests)?;
            Ok(appended)
        })
        .await
    }

    async fn key_persons(
        &self,
        keyed: Vec<KeyedPerson>,
        read_at: i64,
    ) -> Result<usize, StoreError> {
        self.write(move |c| {
            let forgotten = links::forgotten_since(c, read_at)?;
            links::key_persons(c, &keyed, &forgotten)
        })
        .await
    }

    async fn keep_link_people(
        &self,
        keyed: Vec<KeyedPerson>,
        read_at: i64,
    ) -> Result<Vec<Option<i64>>, StoreError> {
        self.write(move |c| {
            let forgotten = links::forgotten_since(c, read_at)?;
            links::keep_link_people(c, &keyed, &forgotten)
        })
        .await
    }

    async fn index_link_keys(&self, rows: Vec<(u64, i64)>) -> Result<(), StoreError> {
        self.write(move |c| links::index_link_keys(c, &rows)).await
    }

    async fn append_relinked_pairs(
        &self,
        events: Vec<LinkEvent>,
        read_at: i64,
    ) -> Result<usize, StoreError> {
        self.write(move |c| {
            // The one writer serialises this with every forgetting.
            let forgotten = links::forgotten_since(c, read_at)?;
            let mut events = events.clone();
            leave_out_events_about(&links::people_of_requests(c, &forgotten)?, &mut events);
            let mut appended = 0;
            for e in &events {
                appended += links::insert_link_event(c, e)?;
            }
            Ok(appended)
        })
        .await
    }

    async fn keyed_persons(&self, persons: &[PersonId]) -> Result<Vec<PersonId>, StoreError> {
        let persons: Vec<String> = persons.iter().map(ToString::to_string).collect();
        self.read(move |c| links::keyed_persons(c, &persons)).await
    }

    async fn keyed_person_count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM link_people", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }

    async fn requests_with_unkeyed_persons(
        &self,
        requests: &[RequestId],
    ) -> Result<Vec<RequestId>, StoreError> {
        let requests: Vec<String> = requests.iter().map(ToString::to_string).collect();
        self.read(move |c| links::requests_with_unkeyed_persons(c, &requests))
            .await
    }

    async fn link_postings(
        &self,
        keys: &[u64],
        per_key_max: u32,
    ) -> Result<Vec<Posting>, StoreError> {
        let keys = keys.to_vec();
        self.read(move |c| links::link_postings(c, &keys, per_key_max))
            .await
    }

    async fn link_model(&self) -> Result<Option<StoredLinkModel>, StoreError> {
        self.read(links::link_model).await
    }

    async fn save_link_model(&self, model: StoredLinkModel) -> Result<(), StoreError> {
        self.write(move |c| links::save_link_model(c, &model)).await
    }

    async fn forget_link_keys(&self) -> Result<(), StoreError> {
        self.write(|c| {
            c.execute_batch(
                "DELETE FROM link_keys; DELETE FROM link_people; DELETE FROM link_model;",
            )
            .map_err(backend)
        })
        .await
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO leases (name, holder, until_us) VALUES (?1, ?2, ?4)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_us = excluded.until_us
                 WHERE leases.holder = excluded.holder OR leases.until_us < ?3",
            )
            .and_then(|mut s| {
                s.execute(rusqlite::params![&name, &holder, now.unix_micros(), until.unix_micros()])
            })
            .map(|changed| changed == 1)
            .map_err(backend)
        })
        .await
    }

    async fn lease(&self, name: &str) -> Result<Option<(String, Timestamp)>, StoreError> {
        let name = name.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT holder, until_us FROM leases WHERE name = ?1",
                [&name],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
            )
            .optional()
            .map(|held| held.map(|(holder, until)| (holder, Timestamp::from_unix_micros(until))))
            .map_err(backend)
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.write(move |c| {
            c.prepare_cached("DELETE FROM leases WHERE name = ?1 AND holder = ?2")
                .and_then(|mut s| s.execute([&name, &holder]))
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn generation(&self, name: &str) -> Result<i64, StoreError> {
        let name = name.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT COALESCE((SELECT value FROM generations WHERE name = ?1), 0)",
                [&name],
                |row| row.get::<_, i64>(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn bump_generation(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO generations (name, value) VALUES (?1, 1)
                 ON CONFLICT (name) DO UPDATE SET value = generations.value + 1",
            )
            .and_then(|mut s| s.execute([&name]))
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn append_seat_events_telling(
        &self,
        events: Vec<SeatEvent>,
        status_changes: Vec<PersonChange>,
        audit: Vec<AuditEvent>,
        when: AppendIf,
        notices: Vec<NewMessage>,
    ) -> Result<(), StoreError> {
        let audit_rows: Vec<rows::AuditRow> = audit.iter().map(rows::AuditRow::from).collect();
        self.write(move |c| {
            seats::check_head(c, when, &events)?;
            events
                .iter()
                .try_for_each(|e| seats::insert_seat_event(c, e))?;
            status_changes
                .iter()
                .try_for_each(|change| persons::change_person(c, change))?;
            for notice in &notices {
                outbox::enqueue(c, notice)?;
            }
            audit_rows.iter().try_for_each(|a| rows::insert_audit(c, a))
        })
        .await
    }

    async fn seat_events(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredSeatEvent>, StoreError> {
        self.read(move |c| seats::seat_events(c, after_seq, limit.min(LOG_PAGE_ITEMS_MAX)))
            .await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(rows::users).await
    }

    async fn dashboard_counts(&self) -> Result<DashboardCounts, StoreError> {
        self.read(|c| {
            let by_status = c
                .prepare_cached("SELECT status, n FROM status_counts WHERE n > 0")
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(backend)?;
            let by_place = c
                .prepare_cached(&format!(
                    "SELECT place_id, n FROM place_counts WHERE n > 0 ORDER BY n DESC, place_id LIMIT {}",
                    evac_store::DASHBOARD_PLACES_MAX
                ))
                .and_then(|mut s| {
                    s.query_map([], |r| {
                        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
                    })?
                    .collect::<Result<Vec<_>, _>>()
                })
                .map_err(backend)?;
            let mut by_hour = c
                .prepare_cached(&format!(
                    "SELECT hour, n FROM hour_counts ORDER BY hour DESC LIMIT {DASHBOARD_HOURS_MAX}"
                ))
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64)))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(backend)?;
            by_hour.reverse();
            Ok(DashboardCounts {
                by_hour,
                by_status: by_status
                    .into_iter()
                    .map(|(s, n)| Ok((status_from_text(&s)?, n as u64)))
                    .collect::<Result<_, StoreError>>()?,
                by_place,
            })
        })
        .await
    }

    async fn requests_without_place(
        &self,
        limit: u32,
    ) -> Result<Vec<(RequestId, evac_model::Location)>, StoreError> {
        self.read(move |c| {
            let rows = c
                .prepare_cached(
                    "SELECT id, body FROM requests WHERE place_id IS NULL ORDER BY id LIMIT ?1",
                )
                .and_then(|mut s| {
                    s.query_map([limit], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()
                })
                .map_err(backend)?;
            rows.into_iter()
                .map(|(id, body)| {
                    let id = id
                        .parse()
                        .map_err(|e| StoreError::Backend(format!("{e}")))?;
                    let body: evac_model::NewRequest = serde_json::from_str(&body)
                        .map_err(|e| StoreError::Backend(e.to_string()))?;
                    Ok((id, body.location))
                })
                .collect()
        })
        .await
    }

    async fn set_request_places(&self, places: &[(RequestId, u64)]) -> Result<(), StoreError> {
        let places: Vec<(String, i64)> = places
            .iter()
            .map(|(id, place)| (id.to_string(), *place as i64))
            .collect();
        self.write(move |c| {
            let mut update = c
                .prepare_cached(
                    "UPDATE requests SET place_id = ?2 WHERE id = ?1 AND place_id IS NULL",
                )
                .map_err(backend)?;
            for (id, place) in &places {
                update
                    .execute(rusqlite::params![id, place])
                    .map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    async fn tokens_of(
        &self,
        user: evac_model::UserId,
        now: Timestamp,
    ) -> Result<Vec<ApiToken>, StoreError> {
        self.read(move |c| {
            let mut s = c
                .prepare_cached("SELECT token_sha256, user_id, label, created_at, expires_at FROM api_tokens WHERE user_id = ?1 AND (expires_at IS NULL OR expires_at > ?2) ORDER BY created_at DESC")
                .map_err(backend)?;
            let rows = s
                .query_map(rusqlite::params![user.to_string(), now.unix_micros()], |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ))
                })
                .map_err(backend)?;
            rows.map(|row| {
                let (digest, user, label, created, expires) = row.map_err(backend)?;
                token_from_columns(digest, &user, label, created, expires)
            })
            .collect()
        })
        .await
    }

    async fn delete_token(
        &self,
        token_sha256: &[u8; 32],
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        let digest = token_sha256.to_vec();
        self.write(move |c| {
            c.prepare_cached("DELETE FROM api_tokens WHERE token_sha256 = ?1")
                .and_then(|mut s| s.execute([&digest]))
                .map_err(backend)?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn seat_events_of(&self, person: PersonId) -> Result<Vec<StoredSeatEvent>, StoreError> {
        let person = person.to_string();
        self.read(move |c| seats::seat_events_of(c, &person)).await
    }

    async fn change_persons(
        &self,
        changes: Vec<PersonChange>,
        audit: Vec<AuditEvent>,
    ) -> Result<(), StoreError> {
        let audit_rows: Vec<rows::AuditRow> = audit.iter().map(rows::AuditRow::from).collect();
        self.write(move |c| {
            changes
                .iter()
                .try_for_each(|change| persons::change_person(c, change))?;
            audit_rows.iter().try_for_each(|a| rows::insert_audit(c, a))
        })
        .await
    }

    async fn correct_request(
        &self,
        id: RequestId,
        seen: &evac_model::NewRequest,
        body: &evac_model::NewRequest,
        has_minors: bool,
        notes: Vec<PersonChange>,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        evac_store::keeps_every_person(seen, body)?;
        let people = rows::person_columns(body);
        let name_keys = request_search_keys(body);
        let corrections = self.corrections.clone();
        let seen = seen.clone();
        let (id, location_latin, country, place_id, party_size) = (
            id.to_string(),
            evac_model::to_icao_latin(&body.location.text),
            body.location.country.map(|c| c.to_string()),
            body.location.place_id.map(|p| p as i64),
            body.party.len() as i64,
        );
        let (citizenships, needs) = evac_store::party_tags(body);
        let body = serde_json::to_string(body).map_err(|e| StoreError::Backend(e.to_string()))?;
        let audit_row = rows::AuditRow::from(&audit);
        let registered_at = audit.at.unix_micros();
        self.write(move |c| {
            // The body the correction was decided on must still be the stored one: the writer
            // runs one job at a time, so nothing can change it between this read and the update.
            let stored: Option<String> = c
                .prepare_cached("SELECT body FROM requests WHERE id = ?1")
                .and_then(|mut s| s.query_row([&id], |r| r.get(0)).optional())
                .map_err(backend)?;
            let stored = stored.ok_or_else(|| StoreError::Missing(format!("request {id}")))?;
            let stored: evac_model::NewRequest =
                serde_json::from_str(&stored).map_err(|e| StoreError::Backend(e.to_string()))?;
            if stored != seen {
                return Err(evac_store::changed_meanwhile(&id));
            }
            c.prepare_cached(
                // A body without its place (one stored before places were kept, read later by
                // catch_up_places) keeps the place read, unless its location changed.
                "UPDATE requests SET body = ?1, location_latin = ?2, country = ?3,
                 place_id = COALESCE(?4, CASE WHEN location_latin = ?2 AND country IS ?3 THEN place_id END),
                 has_minors = ?5, party_size = ?6, citizenships = ?7, needs = ?8 WHERE id = ?9",
            )
            .and_then(|mut s| {
                s.execute(rusqlite::params![
                    body,
                    location_latin,
                    country,
                    place_id,
                    has_minors,
                    party_size,
                    citizenships,
                    needs,
                    id
                ])
            })
            .map_err(backend)?;
            // Bumped now, for a keyer job later in this batch, and again after the commit, for
            // a keyer that reads the counter meanwhile but the bodies from before the commit.
            corrections.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            c.note_correction();
            let added = rows::rewrite_people(c, &id, &people, &name_keys, registered_at)?;
            c.count_registered(added);
            // Its people are matched and keyed again as they read now (a new name or date
            // keys them anew; the people added are matched as a new request's are).
            links::forget_request_keys(c, &id)?;
            notes
                .iter()
                .try_for_each(|note| persons::change_person(c, note))?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn person_events_of_request(
        &self,
        request: RequestId,
    ) -> Result<Vec<StoredPersonEvent>, StoreError> {
        let request = request.to_string();
        self.read(move |c| persons::person_events_of_request(c, &request))
            .await
    }

    async fn release_claims(
        &self,
        channel: &str,
        node: &str,
        due_at: Timestamp,
    ) -> Result<usize, StoreError> {
        let (channel, node) = (channel.to_string(), node.to_string());
        self.write(move |c| {
            c.prepare_cached(
                "UPDATE outbox SET claimed_until = ?3, next_at = 0 WHERE state = 'sending' AND claimed_by = ?1 AND channel = ?2",
            )
            .and_then(|mut s| s.execute(rusqlite::params![&node, &channel, due_at.unix_micros()]))
            .map_err(backend)
        })
        .await
    }

    async fn acks_due(&self, limit: u32) -> Result<Vec<RequestId>, StoreError> {
        self.read(move |c| rows::requests_due(c, rows::DueQueue::Acks, limit))
            .await
    }

    async fn settle_acks(
        &self,
        messages: Vec<NewMessage>,
        requests: Vec<RequestId>,
    ) -> Result<usize, StoreError> {
        self.write(move |c| {
            let mut queued = 0;
            for m in &messages {
                queued += outbox::enqueue(c, m)?;
            }
            rows::clear_due(c, rows::DueQueue::Acks, &requests)?;
            Ok(queued)
        })
        .await
    }

    async fn enqueue_messages(
        &self,
        messages: Vec<NewMessage>,
        audit: Vec<AuditEvent>,
    ) -> Result<usize, StoreError> {
        let audit_rows: Vec<rows::AuditRow> = audit.iter().map(rows::AuditRow::from).collect();
        self.write(move |c| {
            let mut queued = 0;
            for m in &messages {
                queued += outbox::enqueue(c, m)?;
            }
            audit_rows
                .iter()
                .try_for_each(|a| rows::insert_audit(c, a))?;
            Ok(queued)
        })
        .await
    }

    async fn claim_messages(
        &self,
        channel: &str,
        node: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let (channel, node) = (channel.to_string(), node.to_string());
        let (now, lease_until) = (now.unix_micros(), lease_until.unix_micros());
        let limit = limit.min(PAGE_ITEMS_MAX);
        self.write(move |c| outbox::claim(c, &channel, &node, now, lease_until, limit))
            .await
    }

    async fn finish_message(
        &self,
        id: MessageId,
        node: &str,
        at: Timestamp,
        outcome: SendOutcome,
    ) -> Result<bool, StoreError> {
        let node = node.to_string();
        self.write(move |c| outbox::finish(c, id, &node, at, &outcome))
            .await
    }

    async fn record_delivery(
        &self,
        id: MessageId,
        at: Timestamp,
        report: DeliveryReport,
        detail: &str,
    ) -> Result<bool, StoreError> {
        let detail = detail.to_string();
        self.write(move |c| outbox::delivery(c, id, at, report, &detail))
            .await
    }

    async fn messages(
        &self,
        filter: &MessageFilter,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let filter = filter.clone();
        let limit = limit.min(PAGE_ITEMS_MAX);
        self.read(move |c| outbox::messages(c, &filter, limit))
            .await
    }

    async fn message_counts(&self) -> Result<Vec<(MessageState, u64)>, StoreError> {
        self.read(outbox::counts).await
    }

    async fn store_inbound(
        &self,
        message: NewInbound,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        self.write(move |c| {
            let stored = outbox::store_inbound(c, &message)?;
            if stored {
                rows::insert_audit(c, &audit_row)?;
            }
            Ok(stored)
        })
        .await
    }

    async fn inbound(
        &self,
        states: &[&str],
        request: Option<RequestId>,
        limit: u32,
    ) -> Result<Vec<StoredInbound>, StoreError> {
        let states: Vec<String> = states.iter().map(|s| s.to_string()).collect();
        let request = request.map(|r| r.to_string());
        let limit = limit.min(PAGE_ITEMS_MAX);
        self.read(move |c| outbox::inbound(c, &states, request, limit))
            .await
    }

    async fn handle_inbound(
        &self,
        id: InboundId,
        request: Option<RequestId>,
        state: &str,
        by: &Actor,
        at: Timestamp,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let (request, state, by) = (
            request.map(|r| r.to_string()),
            state.to_string(),
            by.label(),
        );
        let audit_row = rows::AuditRow::from(&audit);
        self.write(move |c| {
            outbox::handle_inbound(c, id, request.clone(), &state, &by, at.unix_micros())?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn inbox_waiting(&self) -> Result<InboxWaiting, StoreError> {
        self.read(outbox::waiting).await
    }

    async fn link_chat(&self, chat: MessengerChat, audit: AuditEvent) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        self.write(move |c| {
            calls::link_chat(c, &chat)?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn chat_phone(&self, channel: &str, chat: &str) -> Result<Option<String>, StoreError> {
        let (channel, chat) = (channel.to_string(), chat.to_string());
        self.read(move |c| calls::chat_phone(c, &channel, &chat))
            .await
    }

    async fn chats_of_phones(
        &self,
        channel: &str,
        phones: &[String],
    ) -> Result<Vec<MessengerChat>, StoreError> {
        let (channel, phones) = (channel.to_string(), phones.to_vec());
        self.read(move |c| calls::chats_of_phones(c, &channel, &phones))
            .await
    }

    async fn log_call(
        &self,
        call: Call,
        callback: CallbackChange,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        self.write(move |c| {
            calls::log_call(c, &call, &callback)?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn calls_of_request(&self, request: RequestId) -> Result<Vec<Call>, StoreError> {
        self.read(move |c| calls::calls_of_request(c, request))
            .await
    }

    async fn record_presence(
        &self,
        presence: Presence,
        changes: Vec<PersonChange>,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        self.write(move |c| {
            seats::record_presence(c, &presence)?;
            for change in &changes {
                persons::change_person(c, change)?;
            }
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn presences_at(&self, hub: &str, since: Timestamp) -> Result<Vec<Presence>, StoreError> {
        let hub = hub.to_string();
        self.read(move |c| seats::presences_at(c, &hub, since))
            .await
    }

    async fn queue_callbacks(
        &self,
        callbacks: Vec<(RequestId, Timestamp, String)>,
    ) -> Result<usize, StoreError> {
        self.write(move |c| calls::queue_callbacks(c, &callbacks))
            .await
    }

    async fn settle_callbacks(&self, requests: Vec<RequestId>) -> Result<usize, StoreError> {
        self.write(move |c| {
            let mut s = c
                .prepare_cached("DELETE FROM callbacks WHERE request_id = ?1")
                .map_err(backend)?;
            let mut settled = 0;
            for r in &requests {
                settled += s.execute([r.to_string()]).map_err(backend)?;
            }
            Ok(settled)
        })
        .await
    }

    async fn callbacks(&self, limit: u32) -> Result<Vec<Callback>, StoreError> {
        let limit = limit.min(PAGE_ITEMS_MAX);
        self.read(move |c| calls::callbacks(c, limit)).await
    }

    async fn callback_of(&self, request: RequestId) -> Result<Option<Callback>, StoreError> {
        self.read(move |c| calls::callback_of(c, request)).await
    }

    async fn take_callback(
        &self,
        operator: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Callback>, StoreError> {
        let operator = operator.to_string();
        self.write(move |c| calls::take_callback(c, &operator, now, lease_until))
            .await
    }

    async fn assign_requests(
        &self,
        change: AssignmentChange,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let audit_row = rows::AuditRow::from(&audit);
        self.write(move |c| {
            assignments::assign_requests(c, &change)?;
            rows::insert_audit(c, &audit_row)
        })
        .await
    }

    async fn assignments_of(&self, requests: &[RequestId]) -> Result<Vec<Assignment>, StoreError> {
        let requests = requests.to_vec();
        self.read(move |c| assignments::assignments_of(c, &requests))
            .await
    }

    async fn assigned_to(&self, officer: &str, limit: u32) -> Result<Vec<RequestId>, StoreError> {
        let officer = officer.to_string();
        self.read(move |c| assignments::assigned_to(c, &officer, limit))
            .await
    }

    async fn legacy_signing_secret(&self, forget: bool) -> Result<Option<[u8; 32]>, StoreError> {
        self.write(move |c| seats::legacy_signing_secret(c, forget))
            .await
    }

    async fn pass_public_keys(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT public_key FROM pass_public_keys ORDER BY created_at, public_key",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(backend)
        })
        .await
    }

    async fn register_pass_key(
        &self,
        public_key: &str,
        at: Timestamp,
        only_if_none: bool,
    ) -> Result<bool, StoreError> {
        let public_key = public_key.to_string();
        self.write(move |c| {
            seats::register_pass_key(c, &public_key, at.unix_micros(), only_if_none)
        })
        .await
    }

    async fn erase_contacts(
        &self,
        request: RequestId,
        addresses: &[String],
    ) -> Result<u64, StoreError> {
        let addresses =
            serde_json::to_string(addresses).map_err(|e| StoreError::Backend(e.to_string()))?;
        let request = request.to_string();
        self.write(move |c| {
            let params = rusqlite::params![request, addresses, ERASED];
            let chats = "SELECT chat FROM messenger_chats WHERE phone IN (SELECT value FROM json_each(?2))";
            let statements = [
                format!(
                    "UPDATE outbox SET state = CASE WHEN state IN ('queued', 'sending') THEN 'given_up' ELSE state END,
                         last_error = CASE WHEN state IN ('queued', 'sending') THEN 'the recipient''s data was erased' ELSE last_error END,
                         recipient = ?3, body = ?3
                     WHERE request_id = ?1 AND (recipient IN (SELECT value FROM json_each(?2)) OR recipient IN ({chats}))"
                ),
                format!(
                    "UPDATE inbox SET sender = ?3, text = ?3
                     WHERE request_id = ?1 AND (sender IN (SELECT value FROM json_each(?2)) OR sender IN ({chats}))"
                ),
                "UPDATE calls SET phone = NULL, note = ?3
                 WHERE request_id = ?1 AND phone IN (SELECT value FROM json_each(?2))"
                    .to_string(),
            ];
            let mut erased = 0;
            for sql in &statements {
                erased += c.execute(sql, params).map_err(backend)? as u64;
            }
            // Last: the updates above find messenger messages through these chats.
            erased += c
                .execute(
                    "DELETE FROM messenger_chats WHERE phone IN (SELECT value FROM json_each(?1))",
                    [&addresses],
                )
                .map_err(backend)? as u64;
            links::forget_request_keys(c, &request)?;
            Ok(erased)
        })
        .await
    }

    async fn exercise(&self) -> Result<Option<(String, Timestamp)>, StoreError> {
        self.read(|c| {
            c.query_row("SELECT copied_from, made_at FROM exercise", [], |r| {
                Ok((r.get(0)?, Timestamp::from_unix_micros(r.get(1)?)))
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn record_login_failure(
        &self,
        keys: &[String],
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.write(move |c| {
            c.prepare_cached("DELETE FROM login_failures WHERE at < ?1")
                .and_then(|mut s| s.execute([forget_before.unix_micros()]))
                .map_err(backend)?;
            let mut insert = c
                .prepare_cached("INSERT INTO login_failures (key, at) VALUES (?1, ?2)")
                .map_err(backend)?;
            for key in &keys {
                insert
                    .execute(rusqlite::params![key, at.unix_micros()])
                    .map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    async fn login_failures(&self, key: &str, limit: u32) -> Result<Vec<Timestamp>, StoreError> {
        let key = key.to_string();
        self.read(move |c| {
            let mut s = c
                .prepare_cached(
                    "SELECT at FROM login_failures WHERE key = ?1 ORDER BY at DESC LIMIT ?2",
                )
                .map_err(backend)?;
            s.query_map(rusqlite::params![key, limit], |r| {
                Ok(Timestamp::from_unix_micros(r.get(0)?))
            })
            .map_err(backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)
        })
        .await
    }

    async fn forget_login_failures(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_string();
        self.write(move |c| {
            c.prepare_cached("DELETE FROM login_failures WHERE key = ?1")
                .and_then(|mut s| s.execute([&key]))
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn mark_exercise(&self, copied_from: &str, at: Timestamp) -> Result<(), StoreError> {
        let copied_from = copied_from.to_string();
        self.write(move |c| {
            c.execute(
                "INSERT INTO exercise (id, copied_from, made_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO NOTHING",
                rusqlite::params![copied_from, at.unix_micros()],
            )
            .and_then(|_| c.execute("DELETE FROM pass_public_keys", []))
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn unregister_pass_key(&self, public_key: &str) -> Result<(), StoreError> {
        let public_key = public_key.to_string();
        self.write(move |c| {
            c.execute(
                "DELETE FROM pass_public_keys WHERE public_key = ?1",
                [&public_key],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job that inserts `value` into `t`, then fails if asked to, counting its runs.
    fn job(
        value: i64,
        fail: bool,
        runs: Arc<std::sync::atomic::AtomicUsize>,
    ) -> (Job, oneshot::Receiver<Result<i64, StoreError>>) {
        pending_write(
            move |c: &WriteBatch| {
                runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                c.execute("INSERT INTO t (v) VALUES (?1)", [value])
                    .map_err(backend)?;
                c.count_request(Some(1_526_384), 0, 2);
                if fail {
                    return Err(StoreError::Missing(format!("value {value}")));
                }
                Ok(value)
            },
            false,
        )
    }

    /// The table the test jobs write, and the count tables every batch writes.
    const COUNTED_TABLES: &str = "CREATE TABLE t (v INTEGER NOT NULL);
        CREATE TABLE place_counts (place_id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
        CREATE TABLE status_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL);
        CREATE TABLE hour_counts (hour INTEGER PRIMARY KEY, n INTEGER NOT NULL);";

    /// Requests counted for the place, people counted as registered, requests in hour 0.
    fn counted(conn: &Connection) -> (i64, i64, i64) {
        conn.query_row(
            "SELECT (SELECT n FROM place_counts WHERE place_id = 1526384),
                    (SELECT n FROM status_counts WHERE status = 'registered'),
                    (SELECT n FROM hour_counts WHERE hour = 0)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    }

    fn stored(conn: &Connection) -> Vec<i64> {
        let mut s = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_failing_job_takes_only_its_own_changes_with_it() {
        let conn = WriteBatch::new(Connection::open_in_memory().unwrap());
        conn.execute_batch(COUNTED_TABLES).unwrap();
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (jobs, answers): (Vec<Job>, Vec<_>) = [(1, false), (2, true), (3, false)]
            .into_iter()
            .map(|(v, fail)| job(v, fail, runs.clone()))
            .unzip();
        let mut batch = jobs;
        let committed = run_batch(&conn, &mut batch);
        assert!(committed.is_ok(), "{committed:?}");
        for job in batch {
            job.answer(committed.as_ref().map(|_| ()));
        }
        let answers: Vec<_> = answers
            .into_iter()
            .map(|mut a| a.try_recv().expect("answered"))
            .collect();
        assert!(matches!(answers[0], Ok(1)));
        assert!(matches!(answers[1], Err(StoreError::Missing(_))));
        assert!(matches!(answers[2], Ok(3)));
        assert_eq!(stored(&conn), vec![1, 3]);
        assert_eq!(
            counted(&conn),
            (2, 4, 2),
            "the failed job's counts went with it"
        );
        // Side by side first, then once more each in a savepoint.
        assert_eq!(runs.load(std::sync::atomic::Ordering::Relaxed), 6);
    }

    #[test]
    fn a_batch_that_succeeds_runs_each_job_once() {
        let conn = WriteBatch::new(Connection::open_in_memory().unwrap());
        conn.execute_batch(COUNTED_TABLES).unwrap();
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut batch: Vec<Job> = (1..=4).map(|v| job(v, false, runs.clone()).0).collect();
        run_batch(&conn, &mut batch).unwrap();
        assert_eq!(stored(&conn), vec![1, 2, 3, 4]);
        assert_eq!(counted(&conn), (4, 8, 4), "counted once per job");
        assert_eq!(runs.load(std::sync::atomic::Ordering::Relaxed), 4);
    }

    /// The ids of a request's people, in order, as (id, ordinal).
    fn people_of(c: &Connection, request_id: &str) -> Vec<(String, i64)> {
        c.prepare("SELECT id, ordinal FROM persons WHERE request_id = ?1 ORDER BY ordinal")
            .unwrap()
            .query_map([request_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn audit_seqs(c: &Connection) -> Vec<i64> {
        c.prepare("SELECT seq FROM audit_events ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// A database at schema version 12 holding one request, its first person referred to by a
    /// status change, a seat and a link; and the request's id.
    fn database_at_version_12() -> (WriteBatch, String) {
        let c = WriteBatch::new(Connection::open_in_memory().unwrap());
        for sql in &MIGRATIONS[..12] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch("PRAGMA user_version = 12").unwrap();
        let insert = evac_store::conformance::sample_insert("Tokayeva", 7);
        rows::insert_request(
            &c,
            &rows::RequestRow::new(&insert).unwrap().without_link_due(),
        )
        .unwrap();
        let request_id = insert.request.id.to_string();
        let person = &people_of(&c, &request_id)[0].0;
        c.execute_batch(&format!(
            "INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
                 VALUES ('{person}', 1, 'desk', 'registered', 'verified', 'called back');
             INSERT INTO transports (id, departs_at, body) VALUES ('t1', 2, '{{}}');
             INSERT INTO seat_events (at, actor, kind, person_id, household, transport_id, class, pass, reason)
                 VALUES (3, 'planner', 'published', '{person}', 'h1', 't1', 1, 'p1', 'first');
             INSERT INTO link_events (at, actor, kind, person_a, person_b, match_probability, explanation)
                 VALUES (4, 'linker', 'merged', '{person}', '{person}', 0.99, '[]');
             INSERT INTO audit_events (at, actor, action, detail) VALUES (5, 'desk', 'noted', '{{}}');"
        ))
        .unwrap();
        (c, request_id)
    }

    #[test]
    fn migration_13_rebuilds_tables_that_others_refer_to_and_keeps_every_row() {
        let (c, request_id) = database_at_version_12();
        let people_before = people_of(&c, &request_id);
        let audit_before = audit_seqs(&c);
        assert!(!people_before.is_empty() && audit_before.len() >= 2);

        migrate_conn(&c).unwrap();

        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        let foreign_keys: i64 = c
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(foreign_keys, 1, "foreign keys are enforced again");
        assert_eq!(people_of(&c, &request_id), people_before);
        // The rows that refer to the rebuilt persons table still find their person.
        let referring: i64 = c
            .query_row(
                "SELECT (SELECT count(*) FROM person_events e JOIN persons p ON p.id = e.person_id)
                      + (SELECT count(*) FROM seat_events e JOIN persons p ON p.id = e.person_id)
                      + (SELECT count(*) FROM link_events e JOIN persons p ON p.id = e.person_a)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(referring, 3);
        // Audit events keep their numbers, and the next one follows the last.
        c.execute_batch("INSERT INTO audit_events (at, actor, action, detail) VALUES (6, 'desk', 'noted', '{}')")
            .unwrap();
        let audit_after = audit_seqs(&c);
        assert_eq!(audit_after[..audit_before.len()], audit_before[..]);
        assert_eq!(
            audit_after.last(),
            Some(&(audit_before.last().unwrap() + 1))
        );
        // Still enforced on the new tables: a person of a request that does not exist.
        let orphan = c.execute(
            "INSERT INTO persons (id, request_id, ordinal, status, status_at)
             VALUES ('x', 'no such request', 9, 'registered', 0)",
            [],
        );
        assert!(orphan.is_err(), "{orphan:?}");
    }

    #[test]
    fn a_migration_that_would_leave_a_broken_reference_is_rolled_back() {
        let (c, _) = database_at_version_12();
        c.execute_batch(
            "PRAGMA foreign_keys = OFF;
             INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
                 VALUES ('nobody', 5, 'desk', 'registered', 'verified', 'typo');",
        )
        .unwrap();

        let err = migrate_conn(&c).unwrap_err().to_string();

        assert!(
            err.contains("migration 13") && err.contains("person_events"),
            "{err}"
        );
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 12, "the failed migration left nothing behind");
        let old_index: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'persons_status'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old_index, 1);
        assert!(c.is_autocommit(), "no transaction left open");
    }

    /// Migration 25 tags every stored request with its people's citizenships and needs, so the
    /// list's new filters find requests stored before it.
    #[test]
    fn migration_25_tags_stored_requests_with_their_citizenships_and_needs() {
        let c = WriteBatch::new(Connection::open_in_memory().unwrap());
        for sql in &MIGRATIONS[..24] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch("PRAGMA user_version = 24").unwrap();
        let mut insert = evac_store::conformance::sample_insert("Tokayeva", 7);
        let party = &mut insert.request.body.party;
        party[0].citizenship = Some("KZ".parse().unwrap());
        party[0].needs = vec![evac_model::Need::Wheelchair, evac_model::Need::Medical];
        let mut second = party[0].clone();
        second.id = evac_model::PersonId::new_v7();
        second.citizenship = Some("RU".parse().unwrap());
        second.needs = vec![evac_model::Need::Medical];
        party.push(second);
        let bare = evac_store::conformance::sample_insert("Bekova", 8);
        for insert in [&insert, &bare] {
            rows::insert_request(
                &c,
                &rows::RequestRow::new(insert).unwrap().without_party_tags(),
            )
            .unwrap();
        }
        migrate_conn(&c).unwrap();
        let tags = |id: String| -> (String, String) {
            c.query_row(
                "SELECT citizenships, needs FROM requests WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        assert_eq!(
            tags(insert.request.id.to_string()),
            evac_store::party_tags(&insert.request.body),
            "the migration tags as intake does"
        );
        assert_eq!(
            tags(insert.request.id.to_string()),
            (",KZ,RU,".to_string(), ",medical,wheelchair,".to_string())
        );
        assert_eq!(
            tags(bare.request.id.to_string()),
            (String::new(), String::new())
        );
    }

    /// Migration 14 on a log written before it: the live seats are the log's fold, and the
    /// copies of a proposal two relinks logged together are gone, with the undo that referred
    /// to a copy now referring to the proposal kept.
    #[test]
    fn migration_14_folds_the_live_seats_and_removes_copied_link_proposals() {
        let c = WriteBatch::new(Connection::open_in_memory().unwrap());
        for sql in &MIGRATIONS[..13] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch("PRAGMA user_version = 13").unwrap();
        let mut people = Vec::new();
        for (surname, seed) in [("Tokayeva", 7), ("Bekova", 8)] {
            let insert = evac_store::conformance::sample_insert(surname, seed);
            rows::insert_request(
                &c,
                &rows::RequestRow::new(&insert).unwrap().without_link_due(),
            )
            .unwrap();
            people.push(people_of(&c, &insert.request.id.to_string())[0].0.clone());
        }
        let (p, q) = (&people[0], &people[1]);
        c.execute_batch(&format!(
            "INSERT INTO transports (id, departs_at, body) VALUES ('t1', 2, '{{\"seats\": 2}}');
             INSERT INTO seat_events (at, actor, kind, person_id, household, transport_id, class, pass, reason) VALUES
                 (1, 'planner', 'seated', '{p}', 'h1', 't1', 1, 'A', 'plan 1'),
                 (2, 'field', 'checked_in', '{p}', 'h1', 't1', 1, 'A', 'scan'),
                 (3, 'planner', 'seated', '{q}', 'h2', 't1', 1, 'B', 'plan 1'),
                 (4, 'planner', 'unseated', '{q}', 'h2', 't1', 1, 'B', 'moved'),
                 (5, 'planner', 'seated', '{q}', 'h2', 't1', 1, 'C', 'plan 2');
             INSERT INTO link_events (seq, at, actor, kind, person_a, person_b, match_probability, explanation, refers_to) VALUES
                 (1, 6, 'system', 'auto_merge', '{p}', '{q}', 0.99, '{{}}', NULL),
                 (2, 6, 'system', 'auto_merge', '{q}', '{p}', 0.99, '{{}}', NULL),
                 (3, 7, 'system', 'undo', '{q}', '{p}', 0.99, '{{}}', 2);"
        ))
        .unwrap();

        migrate_conn(&c).unwrap();

        let live: Vec<(String, String, String)> = c
            .prepare("SELECT person_id, pass, state FROM live_seats ORDER BY pass")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            live,
            [
                (p.clone(), "A".into(), "checked_in".into()),
                (q.clone(), "C".into(), "seated".into())
            ]
        );
        let links: Vec<(i64, String, Option<i64>)> = c
            .prepare("SELECT seq, kind, refers_to FROM link_events ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            links,
            [(1, "auto_merge".into(), None), (3, "undo".into(), Some(1))]
        );
        // From now on the store refuses what the fold would have hidden: a transport of two
        // seats holding two people takes no third, and p (holding a seat) no second one.
        let third = c.execute_batch(&format!(
            "INSERT INTO seat_events (at, actor, kind, person_id, household, transport_id, class, pass, reason)
                 VALUES (8, 'planner', 'seated', '{p}', 'h1', 't1', 1, 'D', 'again')"
        ));
        assert!(third.is_err());
    }
}
