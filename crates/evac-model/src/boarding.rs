//! Seats, boarding passes and check-in, as a log.
//!
//! Nothing stores "who is on which transport" as a field. Publishing a plan appends a
//! [`SeatEvent`] per person (`seated`, with a fresh boarding pass); a re-plan that moves or
//! drops someone appends `unseated`; the field officer's scan appends `checked_in`, then
//! `boarded`; people who did not come by the call time get `no_show`, which frees their seat
//! for the standby list. The current seat of each person is a fold over the log
//! ([`SeatBook`]), and every event also moves the person's status (the `persons` row and its
//! `person_events`), so "statuses and events for every person" come from one write.
//!
//! A boarding pass is a token signed with Ed25519 ([`PassToken`]): the pass id, the person,
//! the household and the transport, readable and verifiable offline by anyone with the public
//! key. The signature stops forgery; the store stops copies, because a pass is checked in at
//! most once (a unique index on the `checked_in` event of a pass, so two officers scanning the
//! same code on two nodes cannot both succeed).

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};

use crate::{Actor, PersonId, PersonStatus, Timestamp, TransportId};

string_enum!(
    /// What happened to a person's seat.
    SeatEventKind {
        Seated = "seated", Unseated = "unseated", CheckedIn = "checked_in",
        Boarded = "boarded", NoShow = "no_show",
    }
);

impl SeatEventKind {
    /// Whether the event gives a seat up (an unseat by a re-plan or by staff, a no-show).
    pub fn releases(self) -> bool {
        matches!(self, SeatEventKind::Unseated | SeatEventKind::NoShow)
    }

    /// Whether a seat in this state was scanned at the hub (checked in or boarded): the person
    /// is there, and no re-plan takes the seat away.
    pub fn is_scanned(self) -> bool {
        matches!(self, SeatEventKind::CheckedIn | SeatEventKind::Boarded)
    }
}

/// One live seat a person holds on one leg of their journey, as their status reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldSeat {
    pub pass: PassId,
    /// Whether the seat's transport feeds another (a convoy to an open airport) rather than
    /// taking people out.
    pub feeder: bool,
    /// Seated, checked in or boarded.
    pub state: SeatEventKind,
}

/// A person's status as their seats move, one event at a time: the status follows the journey
/// as a whole, not the last leg touched. A person holds at most a seat out and a feeder's seat
/// from each hub (the store refuses more), so
///
/// - boarding a convoy to the airport is being on the way (`checked_in`), not having left:
///   only boarding the transport out is `boarded`;
/// - giving up one leg while the other is still held leaves the person seated (`assigned`, or
///   `notified` if they had been told), not back at `verified`;
/// - a new seat is `assigned` until its notice is accepted (the outbox moves it to
///   `notified`), unless the person is already on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneyStatus {
    seats: Vec<HeldSeat>,
    status: PersonStatus,
}

impl JourneyStatus {
    /// Starts from the person's stored status and the live seats they hold now.
    pub fn new(status: PersonStatus, seats: Vec<HeldSeat>) -> Self {
        JourneyStatus { seats, status }
    }

    pub fn status(&self) -> PersonStatus {
        self.status
    }

