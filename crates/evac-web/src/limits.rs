//! Flood limits, one mechanism for two keys: a steady rate and a burst per key (a generic cell
//! rate algorithm: each key has a "theoretical arrival time" that every request pushes one
//! interval on). Beyond it the answer is 429 with `Retry-After`, before any work.
//!
//! - The public side counts anonymous writes and status look-ups per address, and answers in
//!   the caller's language on the pages. Staff (a bearer token or a desk session) are not
//!   counted there, nor the channels' callbacks (they carry their own secret), nor the login
//!   page (it has its own lock-out). Behind a proxy on the same host, the address is the last
//!   one the proxy added to `X-Forwarded-For`; a peer elsewhere cannot claim one.
//! - The API counts every authenticated call per staff account (`auth::Authenticated`), so a
//!   leaked token or a runaway script cannot page through the crisis at the server's speed.
//!
//! Both count per node: behind a load balancer each node allows the rate (docs/SECURITY.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Keys (addresses, accounts) remembered at most; beyond, the quiet ones are forgotten first.
pub const LIMITED_ADDRESSES_MAX: usize = 100_000;

/// Each key's next allowed moment.
pub struct RateLimiter<K> {
    interval: Duration,
    burst: Duration,
    arrivals: Mutex<HashMap<K, Instant>>,
}

/// The public side's limiter, per address.
pub type PublicLimiter = RateLimiter<IpAddr>;
/// The API's limiter, per staff account (by name).
pub type AccountLimiter = RateLimiter<String>;

impl PublicLimiter {
    /// `None` when `per_address_per_s` is 0 (no limit).
    pub fn new(limit: evac_app::PublicLimit) -> Option<PublicLimiter> {
        RateLimiter::with_rate(limit.per_address_per_s, limit.burst)
    }
}

impl AccountLimiter {
    /// `None` when `per_account_per_s` is 0 (no limit).
    pub fn for_accounts(limit: evac_app::AccountLimit) -> Option<AccountLimiter> {
        RateLimiter::with_rate(limit.per_account_per_s, limit.burst)
    }
}

impl<K: std::hash::Hash + Eq + Clone> RateLimiter<K> {
    fn with_rate(per_s: u32, burst: u32) -> Option<RateLimiter<K>> {
        (per_s > 0).then(|| {
            let interval = Duration::from_secs_f64(1.0 / f64::from(per_s));
            RateLimiter {
                interval,
                burst: interval * burst.max(1),
                arrivals: Mutex::new(HashMap::new()),
            }
        })
    }

    /// `Err(seconds to wait)` when `key` is over its rate at `now`.
    pub fn admit(&self, key: &K, now: Instant) -> Result<(), u64> {
        let mut arrivals = self.arrivals.lock().expect("the limiter's lock");
        if arrivals.len() >= LIMITED_ADDRESSES_MAX && !arrivals.contains_key(key) {
            arrivals.retain(|_, tat| *tat > now);
            if arrivals.len() >= LIMITED_ADDRESSES_MAX {
                // Every remembered key is busy: refuse the newcomer rather than grow.
                return Err(1);
            }
        }
        let tat = arrivals.get(key).copied().unwrap_or(now).max(now);
        // Allowed while the address is less than a burst ahead of now.
        let allowed_from = tat.checked_sub(self.burst - self.interval).unwrap_or(now);
        if now < allowed_from {
            return Err((allowed_from - now).as_secs().max(1));
        }
        arrivals.insert(key.clone(), tat + self.interval);
        Ok(())
    }
}

/// Whether a request is of the kind counted: a write or a status look-up, not a channel's
/// callback or the sign-in page (which have their own defences).
fn costly(request: &Request) -> bool {
    let path = request.uri().path();
    let exempt = path.starts_with("/api/v1/channels/") || path == "/login" || path == "/logout";
    let costly = !matches!(*request.method(), Method::GET | Method::HEAD)
        || path.starts_with("/status")
        || path.starts_with("/api/v1/status");
    !exempt && costly
}

/// The staff token or desk session a request carries, if any (not yet checked).
fn claimed_token(request: &Request) -> Option<String> {
    let headers = request.headers();
    match crate::auth::bearer_in(headers) {
        Ok(Some(token)) => Some(token.to_string()),
        Ok(None) | Err(_) => crate::auth::session_secret(headers),
    }
}

/// Whether `token` is a working staff token or desk session. Only then is a request not
/// counted: a made-up `Authorization` header or cookie must not open the public's limit.
async fn is_staff(state: &crate::AppState, token: Option<String>) -> bool {
    match token {
        Some(token) => state.app.authenticate_token(&token).await.is_ok(),
        None => false,
    }
}

/// The caller's address: the peer's, or behind a proxy on this host or a trusted balancer
/// the last one it added.
pub fn caller_address(request: &Request, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    caller_address_of(request.extensions(), request.headers(), trusted_proxies)
}

