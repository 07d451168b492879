//! Staff accounts: argon2id passwords, and API bearer tokens of which only a SHA-256 digest is
//! stored (a token is a random 256-bit secret, so a fast digest is enough; a leaked database
//! does not reveal usable tokens).

use crate::{Refusal, RefusalKind};
use evac_model::{Actor, Role, Timestamp, UserId};
use evac_store::{ApiToken, AuditEvent, StoreError, User};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{App, AppError, Staff};

const TOKEN_PREFIX: &str = "evac_";

/// A token just created: the secret is shown once and never stored.
#[derive(Debug)]
pub struct NewToken {
    pub secret: String,
    pub user: String,
}

/// How long a desk session lasts, in seconds (a long shift).
pub const SESSION_S_MAX: i64 = 12 * 3_600;

/// Hashes a password with argon2id and a random salt (CPU-heavy: call off the async threads).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::BadInput(format!("cannot hash the password: {e}")))
}

pub(crate) fn token_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl App {
    /// Creates a staff account. `by` is `None` when run from the command line on the server.
    pub async fn add_user(
        &self,
        by: Option<&Staff>,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<UserId, AppError> {
        let draft = evac_model::UserDraft {
            name: Some(name.to_string()),
            role: Some(role.as_str().to_string()),
            password: Some(password.to_string()),
        };
        self.add_account(by, &draft).await
    }

    /// Creates a staff account from its draft (the desk's form; the console through
    /// [`App::add_user`]), checked once by the draft.
    pub async fn add_account(
        &self,
        by: Option<&Staff>,
        draft: &evac_model::UserDraft,
    ) -> Result<UserId, AppError> {
        if let Some(staff) = by {
            staff.require(evac_model::Permission::ManageUsers)?;
        }
        let evac_model::NewUser {
            name,
            role,
            password,
        } = draft.validate().map_err(AppError::Invalid)?;
        let name = name.as_str();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AppError::BadInput(format!("password hashing failed: {e}")))??;
        let now = Timestamp::now();
        let user = User {
            id: UserId::new_v7(),
            name: name.to_string(),
            role,
            password_hash,
            created_at: now,
            disabled: false,
        };
        let audit = AuditEvent {
            at: now,
            actor: by.map(Staff::actor).unwrap_or(Actor::System),
            action: "user.create".into(),
            subject: Some(name.to_string()),
            detail: serde_json::json!({ "role": role.as_str() }),
        };
        match self.store.insert_user(&user, audit).await {
            Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::UserExists,
                    format!(
                        "a user named {name} already exists",
                        name = evac_model::quoted(&name)
                    ),
                )
                .text("name", name),
            )),
            other => other.map(|()| user.id).map_err(AppError::from),
        }
    }

    /// Every staff account, for supervisors (password hashes stay in the store's rows; they
    /// are never shown).
    pub async fn users(&self, staff: &Staff) -> Result<Vec<evac_store::User>, AppError> {
        staff.require(evac_model::Permission::ManageUsers)?;
        Ok(self.store.users().await?)
    }

    /// Creates an API token for `user_name` and returns its secret (shown once).
    pub async fn create_token(
        &self,
        by: Option<&Staff>,
        user_name: &str,
        label: &str,
    ) -> Result<NewToken, AppError> {
        if let Some(staff) = by {
            staff.require(evac_model::Permission::ManageUsers)?;
        }
        let user = self.store.user_by_name(user_name).await?.ok_or_else(|| {
            AppError::NotFound(format!(
                "user {user_name} (create it with `evac user add`)",
                user_name = evac_model::quoted(&user_name)
            ))
        })?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        let now = Timestamp::now();
        let token = ApiToken {
            token_sha256: token_digest(&secret),
            user_id: user.id,
            label: label.to_string(),
            created_at: now,
            // A desk session ends with its shift whether or not anyone logs out.
            expires_at: (label == crate::desk::SESSION_TOKEN_LABEL)
                .then(|| now.plus_seconds(SESSION_S_MAX)),
        };
        let audit = AuditEvent {
            at: now,
            actor: by.map(Staff::actor).unwrap_or(Actor::System),
            action: "token.create".into(),
            subject: Some(user_name.to_string()),
            detail: serde_json::json!({ "label": label }),
        };
        self.store.insert_token(&token, audit).await?;
        Ok(NewToken {
            secret,
            user: user.name,
        })
    }

    /// Disables or enables an account. Disabling ends its sessions and tokens at once (a
    /// volunteer's shift is over, a laptop was lost); nobody disables their own account.
    pub async fn set_account_enabled(
        &self,
        by: Option<&Staff>,
        name: &str,
        enabled: bool,
    ) -> Result<(), AppError> {
        if let Some(staff) = by {
            staff.require(evac_model::Permission::ManageUsers)?;
            if !enabled && name == staff.name {
                return Err(AppError::Conflict(Refusal::new(
                    RefusalKind::OwnAccount,
                    "you cannot disable your own account; ask another supervisor",
                )));
            }
        }
        let (change, action) = if enabled {
            (evac_store::UserChange::Enable, "user.enable")
        } else {
            (evac_store::UserChange::Disable, "user.disable")
        };
        let actor = by.map(Staff::actor).unwrap_or(Actor::System);
        self.change_account(actor, name, change, action).await?;
        if enabled {
            // Re-enabled by a supervisor: a lock-out from before starts over.
            self.login_succeeded(&crate::login_guard::LoginKeys::new(name, None))
                .await?;
        }
        Ok(())
    }

    /// Sets an account's password: its owner changing their own, or a supervisor resetting
    /// one. Every session and token of the account ends at once.
    pub async fn set_password(
        &self,
        by: Option<&Staff>,
        name: &str,
        password: &str,
    ) -> Result<(), AppError> {
        if let Some(staff) = by
            && staff.name != name
        {
            staff.require(evac_model::Permission::ManageUsers)?;
        }
        if password.chars().count() < evac_model::PASSWORD_CHARS_MIN {
            return Err(AppError::Invalid(vec![evac_model::FieldError {
                path: "password".into(),
                reason: format!(
                    "is shorter than {} characters; a passphrase of a few words is best",
                    evac_model::PASSWORD_CHARS_MIN
                ),
            }]));
        }
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AppError::BadInput(format!("hashing failed: {e}")))??;
        let actor = by.map(Staff::actor).unwrap_or(Actor::System);
        self.change_account(
            actor,
            name,
            evac_store::UserChange::Password(hash),
            "user.password",
        )
        .await?;
        // A new password lifts a lock-out: the guesses were against the old one.
        self.login_succeeded(&crate::login_guard::LoginKeys::new(name, None))
            .await
    }

    async fn change_account(
        &self,
        actor: Actor,
        name: &str,
        change: evac_store::UserChange,
        action: &str,
    ) -> Result<(), AppError> {
        let audit = AuditEvent {
            at: Timestamp::now(),
            actor,
            action: action.into(),
            subject: Some(name.to_string()),
            detail: serde_json::json!({}),
        };
        self.store
            .update_user(name, change, audit)
            .await
            .map_err(|e| match e {
                evac_store::StoreError::Missing(what) => AppError::NotFound(what),
                e => AppError::Store(e),
            })
    }

    /// The staff member a bearer token belongs to.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Staff, AppError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Err(AppError::Unauthenticated);
        }
        let user = self
            .store
            .user_by_token(&token_digest(secret), Timestamp::now())
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(Staff {
            user_id: user.id,
            name: user.name,
            role: user.role,
        })
    }

    /// The staff member of an account, for commands run at the server's console (whoever runs
    /// them has the database already; the name is who the audit trail credits).
    pub async fn console_staff(&self, name: &str) -> Result<Staff, AppError> {
        let user = self.store.user_by_name(name).await?.ok_or_else(|| {
            AppError::NotFound(format!(
                "user {name} (create it with `evac user add`)",
                name = evac_model::quoted(&name)
            ))
        })?;
        Ok(Staff {
            user_id: user.id,
            name: user.name,
            role: user.role,
        })
    }
}