    /// Applies one seat event (`feeder`: whether its transport feeds another) and returns the
    /// person's status after it. An event the store would refuse (a scan of a pass not held)
    /// changes no seat here; the store's own rules turn it away.
    pub fn apply(&mut self, kind: SeatEventKind, pass: PassId, feeder: bool) -> PersonStatus {
        match kind {
            SeatEventKind::Seated => self.seats.push(HeldSeat {
                pass,
                feeder,
                state: SeatEventKind::Seated,
            }),
            SeatEventKind::Unseated | SeatEventKind::NoShow => {
                self.seats.retain(|s| s.pass != pass);
            }
            SeatEventKind::CheckedIn | SeatEventKind::Boarded => {
                if let Some(seat) = self.seats.iter_mut().find(|s| s.pass == pass) {
                    seat.state = kind;
                }
            }
        }
        let held = |wanted: fn(&HeldSeat) -> bool| self.seats.iter().any(wanted);
        self.status = if self.seats.is_empty() {
            PersonStatus::Verified
        } else if held(|s| !s.feeder && s.state == SeatEventKind::Boarded) {
            PersonStatus::Boarded
        } else if held(|s| s.state.is_scanned()) {
            // Checked in on a leg, or aboard the convoy to the airport: on the way.
            PersonStatus::CheckedIn
        } else if kind == SeatEventKind::Seated {
            PersonStatus::Assigned
        } else if matches!(
            self.status,
            PersonStatus::Notified | PersonStatus::CheckedIn | PersonStatus::Boarded
        ) {
            // The leg given up was told with the rest of the journey.
            PersonStatus::Notified
        } else {
            PersonStatus::Assigned
        };
        self.status
    }
}

/// One change of one person's seat.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SeatEvent {
    pub at: Timestamp,
    pub actor: Actor,
    pub kind: SeatEventKind,
    pub person: PersonId,
    /// The household's reference (the triage case the person travels with).
    pub household: String,
    pub transport: TransportId,
    /// The household's priority class when it was seated (1 first; 0 when not planned, e.g.
    /// a check-in), so a manifest shows the class the plan served.
    pub class: u8,
    /// The boarding pass the event concerns (issued by `seated`, used by `checked_in`).
    pub pass: PassId,
    /// Why, in staff's words ("plan 3", "hub ALA is closed at departure", "no-show at 14:00").
    pub reason: String,
    /// The seat's number on the transport (1 first), given when the person is seated and kept
    /// by every later event of the seat; `None` for seats given before seats were numbered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat_number: Option<u32>,
}

/// A seat event as stored, with its place in the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredSeatEvent {
    pub seq: i64,
    #[serde(flatten)]
    pub event: SeatEvent,
}

/// A boarding pass's identity: random, so it cannot be guessed from another.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PassId(pub uuid::Uuid);

impl PassId {
    pub fn random() -> Self {
        PassId(uuid::Uuid::new_v4())
    }

    /// The pass's short code, for people to read and type where no QR code can be scanned:
    /// the first `PASS_CODE_CHARS` hexadecimal digits of its id, in capitals ("3F9A0C").
    pub fn code(&self) -> String {
        self.0.simple().to_string()[..crate::PASS_CODE_CHARS].to_ascii_uppercase()
    }
}

impl fmt::Display for PassId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for PassId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(PassId(s.parse()?))
    }
}

/// Where one person stands in the seat log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Seat {
    pub person: PersonId,
    pub household: String,
    pub transport: TransportId,
    pub class: u8,
    pub pass: PassId,
    /// The last event: seated, checked_in or boarded (an unseated or no-show person has no
    /// seat).
    pub state: SeatEventKind,
    /// When the last event happened.
    pub since: Timestamp,
    /// When the seat was published, i.e. when the person was told (a scan does not change it).
    pub seated_at: Timestamp,
    /// The seat's number on the transport, printed on the pass and the manifest.
    pub number: Option<u32>,
}

impl Seat {
    /// The next event of this seat (a scan, a release, a no-show): same person, household,
    /// transport, class and pass.
    pub fn next_event(
        &self,
        kind: SeatEventKind,
        at: Timestamp,
        actor: crate::Actor,
        reason: String,
    ) -> SeatEvent {
        SeatEvent {
            at,
            actor,
            kind,
            person: self.person,
            household: self.household.clone(),
            transport: self.transport,
            class: self.class,
            pass: self.pass,
            reason,
            seat_number: self.number,
        }
    }
}

/// The current seats, folded from the log: at most one per person and transport (a journey
/// of two legs gives a person a seat on the convoy and one on the flight).
#[derive(Debug, Clone, Default)]
pub struct SeatBook {
    pub seats: HashMap<(PersonId, TransportId), Seat>,
    /// The last sequence number folded in.
    pub seq: i64,
}

