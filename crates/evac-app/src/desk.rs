//! What the HTML pages need beyond the API's use cases: staff sessions (a login makes a token
//! the browser keeps in a cookie; logout revokes it), the public status page (a reference and
//! a phone number show the status and nothing else), and the dashboard's counts.

use argon2::PasswordVerifier as _;
use argon2::password_hash::phc::PasswordHash;
use evac_model::{Actor, Permission, PersonStatus, PhoneE164, ReferenceCode, Timestamp};
use evac_store::{AuditEvent, IntakeCounts};

use crate::{App, AppError, NewToken, Staff};

/// The label of tokens made by a login (API tokens carry the label their creator gave).
pub const SESSION_TOKEN_LABEL: &str = "session";

/// A place with its request count, where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceCount {
    /// The gazetteer's id (what the request list's `town` filter takes).
    pub id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub requests: u64,
}

/// The public status of a request: how many people and how far they are, the seats they hold
/// with their passes, and every message evac sent them.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicStatus {
    pub people: u64,
    pub status: PersonStatus,
    pub seats: Vec<PublicSeat>,
    /// Newest first, at most [`PUBLIC_MESSAGES_MAX`].
    pub messages: Vec<evac_store::StoredMessage>,
}

/// A seat as its holder sees it: times in the hub's local time.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicSeat {
    /// The name as written in the request.
    pub person: String,
    pub transport: String,
    pub hub: String,
    pub departs: String,
    pub be_there: String,
    /// The short code the notice gave.
    pub pass_code: String,
    /// The seat's number on the transport, if it has one.
    pub seat_number: Option<u32>,
    /// The signed pass, for its QR code (a seat held, not given up).
    pub token: Option<String>,
    pub state: evac_model::SeatEventKind,
}

/// Messages shown on the public status page.
pub const PUBLIC_MESSAGES_MAX: u32 = 20;

/// The dashboard's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardView {
    pub intake: IntakeCounts,
    pub by_status: Vec<(PersonStatus, u64)>,
    /// Places (the gazetteer's names) with their request counts, most first; locations the
    /// gazetteer does not know are left out.
    pub by_place: Vec<PlaceCount>,
    /// Requests per hour (the hour's start), the newest hours with any, oldest first.
    pub by_hour: Vec<(Timestamp, u64)>,
}

/// How far along a status is, for "the household's status" (the furthest of its people).
pub(crate) fn progress(status: PersonStatus) -> u8 {
    match status {
        PersonStatus::Arrived => 7,
        PersonStatus::Boarded => 6,
        PersonStatus::CheckedIn => 5,
        PersonStatus::Notified => 4,
        PersonStatus::Assigned => 3,
        PersonStatus::Verified => 2,
        PersonStatus::Registered => 1,
        _ => 0,
    }
}

