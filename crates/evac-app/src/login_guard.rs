//! Sign-in throttling: failed sign-ins are counted per account and per address; too many in a
//! window lock that account (or address) out for a while, answered with when to try again. A
//! lock costs nothing to answer (no password hash is computed), and password hashing itself
//! runs a few at a time, so a flood of wrong passwords neither guesses a password nor takes
//! the server's memory (argon2 takes 19 MiB an attempt).
//!
//! The failures are kept in the database (`Store::record_login_failure`), so every node
//! counts them all: behind a load balancer, attempts spread over the nodes lock an account
//! as soon as they would on one. The decision itself, [`lock_ends`], is pure.

use evac_model::Timestamp;

use crate::{App, AppError};

/// Failed sign-ins to one account within [`LOGIN_WINDOW_S`] that lock it.
pub const LOGIN_ACCOUNT_FAILURES_MAX: u32 = 5;
/// Failed sign-ins from one address within [`LOGIN_WINDOW_S`] that lock it (a crisis centre's
/// volunteers may share one address: higher than an account's).
pub const LOGIN_ADDRESS_FAILURES_MAX: u32 = 30;
/// The window failures are counted in, in seconds.
pub const LOGIN_WINDOW_S: i64 = 15 * 60;
/// How long a lock lasts, in seconds.
pub const LOGIN_LOCK_S: i64 = 15 * 60;
/// Password checks (argon2) running at once.
pub const LOGIN_CHECKS_AT_ONCE: usize = 2;

/// What a sign-in is keyed by: its account (the name as typed, lower-cased) and, when known,
/// the address it came from.
#[derive(Debug, Clone)]
pub struct LoginKeys {
    account: String,
    address: Option<String>,
}

impl LoginKeys {
    pub fn new(name: &str, address: Option<std::net::IpAddr>) -> LoginKeys {
        LoginKeys {
            account: format!(
                "account:{}",
                name.trim()
                    .to_lowercase()
                    .chars()
                    .take(64)
                    .collect::<String>()
            ),
            address: address.map(|a| format!("address:{a}")),
        }
    }

    fn each(&self) -> impl Iterator<Item = (&str, u32)> {
        std::iter::once((self.account.as_str(), LOGIN_ACCOUNT_FAILURES_MAX)).chain(
            self.address
                .as_deref()
                .map(|a| (a, LOGIN_ADDRESS_FAILURES_MAX)),
        )
    }
}

fn plus_s(at: Timestamp, s: i64) -> Timestamp {
    Timestamp::from_unix_micros(at.unix_micros() + s * 1_000_000)
}

/// When the lock a key's failures make ends, if they make one: `max` failures within one
/// window lock the key from the last of them for [`LOGIN_LOCK_S`]. `newest_first` holds at
/// least the key's `max` newest failures. Attempts refused while locked are not failures, so
/// the lock ends when it says.
pub fn lock_ends(newest_first: &[Timestamp], max: u32) -> Option<Timestamp> {
    let max = usize::try_from(max).ok().filter(|m| *m > 0)?;
    let (newest, oldest) = (*newest_first.first()?, *newest_first.get(max - 1)?);
    (newest.unix_micros() - oldest.unix_micros() <= LOGIN_WINDOW_S * 1_000_000)
        .then(|| plus_s(newest, LOGIN_LOCK_S))
}

impl App {
    /// `Err(seconds to wait)` while the account or the address is locked.
    pub(crate) async fn login_locked(
        &self,
        keys: &LoginKeys,
        now: Timestamp,
    ) -> Result<Result<(), u64>, AppError> {
        let mut wait_s = None;
        for (key, max) in keys.each() {
            let failures = self.store.login_failures(key, max).await?;
            if let Some(ends) = lock_ends(&failures, max).filter(|ends| *ends > now) {
                let s = ((ends.unix_micros() - now.unix_micros()) as u64).div_ceil(1_000_000);
                wait_s = wait_s.max(Some(s));
            }
        }
        Ok(wait_s.map_or(Ok(()), Err))
    }

    /// Counts a failure under the account and the address; the answer is whether it locked
    /// either now.
    pub(crate) async fn login_failed(
        &self,
        keys: &LoginKeys,
        now: Timestamp,
    ) -> Result<bool, AppError> {
        let all: Vec<String> = keys.each().map(|(key, _)| key.to_string()).collect();
        let forget_before = plus_s(now, -(LOGIN_WINDOW_S + LOGIN_LOCK_S));
        self.store
            .record_login_failure(&all, now, forget_before)
            .await?;
        Ok(self.login_locked(keys, now).await?.is_err())
    }

    /// A sign-in succeeded: the account's failures are forgotten (the address's stay).
    pub(crate) async fn login_succeeded(&self, keys: &LoginKeys) -> Result<(), AppError> {
        Ok(self.store.forget_login_failures(&keys.account).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_641_456_000_000_000;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix_micros(T0 + s * 1_000_000)
    }

    /// The failures at these seconds, newest first (as the store gives them).
    fn failures(seconds: &[i64]) -> Vec<Timestamp> {
        let mut times: Vec<Timestamp> = seconds.iter().map(|s| at(*s)).collect();
        times.sort_by_key(|t| std::cmp::Reverse(t.unix_micros()));
        times
    }

    #[test]
    fn five_failures_in_a_window_lock_from_the_fifth_for_the_lock() {
        let max = LOGIN_ACCOUNT_FAILURES_MAX;
        assert_eq!(lock_ends(&failures(&[0, 1, 2, 3]), max), None, "four");
        assert_eq!(
            lock_ends(&failures(&[0, 1, 2, 3, 10]), max),
            Some(at(10 + LOGIN_LOCK_S)),
            "the fifth locks, from itself"
        );
        assert_eq!(
            lock_ends(&failures(&[0, 1, 2, 3, LOGIN_WINDOW_S]), max),
            Some(at(LOGIN_WINDOW_S + LOGIN_LOCK_S)),
            "the window's edge counts"
        );
        assert_eq!(lock_ends(&[], 0), None);
    }

    #[test]
    fn failures_spread_beyond_the_window_never_lock() {
        // One failure every 4 minutes: never 5 in 15 minutes.
        let spread: Vec<i64> = (0..20).map(|i| i * 240).collect();
        let newest_first = failures(&spread);
        for shown in 1..=newest_first.len() {
            assert_eq!(
                lock_ends(&newest_first[newest_first.len() - shown..], 5),
                None
            );
        }
    }

    #[test]
    fn keys_are_the_account_as_typed_lower_cased_and_the_address() {
        let keys = LoginKeys::new(" Anna ", Some("203.0.113.9".parse().unwrap()));
        let each: Vec<(&str, u32)> = keys.each().collect();
        assert_eq!(
            each,
            [
                ("account:anna", LOGIN_ACCOUNT_FAILURES_MAX),
                ("address:203.0.113.9", LOGIN_ADDRESS_FAILURES_MAX)
            ]
        );
        let long = LoginKeys::new(&"x".repeat(10_000), None);
        assert!(long.account.len() < 80, "a name's key is bounded");
    }
}
