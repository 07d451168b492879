//! Sign-in throttling: failed sign-ins are counted per account and per address; too many in a
//! window lock that account (or address) out for a while, answered with when to try again. A
//! lock costs nothing to answer (no password hash is computed), and password hashing itself
//! runs a few at a time, so a flood of wrong passwords neither guesses a password nor takes
//! the server's memory (argon2 takes 19 MiB an attempt).
//!
//! The counts live in this node's memory: behind a load balancer each node counts its own
//! (an attacker spread over n nodes gets n times the tries), which still bounds guessing.

use std::collections::HashMap;
use std::sync::Mutex;

use evac_model::Timestamp;

/// Failed sign-ins to one account within [`LOGIN_WINDOW_S`] that lock it.
pub const LOGIN_ACCOUNT_FAILURES_MAX: u32 = 5;
/// Failed sign-ins from one address within [`LOGIN_WINDOW_S`] that lock it (a crisis centre's
/// volunteers may share one address: higher than an account's).
pub const LOGIN_ADDRESS_FAILURES_MAX: u32 = 30;
/// The window failures are counted in, in seconds.
pub const LOGIN_WINDOW_S: i64 = 15 * 60;
/// How long a lock lasts, in seconds.
pub const LOGIN_LOCK_S: i64 = 15 * 60;
/// Accounts and addresses remembered at most; beyond, the oldest quiet ones are forgotten.
pub const LOGIN_GUARD_ENTRIES_MAX: usize = 100_000;
/// Password checks (argon2) running at once.
pub const LOGIN_CHECKS_AT_ONCE: usize = 2;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Timestamp,
    locked_until: Option<Timestamp>,
}

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
            account: format!("account:{}", name.trim().to_lowercase()),
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

/// The failures this node has seen.
#[derive(Default)]
pub struct LoginGuard {
    entries: Mutex<HashMap<String, Failures>>,
}

fn plus_s(at: Timestamp, s: i64) -> Timestamp {
    Timestamp::from_unix_micros(at.unix_micros() + s * 1_000_000)
}

impl LoginGuard {
    /// `Err(seconds to wait)` while the account or the address is locked.
    pub fn check(&self, keys: &LoginKeys, now: Timestamp) -> Result<(), u64> {
        let entries = self.entries.lock().expect("the login guard's lock");
        let wait = keys
            .each()
            .filter_map(|(key, _)| entries.get(key)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| ((until.unix_micros() - now.unix_micros()) as u64).div_ceil(1_000_000))
            .max();
        match wait {
            Some(s) => Err(s),
            None => Ok(()),
        }
    }

    /// Counts a failure; the answer is whether it locked the account or the address now.
    pub fn failed(&self, keys: &LoginKeys, now: Timestamp) -> bool {
        let mut entries = self.entries.lock().expect("the login guard's lock");
        if entries.len() >= LOGIN_GUARD_ENTRIES_MAX {
            entries.retain(|_, f| {
                f.locked_until.is_some_and(|u| u > now) || plus_s(f.since, LOGIN_WINDOW_S) > now
            });
            if entries.len() >= LOGIN_GUARD_ENTRIES_MAX {
                // Still full of live entries: forget the oldest half rather than grow.
                let mut since: Vec<Timestamp> = entries.values().map(|f| f.since).collect();
                since.sort_unstable();
                let cut = since[since.len() / 2];
                entries.retain(|_, f| f.since > cut || f.locked_until.is_some_and(|u| u > now));
            }
        }
        let mut locked = false;
        for (key, max) in keys.each() {
            let f = entries.entry(key.to_string()).or_insert(Failures {
                count: 0,
                since: now,
                locked_until: None,
            });
            if plus_s(f.since, LOGIN_WINDOW_S) <= now {
                *f = Failures {
                    count: 0,
                    since: now,
                    locked_until: f.locked_until.filter(|u| *u > now),
                };
            }
            f.count += 1;
            if f.count >= max && f.locked_until.is_none_or(|u| u <= now) {
                f.locked_until = Some(plus_s(now, LOGIN_LOCK_S));
                locked = true;
            }
        }
        locked
    }

    /// A sign-in succeeded: the account's failures are forgotten (the address's stay).
    pub fn succeeded(&self, keys: &LoginKeys) {
        self.entries
            .lock()
            .expect("the login guard's lock")
            .remove(&keys.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_641_456_000_000_000;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix_micros(T0 + s * 1_000_000)
    }

    #[test]
    fn an_account_locks_after_its_failures_and_opens_after_the_lock() {
        let guard = LoginGuard::default();
        let anna = LoginKeys::new("Anna", None);
        for i in 0..LOGIN_ACCOUNT_FAILURES_MAX - 1 {
            assert!(guard.check(&anna, at(i as i64)).is_ok());
            assert!(!guard.failed(&anna, at(i as i64)));
        }
        assert!(guard.failed(&anna, at(10)), "the fifth failure locks");
        assert_eq!(
            guard.check(&LoginKeys::new(" anna ", None), at(10)),
            Err(900)
        );
        assert_eq!(guard.check(&anna, at(10 + LOGIN_LOCK_S - 1)), Err(1));
        assert!(guard.check(&anna, at(10 + LOGIN_LOCK_S)).is_ok());
        // Another account is not touched.
        assert!(guard.check(&LoginKeys::new("boris", None), at(10)).is_ok());
    }

    #[test]
    fn failures_spread_beyond_the_window_never_lock_and_success_forgets_them() {
        let guard = LoginGuard::default();
        let anna = LoginKeys::new("anna", None);
        for i in 0..20 {
            // One failure every 4 minutes: never 5 in 15 minutes.
            assert!(!guard.failed(&anna, at(i * 240)), "failure {i}");
        }
        for i in 0..4 {
            guard.failed(&anna, at(10_000 + i));
        }
        guard.succeeded(&anna);
        assert!(!guard.failed(&anna, at(10_010)), "counting starts again");
    }

    #[test]
    fn one_address_guessing_many_accounts_is_locked() {
        let guard = LoginGuard::default();
        let from: std::net::IpAddr = "203.0.113.9".parse().unwrap();
        for i in 0..LOGIN_ADDRESS_FAILURES_MAX {
            guard.failed(&LoginKeys::new(&format!("user{i}"), Some(from)), at(0));
        }
        assert!(
            guard
                .check(&LoginKeys::new("someone-else", Some(from)), at(1))
                .is_err()
        );
        assert!(
            guard
                .check(
                    &LoginKeys::new("someone-else", Some("198.51.100.1".parse().unwrap())),
                    at(1)
                )
                .is_ok(),
            "other addresses sign in"
        );
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_names() {
        let guard = LoginGuard::default();
        for i in 0..(LOGIN_GUARD_ENTRIES_MAX + 10) {
            guard.failed(
                &LoginKeys::new(&format!("n{i}"), None),
                at(i as i64 / 1_000),
            );
        }
        assert!(guard.entries.lock().unwrap().len() <= LOGIN_GUARD_ENTRIES_MAX);
    }
}