impl App {
    /// Signs a staff member in with name and password; the answer's secret is the session.
    /// A wrong name and a wrong password look alike, and take as long.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        from: Option<std::net::IpAddr>,
    ) -> Result<NewToken, AppError> {
        // A hash to verify against when the name is unknown, so timing does not tell.
        static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            crate::hash_password("no such user").expect("hashing a constant")
        });
        let keys = crate::login_guard::LoginKeys::new(name, from);
        let now = Timestamp::now();
        if let Err(retry_after_s) = self.login_locked(&keys, now).await? {
            return Err(AppError::TooManyAttempts { retry_after_s });
        }
        // Hashing waits its turn: a flood of attempts queues here instead of taking the
        // server's memory.
        let _turn = self
            .login_checks
            .acquire()
            .await
            .map_err(|_| AppError::Unauthenticated)?;
        // Again after the wait: attempts queued together must not all be hashed and counted.
        if let Err(retry_after_s) = self.login_locked(&keys, Timestamp::now()).await? {
            return Err(AppError::TooManyAttempts { retry_after_s });
        }
        let user = self.store.user_by_name(name).await?;
        let hash = user
            .as_ref()
            .filter(|u| !u.disabled)
            .map_or_else(|| DECOY.clone(), |u| u.password_hash.clone());
        let password = password.to_string();
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        match user {
            Some(u) if verified && !u.disabled => {
                self.login_succeeded(&keys).await?;
                self.create_token(None, &u.name, SESSION_TOKEN_LABEL).await
            }
            _ => {
                let locked = self.login_failed(&keys, now).await?;
                // Who was tried and from where, never the password.
                self.store
                    .append_audit(vec![AuditEvent {
                        at: now,
                        actor: evac_model::Actor::Public,
                        action: if locked {
                            "login.locked"
                        } else {
                            "login.failed"
                        }
                        .into(),
                        subject: Some(name.trim().chars().take(64).collect()),
                        detail: serde_json::json!({
                            "address": from.map(|a| a.to_string()),
                            "known_account": user.is_some(),
                        }),
                    }])
                    .await?;
                Err(AppError::Unauthenticated)
            }
        }
    }

    /// Ends a session: its token stops working at once.
    pub async fn logout(&self, staff: &Staff, secret: &str) -> Result<(), AppError> {
        let audit = AuditEvent {
            at: Timestamp::now(),
            actor: staff.actor(),
            action: "session.end".into(),
            subject: Some(staff.name.clone()),
            detail: serde_json::json!({}),
        };
        Ok(self
            .store
            .delete_token(&crate::accounts::token_digest(secret), audit)
            .await?)
    }

    /// The status of a request for the public: only when `contact` is a phone number or an
    /// e-mail address the request gave (the submitter's or a person's); how many people, the
    /// furthest status, the seats and the messages sent.
    pub async fn public_status(
        &self,
        reference: &str,
        contact: &str,
    ) -> Result<Option<PublicStatus>, AppError> {
        let Ok(reference) = reference.parse::<ReferenceCode>() else {
            return Ok(None);
        };
        let Some(stored) = self.store.request_by_reference(&reference).await? else {
            return Ok(None);
        };
        let body = &stored.request.body;
        let known = if contact.contains('@') {
            body.submitter
                .email
                .iter()
                .chain(body.party.iter().filter_map(|p| p.email.as_ref()))
                .any(|e| e.as_str().eq_ignore_ascii_case(contact.trim()))
        } else {
            let region = body.location.country.or(self.settings.default_region);
            let Ok(typed) = PhoneE164::parse(contact, region) else {
                return Ok(None);
            };
            body.phones().any(|p| p.e164 == typed)
        };
        if !known {
            return Ok(None);
        }
        self.store
            .append_audit(vec![AuditEvent {
                at: Timestamp::now(),
                actor: Actor::Public,
                action: "status.read".into(),
                subject: Some(stored.request.id.to_string()),
                detail: serde_json::json!({}),
            }])
            .await?;
        let status = stored
            .statuses
            .iter()
            .map(|(_, s)| *s)
            .max_by_key(|s| progress(*s))
            .unwrap_or(PersonStatus::Registered);
        let seats = self.public_seats(&stored.request).await?;
        let messages = self
            .store
            .messages(
                &evac_store::MessageFilter {
                    request: Some(stored.request.id),
                    ..Default::default()
                },
                PUBLIC_MESSAGES_MAX,
            )
            .await?;
        Ok(Some(PublicStatus {
            people: body.party.len() as u64,
            status,
            seats,
            messages,
        }))
    }

    /// Whether a search text names a place the gazetteer knows exactly (then the desk searches
    /// locations, not names: a surname is rarely a town's).
    pub fn names_a_place(&self, text: &str) -> bool {
        crate::situation::gazetteer()
            .resolve(text)
            .place
            .is_some_and(|c| c.how == "exact_name")
    }

    /// The name of the gazetteer's place `id`, if there is one.
    pub fn town_name(&self, id: &str) -> Option<String> {
        crate::situation::gazetteer()
            .get(id)
            .map(|p| p.name.clone())
    }

    /// The dashboard: requests and people, people by status, requests by place (the place
    /// each request's location resolved to, so "Алматы" and "Almaty, hotel" count together).
    pub async fn dashboard(&self, staff: &Staff) -> Result<DashboardView, AppError> {
        staff.require(Permission::ReadRequests)?;
        let intake = self.store.intake_counts().await?;
        let counts = self.store.dashboard_counts().await?;
        let gazetteer = crate::situation::gazetteer();
        // Each request's place was read from its location as it arrived (or when the store
        // caught up), so every spelling of a town counts under it.
        let by_place: Vec<PlaceCount> = counts
            .by_place
            .iter()
            .filter_map(|&(id, requests)| {
                let place = gazetteer.get(&format!("geonames:{id}"))?;
                Some(PlaceCount {
                    id: place.id.clone(),
                    name: place.name.clone(),
                    lat: place.lat,
                    lon: place.lon,
                    requests,
                })
            })
            .collect();
        let mut by_status = counts.by_status;
        by_status.sort_by_key(|(s, _)| progress(*s));
        Ok(DashboardView {
            by_hour: counts
                .by_hour
                .iter()
                .map(|&(hour, n)| (Timestamp::from_unix_micros(hour * 3_600_000_000), n))
                .collect(),
            intake,
            by_status,
            by_place,
        })
    }
}

impl App {
    /// The seats a request's people hold (or held), as the notices told them.
    async fn public_seats(
        &self,
        request: &evac_model::Request,
    ) -> Result<Vec<PublicSeat>, AppError> {
        let transports = self.store.transports().await?;
        let hubs = self.store.hubs().await?;
        let mut seats = Vec::new();
        for (person, seat) in &crate::boarding::seats_by_leg(self, request, &transports).await? {
            let Some(t) = transports.iter().find(|t| t.id == seat.transport) else {
                continue;
            };
            let zone = crate::messaging::zone_of_hub(&hubs, &t.hub);
            let held = matches!(
                seat.state,
                evac_model::SeatEventKind::Seated | evac_model::SeatEventKind::CheckedIn
            );
            let token = if held {
                Some(self.signer().await?.sign(&evac_model::PassClaims {
                    pass: seat.pass,
                    person: seat.person,
                    household: seat.household.clone(),
                    transport: seat.transport,
                }))
            } else {
                None
            };
            let written = |n: &Option<evac_model::PersonName>| {
                n.as_ref().map_or(String::new(), |n| n.as_written.clone())
            };
            seats.push(PublicSeat {
                person: format!(
                    "{} {}",
                    written(&person.surname),
                    written(&person.given_names)
                )
                .trim()
                .to_string(),
                transport: t.code.clone(),
                hub: t.hub.clone(),
                departs: crate::messaging::local_time(t.departs_at, &zone),
                be_there: crate::messaging::local_time(
                    t.departs_at
                        .plus_seconds(-60 * self.settings.messaging.be_there_minutes),
                    &zone,
                ),
                pass_code: crate::messaging::pass_code(seat.pass),
                seat_number: seat.number,
                token,
                state: seat.state,
            });
        }
        Ok(seats)
    }
}
