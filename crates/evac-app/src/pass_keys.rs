//! Boarding-pass keys outside the database (issue 26, item 4). The secrets live in a key file
//! readable by evac's account only (0600), the same file on every node; the database keeps only
//! their public halves, so a node whose file lacks a key the others sign with refuses to start
//! signing instead of issuing passes no gate can read. An evac that kept its secret in the
//! database moves it into the key file on first start and deletes it there.
//!
//! The newest key signs; a key retired by `evac keys rotate` still verifies, so passes already
//! sent stay valid until their transport departs (`evac keys prune` then forgets it).
//!
//! Without a key file (tests, a library user) a key is made in memory for the process.

use crate::Refusal;
use std::path::Path;

use evac_model::{PassSigner, Permission, Timestamp};
use evac_store::AuditEvent;

use crate::{App, AppError, Staff};

/// One key of the ring.
pub struct PassKey {
    pub signer: PassSigner,
    /// When it was made (seconds since the epoch).
    pub created_s: i64,
    /// When a newer key replaced it as the signer (seconds since the epoch).
    pub retired_s: Option<i64>,
}

/// The keys in use, newest (the signer) first.
pub struct PassKeys {
    keys: Vec<PassKey>,
}

const KEY_FILE_HEADER: &str = "\
# evac boarding-pass keys: SECRET. Readable by evac's account only (0600); the same file on
# every node (copy it after `evac keys rotate`, then restart the nodes). Never in the database.
# One key a line: key <made, unix s> <retired, unix s or -> <secret, hex>. The first
# signs new passes; every key verifies.
";

impl PassKeys {
    /// The key that signs new passes.
    pub fn signer(&self) -> &PassSigner {
        &self.keys[0].signer
    }

    /// Every key that verifies, newest first, as `verify_pass` takes them (comma-separated).
    pub fn public_keys(&self) -> String {
        self.keys
            .iter()
            .map(|k| k.signer.public_key())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn keys(&self) -> &[PassKey] {
        &self.keys
    }

    fn fresh(now_s: i64) -> PassKey {
        PassKey {
            signer: PassSigner::generate(),
            created_s: now_s,
            retired_s: None,
        }
    }

    fn holds(&self, secret: &[u8; 32]) -> bool {
        self.keys.iter().any(|k| &k.signer.secret() == secret)
    }

    /// The ring in `path`; an empty one if there is no file yet.
    fn read(path: &Path) -> Result<Self, AppError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(key_file_error(path, &e.to_string())),
        };
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || {
                key_file_error(
                    path,
                    &format!("line {} is not 'key <made> <retired> <secret>'", n + 1),
                )
            };
            let fields: Vec<&str> = line.split_whitespace().collect();
            let ["key", created, retired, secret] = fields[..] else {
                return Err(bad());
            };
            let secret: [u8; 32] = hex::decode(secret)
                .ok()
                .and_then(|s| s.try_into().ok())
                .ok_or_else(bad)?;
            keys.push(PassKey {
                signer: PassSigner::from_secret(&secret),
                created_s: created.parse().map_err(|_| bad())?,
                retired_s: match retired {
                    "-" => None,
                    s => Some(s.parse().map_err(|_| bad())?),
                },
            });
        }
        Ok(PassKeys { keys })
    }

    /// Writes the ring to `path` whole (a new file renamed over the old), readable by its
    /// owner only.
    fn write(&self, path: &Path) -> Result<(), AppError> {
        let partial = self.write_partial(path)?;
        std::fs::rename(&partial, path).map_err(|e| key_file_error(path, &e.to_string()))
    }

    /// Writes the ring to `path` only if there is no file yet (a hard link cannot replace
    /// one); whether it did.
    fn create(&self, path: &Path) -> Result<bool, AppError> {
        let partial = self.write_partial(path)?;
        let linked = std::fs::hard_link(&partial, path);
        let _ = std::fs::remove_file(&partial);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(key_file_error(path, &e.to_string())),
        }
    }

    /// The ring in a new file beside `path`, synced; its path.
    fn write_partial(&self, path: &Path) -> Result<std::path::PathBuf, AppError> {
        let mut text = KEY_FILE_HEADER.to_string();
        for k in &self.keys {
            text.push_str(&format!(
                "key {} {} {}\n",
                k.created_s,
                k.retired_s.map_or("-".into(), |s| s.to_string()),
                hex::encode(k.signer.secret())
            ));
        }
        let fail = |e: std::io::Error| key_file_error(path, &e.to_string());
        // Unique per writer: two processes making a first key must not share a partial file.
        let partial = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4()));
        let mut file = evac_store::private_file(&partial, false).map_err(fail)?;
        use std::io::Write as _;
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        Ok(partial)
    }
}

fn seconds(t: Timestamp) -> i64 {
    t.unix_micros().div_euclid(1_000_000)
}

/// Narrows a key file others could read (copied in with a lax umask) to its owner.
fn keep_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

fn key_file_error(path: &Path, what: &str) -> AppError {
    AppError::Conflict(Refusal::other(format!(
        "the pass key file {}: {what}",
        path.display()
    )))
}

impl App {
    /// The pass keys, read (and on first start made or moved out of the database) once.
    pub(crate) async fn pass_keys(&self) -> Result<&PassKeys, AppError> {
        self.pass_keys
            .get_or_try_init(|| async {
                match self.settings.pass_key_file.clone() {
                    None => Ok(PassKeys {
                        keys: vec![PassKeys::fresh(seconds(Timestamp::now()))],
                    }),
                    Some(path) => self.open_pass_keys(&path).await,
                }
            })
            .await
    }

    /// The key that signs new passes.
    pub(crate) async fn signer(&self) -> Result<&PassSigner, AppError> {
        Ok(self.pass_keys().await?.signer())
    }