/// A token or desk session as staff see it: never its secret, an id made of the first
/// characters of its digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: String,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// How many hex digits of a token's digest name it (64 bits: unique among an account's few).
const TOKEN_ID_HEX_DIGITS: usize = 16;

impl App {
    /// An account's working tokens and desk sessions, newest first (`by`: a supervisor, or
    /// `None` at the server's console).
    pub async fn tokens(
        &self,
        by: Option<&Staff>,
        user_name: &str,
    ) -> Result<Vec<TokenView>, AppError> {
        if let Some(by) = by {
            by.require(evac_model::Permission::ManageUsers)?;
        }
        let user = self.account(user_name).await?;
        Ok(self
            .store
            .tokens_of(user.id, Timestamp::now())
            .await?
            .into_iter()
            .map(|t| TokenView {
                id: hex::encode(t.token_sha256)[..TOKEN_ID_HEX_DIGITS].to_string(),
                label: t.label,
                created_at: t.created_at,
                expires_at: t.expires_at,
            })
            .collect())
    }

    /// Revokes one of an account's tokens or sessions by the id [`App::tokens`] shows; it
    /// stops working at once.
    pub async fn revoke_token(
        &self,
        by: Option<&Staff>,
        user_name: &str,
        id: &str,
    ) -> Result<(), AppError> {
        if let Some(by) = by {
            by.require(evac_model::Permission::ManageUsers)?;
        }
        let user = self.account(user_name).await?;
        let id = id.trim().to_ascii_lowercase();
        let token = self
            .store
            .tokens_of(user.id, Timestamp::now())
            .await?
            .into_iter()
            .find(|t| id.len() == TOKEN_ID_HEX_DIGITS && hex::encode(t.token_sha256).starts_with(&id))
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "a working token {} of {user_name} (list them with `evac token list {user_name}`)",
                    evac_model::quoted(&id)
                ))
            })?;
        let audit = AuditEvent {
            at: Timestamp::now(),
            actor: by.map(Staff::actor).unwrap_or(Actor::System),
            action: "token.revoke".into(),
            subject: Some(user_name.to_string()),
            detail: serde_json::json!({ "token": id, "label": token.label }),
        };
        self.store.delete_token(&token.token_sha256, audit).await?;
        Ok(())
    }

    async fn account(&self, name: &str) -> Result<evac_store::User, AppError> {
        self.store
            .user_by_name(name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("user {}", evac_model::quoted(name))))
    }
}