impl SeatBook {
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a StoredSeatEvent>) -> Self {
        let mut book = SeatBook::default();
        for e in events {
            book.apply(e);
        }
        book
    }

    pub fn apply(&mut self, stored: &StoredSeatEvent) {
        let e = &stored.event;
        self.seq = self.seq.max(stored.seq);
        match e.kind {
            SeatEventKind::Seated => {
                self.seats.insert(
                    (e.person, e.transport),
                    Seat {
                        person: e.person,
                        household: e.household.clone(),
                        transport: e.transport,
                        class: e.class,
                        pass: e.pass,
                        state: SeatEventKind::Seated,
                        since: e.at,
                        seated_at: e.at,
                        number: e.seat_number,
                    },
                );
            }
            SeatEventKind::Unseated | SeatEventKind::NoShow => {
                let key = (e.person, e.transport);
                if self.seats.get(&key).is_some_and(|s| s.pass == e.pass) {
                    self.seats.remove(&key);
                }
            }
            SeatEventKind::CheckedIn | SeatEventKind::Boarded => {
                if let Some(seat) = self.seats.get_mut(&(e.person, e.transport))
                    && seat.pass == e.pass
                {
                    seat.state = e.kind;
                    seat.since = e.at;
                }
            }
        }
    }

    /// A person's live seats (one per leg of their journey).
    pub fn seats_of(&self, person: PersonId) -> impl Iterator<Item = &Seat> {
        self.seats.values().filter(move |s| s.person == person)
    }

    /// The seats on one transport.
    pub fn on(&self, transport: TransportId) -> impl Iterator<Item = &Seat> {
        self.seats
            .values()
            .filter(move |s| s.transport == transport)
    }

    /// Seat numbers to give out, each transport's lowest free one first: the numbers of live
    /// seats are taken, except those of `released` passes (a batch that releases and seats
    /// gives the freed numbers again). A use case that seats people appends the numbers it took
    /// only while the log is still at this book's head, so two writers never give one number
    /// twice.
    pub fn numbering(&self, released: &std::collections::HashSet<PassId>) -> SeatNumbering {
        let mut taken: HashMap<TransportId, std::collections::BTreeSet<u32>> = HashMap::new();
        for seat in self.seats.values() {
            if let Some(number) = seat.number
                && !released.contains(&seat.pass)
            {
                taken.entry(seat.transport).or_default().insert(number);
            }
        }
        SeatNumbering { taken }
    }
}

/// Hands out seat numbers on transports (see [`SeatBook::numbering`]).
#[derive(Debug, Clone, Default)]
pub struct SeatNumbering {
    taken: HashMap<TransportId, std::collections::BTreeSet<u32>>,
}

impl SeatNumbering {
    /// The lowest number not yet taken on `transport` (1 first), now taken. Seating a
    /// household's people one after another gives them neighbouring numbers where the
    /// transport has them free.
    pub fn take(&mut self, transport: TransportId) -> u32 {
        let taken = self.taken.entry(transport).or_default();
        let number = (1..)
            .find(|n| !taken.contains(n))
            .expect("fewer than u32::MAX seats are taken");
        taken.insert(number);
        number
    }
}

/// What a boarding pass says; the token carries it signed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PassClaims {
    pub pass: PassId,
    pub person: PersonId,
    pub household: String,
    pub transport: TransportId,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    #[error(
        "this is not an evac boarding pass (it should start with '{PASS_TOKEN_PREFIX}'); without a scanner, type the pass's 6-character code and choose the transport"
    )]
    NotAPass,
    #[error("the boarding pass is damaged or incomplete; scan it again or type it in full")]
    Malformed,
    #[error("the signature does not match: this boarding pass is forged or altered")]
    Forged,
}

impl PassError {
    pub const ALL: [PassError; 3] = [PassError::NotAPass, PassError::Malformed, PassError::Forged];