/// [`caller_address`] from a request's parts: the one reading of who is calling, for the
/// public limit and the sign-in lock-out alike. Only a proxy on this host or one of
/// `trusted_proxies` is believed: anyone else could write any address in the header.
pub fn caller_address_of(
    extensions: &axum::http::Extensions,
    headers: &axum::http::HeaderMap,
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()?
        .0
        .ip();
    if (peer.is_loopback() || trusted_proxies.contains(&peer))
        && let Some(forwarded) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return Some(forwarded);
    }
    Some(peer)
}

/// The middleware: counts the public's requests per address and answers 429 beyond the limit.
pub async fn limit_public(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &state.limiter
        && costly(&request)
        && !is_staff(&state, claimed_token(&request)).await
        && let Some(address) = caller_address(&request, &state.app.settings().trusted_proxies)
        && let Err(wait_s) = limiter.admit(&address, Instant::now())
    {
        return too_many(&request, wait_s);
    }
    next.run(request).await
}

fn too_many(request: &Request, wait_s: u64) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = if api {
        too_many_problem("from this address", wait_s).into_response()
    } else {
        let lang = crate::desk::lang(
            &std::collections::HashMap::new(),
            request.headers(),
            &evac_ui::Lang::PUBLIC,
        );
        let t = evac_ui::Tr { lang };
        let page =
            evac_ui::ErrorPage::public(lang, t.get("too-many-title"), t.get("too-many-detail"));
        crate::desk::html(StatusCode::TOO_MANY_REQUESTS, evac_ui::render(&page))
    };
    crate::problem::set_retry_after(&mut response, Some(wait_s));
    response
}

/// The API's 429: who is over the limit (`from this address`, `for this account`) and how
/// long to wait (also in `Retry-After`).
pub fn too_many_problem(whose: &str, wait_s: u64) -> crate::problem::Problem {
    crate::problem::Problem {
        retry_after_s: Some(wait_s),
        ..crate::problem::Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "urn:evac:problem:too-many-requests",
            "Too many requests",
            format!("too many requests {whose}; wait {wait_s} s and try again"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_its_rate_and_others_are_untouched() {
        let limiter = PublicLimiter::new(evac_app::PublicLimit {
            per_address_per_s: 5,
            burst: 10,
        })
        .unwrap();
        let flood: IpAddr = "203.0.113.7".parse().unwrap();
        let t0 = Instant::now();
        let admitted = (0..100)
            .filter(|_| limiter.admit(&flood, t0).is_ok())
            .count();
        assert_eq!(admitted, 10, "the burst at once");
        assert!(limiter.admit(&flood, t0).is_err());
        // One more every 200 ms.
        assert!(
            limiter
                .admit(&flood, t0 + Duration::from_millis(200))
                .is_ok()
        );
        assert!(
            limiter
                .admit(&flood, t0 + Duration::from_millis(210))
                .is_err()
        );
        // Over 10 s of flooding, about 5 × 10 get through (and the few the pause refilled).
        let mut through = 0;
        for ms in (0..10_000).step_by(4) {
            through += usize::from(
                limiter
                    .admit(&flood, t0 + Duration::from_millis(1_000 + ms))
                    .is_ok(),
            );
        }
        assert!((50..=56).contains(&through), "{through}");
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(
            limiter.admit(&other, t0).is_ok(),
            "another address is not slowed"
        );
        assert!(
            PublicLimiter::new(evac_app::PublicLimit {
                per_address_per_s: 0,
                burst: 10
            })
            .is_none()
        );
    }

    /// Issue 24: a balancer on another host could not be trusted, so every caller behind it
    /// counted as the balancer; anyone else may not name an address by a header.
    #[test]
    fn only_a_local_or_trusted_proxy_names_the_caller() {
        let at = |peer: &str| {
            let mut extensions = axum::http::Extensions::new();
            extensions.insert(ConnectInfo(std::net::SocketAddr::new(
                peer.parse().unwrap(),
                40000,
            )));
            extensions
        };
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let caller = "198.51.100.7".parse::<IpAddr>().unwrap();
        let balancer: IpAddr = "10.0.0.5".parse().unwrap();
        assert_eq!(
            caller_address_of(&at("127.0.0.1"), &headers, &[]),
            Some(caller)
        );
        assert_eq!(
            caller_address_of(&at("10.0.0.5"), &headers, &[]),
            Some(balancer),
            "a balancer not named in trusted_proxies is the caller itself"
        );
        assert_eq!(
            caller_address_of(&at("10.0.0.5"), &headers, &[balancer]),
            Some(caller),
            "a trusted balancer names the caller (the last address it added)"
        );
        assert_eq!(
            caller_address_of(&at("10.0.0.6"), &headers, &[balancer]),
            Some("10.0.0.6".parse().unwrap()),
            "another host may not"
        );
    }
}