    async fn open_pass_keys(&self, path: &Path) -> Result<PassKeys, AppError> {
        let now_s = seconds(Timestamp::now());
        let mut ring = PassKeys::read(path)?;
        let mut changed = false;
        let legacy = self.store.legacy_signing_secret(false).await?;
        if let Some(secret) = legacy
            && !ring.holds(&secret)
        {
            // The database's key signed every pass issued so far: it stays the signer unless
            // the file already has one.
            let retired_s = (!ring.keys.is_empty()).then_some(now_s);
            ring.keys.push(PassKey {
                signer: PassSigner::from_secret(&secret),
                created_s: now_s,
                retired_s,
            });
            ring.keys.sort_by_key(|k| k.retired_s.is_some());
            changed = true;
        }
        if ring.keys.is_empty() {
            // First start: make a key, unless a node on this machine just did.
            let fresh = PassKeys {
                keys: vec![PassKeys::fresh(now_s)],
            };
            if fresh.create(path)? {
                let first = self
                    .store
                    .register_pass_key(&fresh.signer().public_key(), Timestamp::now(), true)
                    .await?;
                if !first {
                    let _ = std::fs::remove_file(path);
                    return Err(key_file_error(
                        path,
                        "missing, and another node already signs passes: copy its key file here (the secret is never in the database)",
                    ));
                }
                ring = fresh;
            } else {
                ring = PassKeys::read(path)?;
            }
        }
        if changed {
            ring.write(path)?;
            tracing::info!(file = %path.display(), "boarding-pass keys written to their key file");
        } else {
            keep_private(path).map_err(|e| key_file_error(path, &e.to_string()))?;
        }
        if legacy.is_some() {
            self.store.legacy_signing_secret(true).await?;
            tracing::info!("the boarding-pass secret was moved out of the database");
        }
        for k in &ring.keys {
            self.store
                .register_pass_key(
                    &k.signer.public_key(),
                    Timestamp::from_unix_micros(k.created_s * 1_000_000),
                    false,
                )
                .await?;
        }
        let ours = ring.public_keys();
        let missing = self
            .store
            .pass_public_keys()
            .await?
            .into_iter()
            .filter(|k| !ours.split(',').any(|o| o == k))
            .count();
        if missing > 0 {
            return Err(key_file_error(
                path,
                &format!(
                    "lacks {missing} pass key(s) that other nodes sign with: copy the key file from the node where `evac keys rotate` ran"
                ),
            ));
        }
        Ok(ring)
    }

    /// Makes a new signing key; the old one keeps verifying until pruned. Other nodes need the
    /// new file and a restart.
    pub async fn rotate_pass_keys(&self, staff: &Staff) -> Result<String, AppError> {
        staff.require(Permission::ManageUsers)?;
        let path = self.key_file()?;
        self.pass_keys().await?;
        let now_s = seconds(Timestamp::now());
        let mut ring = PassKeys::read(path)?;
        for k in &mut ring.keys {
            k.retired_s.get_or_insert(now_s);
        }
        let fresh = PassKeys::fresh(now_s);
        let public = fresh.signer.public_key();
        ring.keys.insert(0, fresh);
        ring.write(path)?;
        self.store
            .register_pass_key(&public, Timestamp::now(), false)
            .await?;
        self.audit_keys(staff, "pass_key.rotate", &public).await?;
        Ok(public)
    }

    /// Forgets retired keys whose passes can no longer be used: every transport that had
    /// seats published before the key was retired has departed. The public keys forgotten.
    pub async fn prune_pass_keys(
        &self,
        staff: &Staff,
        now: Timestamp,
    ) -> Result<Vec<String>, AppError> {
        staff.require(Permission::ManageUsers)?;
        let path = self.key_file()?;
        self.pass_keys().await?;
        let book = self.seat_book().await?;
        let transports = self.store.transports().await?;
        let still_to_depart = |seated_before_s: i64| {
            book.seats.values().any(|seat| {
                seconds(seat.seated_at) < seated_before_s
                    && transports
                        .iter()
                        .any(|t| t.id == seat.transport && t.departs_at > now)
            })
        };
        let mut ring = PassKeys::read(path)?;
        let mut pruned = Vec::new();
        ring.keys.retain(|k| match k.retired_s {
            Some(retired_s) if !still_to_depart(retired_s) => {
                pruned.push(k.signer.public_key());
                false
            }
            _ => true,
        });
        if pruned.is_empty() {
            return Ok(pruned);
        }
        ring.write(path)?;
        for public in &pruned {
            self.store.unregister_pass_key(public).await?;
            self.audit_keys(staff, "pass_key.prune", public).await?;
        }
        Ok(pruned)
    }

    /// The ring as the key file holds it now (for `evac keys list`).
    pub async fn pass_key_list(&self, staff: &Staff) -> Result<PassKeys, AppError> {
        staff.require(Permission::ManageUsers)?;
        self.pass_keys().await?;
        PassKeys::read(self.key_file()?)
    }

    fn key_file(&self) -> Result<&Path, AppError> {
        self.settings.pass_key_file.as_deref().ok_or_else(|| {
            AppError::Conflict(Refusal::other(
                "this evac keeps its pass keys in memory: there is no key file to change",
            ))
        })
    }

    async fn audit_keys(&self, staff: &Staff, action: &str, public: &str) -> Result<(), AppError> {
        self.store
            .append_audit(vec![AuditEvent {
                at: Timestamp::now(),
                actor: staff.actor(),
                action: action.into(),
                subject: Some(public.to_string()),
                detail: serde_json::json!({}),
            }])
            .await?;
        Ok(())
    }
}