    /// The refusal a field error's reason states, if it is one of these: a desk in another
    /// language says it in its own words rather than the token field's usual advice (a
    /// forged pass read «scan the pass or type its code» on the Russian desk).
    pub fn of(reason: &str) -> Option<PassError> {
        PassError::ALL.into_iter().find(|e| e.to_string() == reason)
    }

    /// Its message's key: `pass-not-a-pass`, `pass-malformed`, `pass-forged`.
    pub fn key(self) -> &'static str {
        match self {
            PassError::NotAPass => "pass-not-a-pass",
            PassError::Malformed => "pass-malformed",
            PassError::Forged => "pass-forged",
        }
    }
}

/// Every token starts so; the version lets a later format coexist.
pub const PASS_TOKEN_PREFIX: &str = "EVAC1.";

/// Signs and reads boarding passes. The public half verifies offline.
pub struct PassSigner {
    key: SigningKey,
}

impl PassSigner {
    /// From the 32 secret bytes the store keeps.
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        PassSigner {
            key: SigningKey::from_bytes(secret),
        }
    }

    /// A new key from the operating system's randomness.
    pub fn generate() -> Self {
        PassSigner::from_secret(&rand::random())
    }

    /// The 32 secret bytes, for the key file that keeps them.
    pub fn secret(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The public key, base64url, as field officers receive it.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes())
    }

    /// The token printed as the pass's QR code: `EVAC1.<claims>.<signature>`, base64url.
    pub fn sign(&self, claims: &PassClaims) -> String {
        let body = format!(
            "{}|{}|{}|{}",
            claims.pass, claims.person, claims.household, claims.transport
        );
        let signature = self.key.sign(body.as_bytes());
        format!(
            "{PASS_TOKEN_PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(body),
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

/// Verifies a token with the public keys in use (base64url, several separated by commas: after
/// a rotation, passes signed by the retired key stay valid until their transport departs) and
/// reads its claims. Needs no store and no network: this is what a field officer's device runs.
pub fn verify_pass(public_keys: &str, token: &str) -> Result<PassClaims, PassError> {
    let mut outcome = Err(PassError::Malformed);
    for key in public_keys.split(',') {
        outcome = verify_pass_with(key, token);
        if !matches!(outcome, Err(PassError::Forged)) {
            return outcome;
        }
    }
    outcome
}

fn verify_pass_with(public_key: &str, token: &str) -> Result<PassClaims, PassError> {
    let key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(public_key.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or(PassError::Malformed)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| PassError::Malformed)?;
    let rest = token
        .trim()
        .strip_prefix(PASS_TOKEN_PREFIX)
        .ok_or(PassError::NotAPass)?;
    let (body, signature) = rest.split_once('.').ok_or(PassError::Malformed)?;
    let body = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| PassError::Malformed)?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or(PassError::Malformed)?;
    key.verify(&body, &Signature::from_bytes(&signature))
        .map_err(|_| PassError::Forged)?;
    // Signed by us, so well formed; a parse failure here means a key was misused.
    let body = String::from_utf8(body).map_err(|_| PassError::Malformed)?;
    let mut parts = body.split('|');
    let mut next = || parts.next().ok_or(PassError::Malformed);
    Ok(PassClaims {
        pass: next()?.parse().map_err(|_| PassError::Malformed)?,
        person: next()?.parse().map_err(|_| PassError::Malformed)?,
        household: next()?.to_string(),
        transport: next()?.parse().map_err(|_| PassError::Malformed)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> PassClaims {
        PassClaims {
            pass: PassId::random(),
            person: PersonId::new_v7(),
            household: "K7P3M9XQ2".into(),
            transport: TransportId::new_v7(),
        }
    }

    #[test]
    fn a_journey_reads_as_a_whole_not_as_the_last_leg_touched() {
        use PersonStatus as P;
        use SeatEventKind as K;
        let (convoy, flight) = (PassId::random(), PassId::random());
        let mut journey = JourneyStatus::new(P::Verified, vec![]);
        assert_eq!(journey.apply(K::Seated, convoy, true), P::Assigned);
        assert_eq!(journey.apply(K::Seated, flight, false), P::Assigned);
        // Aboard the convoy to the airport is on the way, not out of the country.
        assert_eq!(journey.apply(K::CheckedIn, convoy, true), P::CheckedIn);
        assert_eq!(journey.apply(K::Boarded, convoy, true), P::CheckedIn);
        assert_eq!(journey.apply(K::CheckedIn, flight, false), P::CheckedIn);
        assert_eq!(journey.apply(K::Boarded, flight, false), P::Boarded);

        // Giving up one leg leaves the other held: seated, and told if they had been.
        let mut told = JourneyStatus::new(
            P::Notified,
            vec![
                HeldSeat {
                    pass: convoy,
                    feeder: true,
                    state: K::Seated,
                },
                HeldSeat {
                    pass: flight,
                    feeder: false,
                    state: K::Seated,
                },
            ],
        );
        assert_eq!(told.apply(K::Unseated, convoy, true), P::Notified);
        assert_eq!(told.apply(K::NoShow, flight, false), P::Verified);
        let mut untold = JourneyStatus::new(
            P::Assigned,
            vec![
                HeldSeat {
                    pass: convoy,
                    feeder: true,
                    state: K::CheckedIn,
                },
                HeldSeat {
                    pass: flight,
                    feeder: false,
                    state: K::Seated,
                },
            ],
        );
        assert_eq!(untold.apply(K::Unseated, flight, false), P::CheckedIn);
        // A new flight for someone already on the convoy keeps them on the way.
        assert_eq!(
            untold.apply(K::Seated, PassId::random(), false),
            P::CheckedIn
        );

        // A journey of one leg reads as the seat did before journeys existed.
        let mut direct = JourneyStatus::new(P::Registered, vec![]);
        let pass = PassId::random();
        for (kind, status) in [
            (K::Seated, P::Assigned),
            (K::CheckedIn, P::CheckedIn),
            (K::Unseated, P::Verified),
        ] {
            assert_eq!(direct.apply(kind, pass, false), status, "{kind:?}");
        }
    }

    #[test]
    fn a_signed_pass_verifies_with_the_public_key_and_reads_back() {
        let signer = PassSigner::from_secret(&[7; 32]);
        let c = claims();
        let token = signer.sign(&c);
        assert!(token.starts_with(PASS_TOKEN_PREFIX));
        assert_eq!(verify_pass(&signer.public_key(), &token), Ok(c));
    }

    #[test]
    fn after_a_rotation_both_keys_verify_and_a_foreign_one_still_fails() {
        let (old, new, foreign) = (
            PassSigner::generate(),
            PassSigner::generate(),
            PassSigner::generate(),
        );
        let keys = format!("{},{}", new.public_key(), old.public_key());
        let c = claims();
        assert_eq!(verify_pass(&keys, &old.sign(&c)), Ok(c.clone()));
        assert_eq!(verify_pass(&keys, &new.sign(&c)), Ok(c.clone()));
        assert_eq!(
            verify_pass(&keys, &foreign.sign(&c)),
            Err(PassError::Forged)
        );
        assert_eq!(
            verify_pass(&new.public_key(), &old.sign(&c)),
            Err(PassError::Forged),
            "a pruned key no longer verifies"
        );
        assert_eq!(
            PassSigner::from_secret(&old.secret()).public_key(),
            old.public_key()
        );
    }

    #[test]
    fn an_altered_or_foreign_pass_is_refused() {
        let signer = PassSigner::from_secret(&[7; 32]);
        let token = signer.sign(&claims());
        // Another household written into the body, the signature kept.
        let (head, signature) = token.rsplit_once('.').unwrap();
        let body = URL_SAFE_NO_PAD
            .decode(head.strip_prefix(PASS_TOKEN_PREFIX).unwrap())
            .unwrap();
        let forged_body = String::from_utf8(body)
            .unwrap()
            .replace("K7P3M9XQ2", "AAAAAAAAA");
        let forged = format!(
            "{PASS_TOKEN_PREFIX}{}.{signature}",
            URL_SAFE_NO_PAD.encode(forged_body)
        );
        assert_eq!(
            verify_pass(&signer.public_key(), &forged),
            Err(PassError::Forged)
        );
        // Signed by another key.
        let other = PassSigner::from_secret(&[8; 32]).sign(&claims());
        assert_eq!(
            verify_pass(&signer.public_key(), &other),
            Err(PassError::Forged)
        );
        assert_eq!(
            verify_pass(&signer.public_key(), "hello"),
            Err(PassError::NotAPass)
        );
        assert_eq!(
            verify_pass(&signer.public_key(), &token[..token.len() - 5]),
            Err(PassError::Malformed)
        );
    }

    #[test]
    fn the_book_follows_a_person_from_seat_to_boarding_and_drops_released_seats() {
        let (person, t1, t2) = (
            PersonId::new_v7(),
            TransportId::new_v7(),
            TransportId::new_v7(),
        );
        let (p1, p2) = (PassId::random(), PassId::random());
        let event = |seq, kind, transport, pass| StoredSeatEvent {
            seq,
            event: SeatEvent {
                at: Timestamp::from_unix_micros(seq * 1_000_000),
                actor: Actor::System,
                kind,
                person,
                household: "H".into(),
                transport,
                class: 1,
                pass,
                reason: String::new(),
                seat_number: None,
            },
        };
        let log = [
            event(1, SeatEventKind::Seated, t1, p1),
            event(2, SeatEventKind::Unseated, t1, p1),
            event(3, SeatEventKind::Seated, t2, p2),
            // A late event about the old pass changes nothing.
            event(4, SeatEventKind::CheckedIn, t1, p1),
            event(5, SeatEventKind::CheckedIn, t2, p2),
        ];
        let book = SeatBook::from_events(&log);
        let seat = &book.seats[&(person, t2)];
        assert_eq!(
            (seat.transport, seat.pass, seat.state),
            (t2, p2, SeatEventKind::CheckedIn)
        );
        assert_eq!(book.on(t1).count(), 0);
        let book = SeatBook::from_events(&[
            event(1, SeatEventKind::Seated, t1, p1),
            event(2, SeatEventKind::NoShow, t1, p1),
        ]);
        assert!(book.seats.is_empty());
    }

    #[test]
    fn numbering_gives_each_transport_its_lowest_free_numbers_and_reuses_released_ones() {
        let (t1, t2) = (TransportId::new_v7(), TransportId::new_v7());
        let seat = |number: u32, transport| {
            let person = PersonId::new_v7();
            let pass = PassId::random();
            let event = SeatEvent {
                at: Timestamp::from_unix_micros(1),
                actor: Actor::System,
                kind: SeatEventKind::Seated,
                person,
                household: "H".into(),
                transport,
                class: 1,
                pass,
                reason: String::new(),
                seat_number: Some(number),
            };
            (person, StoredSeatEvent { seq: 1, event })
        };
        let (first, one) = seat(1, t1);
        let first_pass = one.event.pass;
        let (_, three) = seat(3, t1);
        let book = SeatBook::from_events(&[one, three]);
        assert_eq!(
            book.seats[&(first, t1)].number,
            Some(1),
            "the fold keeps the number"
        );
        let mut numbers = book.numbering(&Default::default());
        assert_eq!(
            [numbers.take(t1), numbers.take(t1), numbers.take(t2)],
            [2, 4, 1],
            "the gaps first, then after the last; another transport starts at 1"
        );
        let released = std::collections::HashSet::from([first_pass]);
        assert_eq!(
            book.numbering(&released).take(t1),
            1,
            "a released seat's number is free"
        );
    }
}
