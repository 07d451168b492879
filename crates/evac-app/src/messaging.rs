//! Talking to requesters and hearing them: notices queued with the change they tell of, sent
//! by a sender per channel on every node, replies read and acted on.
//!
//! A seat, a moved seat or a lost seat is told by a notice queued in the same transaction as
//! the seat change (`Store::append_seat_events_telling`): a crash between the two cannot lose
//! one. Notices are rendered when queued (`evac-notify`), in the request's language, and sent
//! by the channel the request can be reached on: SMS through Kannel where it is configured,
//! otherwise the demo's log channel, which only records what would have been sent. A sender
//! claims due messages for a lease (`SEND_LEASE_MS`), paces itself to its channel's rate,
//! retries with backoff (`evac_notify::Retry`) and gives up after its bound; a person becomes
//! `notified` only when a channel took their seat notice.
//!
//! What comes back (an SMS, later e-mail) is stored first, then read: `STATUS` is answered,
//! `NO` withdraws the request (giving back its seats), `YES` confirms it; anything else waits
//! in the inbox for a human, attached to its request when its reference code or its sender
//! (a number evac wrote to) says which, unmatched otherwise.

use std::sync::Arc;
use std::time::Duration;

use evac_model::{Actor, InboundId, MessageId, PersonStatus, ReferenceCode, RequestId, Timestamp};
use evac_notify::{Notice, Reply, Retry, Segments};
use evac_store::{
    AuditEvent, DeliveryReport, InboxWaiting, MessageFilter, MessageState, NewInbound, NewMessage,
    SendOutcome, StoredInbound, StoredMessage,
};

use crate::casework::Changer;
use crate::{App, AppError, Staff};

/// A sender holds the messages it claimed this long; if it dies, another takes them after.
/// Long enough for a channel's slowest answer and its delivery report.
pub const SEND_LEASE_MS: i64 = 60_000;
/// How long a gateway may take to answer one message without slowing the sender below its
/// rate (ms): Kannel answers some `sendsms` calls with a delivery report in about 40 ms.
pub const SLOW_ANSWER_MS: u64 = 50;
/// Sends a sender ever has started and not seen answered.
pub const SENDS_IN_FLIGHT_MAX: usize = 16;

/// Sends a sender at `messages_per_second` keeps started and unanswered: enough that answers
/// of [`SLOW_ANSWER_MS`] keep the pace (1 at 10/s, 3 at 50/s, 10 at 200/s), no more. After a
/// crash these are the messages whose fate evac cannot know (the channel may have taken
/// them): at most this many can go out twice.
pub fn sends_in_flight(messages_per_second: u32) -> usize {
    let needed = (u64::from(messages_per_second) * SLOW_ANSWER_MS).div_ceil(1_000);
    (needed as usize).clamp(1, SENDS_IN_FLIGHT_MAX)
}
/// The templates that tell of a seat: one no channel could deliver queues a callback.
const SEAT_TEMPLATES: [&str; 3] = ["seat", "seat-moved", "seat-lost"];
/// A sender with nothing to send looks again after this long (or at once when woken).
pub const SENDER_IDLE_POLL_MS: u64 = 1_000;
/// The log channel "sends" this many messages a second (it only records them).
const LOG_MESSAGES_PER_S: u32 = 1_000;
/// How long a channel's answer may take before the attempt counts as failed.
const CHANNEL_TIMEOUT_MS: u64 = 10_000;
/// An inbound message's text is kept up to this many characters.
pub const INBOUND_TEXT_CHARS_MAX: usize = 2_000;
/// Requests whose acknowledgements are queued in one transaction.
const ACKS_SETTLED_AT_ONCE: u32 = 500;
/// A callback secret shorter than this is refused (callbacks are then refused too).
pub const CALLBACK_SECRET_CHARS_MIN: usize = 16;
/// Inbound and outbound messages listed at once.
pub const MESSAGES_LISTED_MAX: u32 = 200;
/// Messages to a number looked at to tell which requests a reply without a code answers.
const REPLY_LOOKBACK_MESSAGES: u32 = 50;
/// Codes listed in the answer to a reply that could be about several requests.
const AMBIGUOUS_REFERENCES_LISTED_MAX: usize = 5;

/// Kannel's HTTP interfaces as this deployment reaches them.
#[derive(Debug, Clone, PartialEq)]
pub struct KannelSettings {
    /// `http://127.0.0.1:13013/cgi-bin/sendsms`
    pub sendsms_url: String,
    pub username: String,
    pub password: String,
    /// The base URL Kannel reaches evac at, for delivery reports (`http://127.0.0.1:8080`).
    pub callback_url: String,
    /// The SMS centre's rate: messages a second this node's sender sends at most.
    pub messages_per_second: u32,
    /// How long after a restart Kannel's reports of the sends a crash cut may still come (s).
    /// smsbox retries a report evac could not take once a second (`http-queue-delay`) for
    /// `http-request-retry` tries (600 in `ops/kannel/kannel.conf.in`: evac may be down for up
    /// to 10 minutes), so once evac is back each report comes within seconds. A restarted node
    /// holds back what it had claimed this long, and a message the SMS centre took is settled
    /// by its report instead of being sent twice; a send that timed out waits as long before
    /// it is tried again.
    pub reports_within_s: u32,
}

/// Kannel's reports of a send cut by a crash are awaited this long after the restart by
/// default (s): smsbox in `ops/kannel/kannel.conf.in` retries each report every second.
pub const KANNEL_REPORTS_WITHIN_S: u32 = 45;

/// How evac reaches requesters.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagingSettings {
    /// Where requesters look up their status and pass (`https://evac.example.org`).
    pub public_url: String,
    /// SMS through Kannel; without it (and without e-mail), notices go to the log channel.
    pub sms: Option<KannelSettings>,
    /// E-mail out through an SMTP relay, in from a mailbox.
    pub email: Option<crate::mail::EmailSettings>,
    /// A messenger bot (Telegram's Bot API), for people who link their chat to their number.
    pub messenger: Option<crate::messenger::MessengerSettings>,
    /// The secret channels send with their callbacks (delivery reports, inbound messages);
    /// without one, callbacks are refused.
    pub callback_secret: Option<String>,
    /// This node's name in claims (several nodes share one outbox).
    pub node: String,
    /// Minutes before departure a household must be at the hub (the plan's check-in margin).
    pub be_there_minutes: i64,
}

impl Default for MessagingSettings {
    fn default() -> Self {
        MessagingSettings {
            public_url: "http://127.0.0.1:8080".into(),
            sms: None,
            email: None,
            messenger: None,
            callback_secret: None,
            node: format!("node-{}", uuid::Uuid::new_v4().simple()),
            be_there_minutes: i64::from(evac_plan::Settings::default().check_in_minutes),
        }
    }
}

/// Why a channel did not take a message.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelError {
    /// Worth trying again (the gateway is down, busy, or slow).
    Transient(String),
    /// Never worth trying again (the number is refused, the credentials are wrong).
    Permanent(String),
}

/// A way of reaching people. Implementations only carry text; the outbox decides what and when.
#[async_trait::async_trait]
pub trait Channel: Send + Sync {
    /// The name messages are queued under (`sms`, `log`).
    fn name(&self) -> &'static str;
    /// At most this many messages a second.
    fn messages_per_second(&self) -> u32;
    /// Sends one message; the answer is the channel's id for it, if it gives one.
    async fn send(&self, message: &StoredMessage) -> Result<Option<String>, ChannelError>;
    /// How long after a crash the channel's report of a send the crash cut may still come
    /// (ms): a restarted sender holds back what it had claimed this long, so a message the
    /// channel took is settled by its report, not sent twice. 0 for a channel that sends no
    /// such report: its sends cut by a crash go again at once.
    fn reports_within_ms(&self) -> u64 {
        0
    }
}

/// The demo's channel: records what would have been sent (the text stays in the outbox, for
/// the desk to show), sends nothing. Clearly labelled wherever a message is shown.
pub struct LogChannel;

#[async_trait::async_trait]
impl Channel for LogChannel {
    fn name(&self) -> &'static str {
        "log"
    }

    fn messages_per_second(&self) -> u32 {
        LOG_MESSAGES_PER_S
    }

    async fn send(&self, message: &StoredMessage) -> Result<Option<String>, ChannelError> {
        // No recipient or text in the log: they are personal data.
        tracing::debug!(message_id = %message.id, template = %message.template, parts = message.parts, "log channel: recorded, not sent");
        Ok(Some(format!("log:{}", message.id)))
    }
}

/// SMS through Kannel's `sendsms` interface, with a delivery report asked back to evac.
pub struct KannelChannel {
    settings: KannelSettings,
    callback_secret: String,
    http: reqwest::Client,
}

impl KannelChannel {
    pub fn new(settings: KannelSettings, callback_secret: String) -> Result<Self, AppError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(CHANNEL_TIMEOUT_MS))
            .build()
            .map_err(|e| AppError::BadInput(format!("cannot make the SMS client: {e}")))?;
        Ok(KannelChannel {
            settings,
            callback_secret,
            http,
        })
    }

    /// The `sendsms` URL for one message: UTF-8 text, UCS-2 when it is not GSM-7, a delivery
    /// report (final states: delivered, undelivered) back to evac with the message's id.
    fn url(&self, message: &StoredMessage) -> String {
        let dlr = format!(
            "{}/api/v1/channels/sms/delivery?{}",
            self.settings.callback_url.trim_end_matches('/'),
            serde_urlencoded::to_string([
                ("message", message.id.to_string().as_str()),
                ("secret", self.callback_secret.as_str()),
            ])
            .unwrap_or_default()
        ) + "&status=%d";
        let coding = match Segments::of(&message.body).encoding {
            evac_notify::SmsEncoding::Gsm7 => "0",
            evac_notify::SmsEncoding::Ucs2 => "2",
        };
        let max_messages = message.parts.max(1).to_string();
        // 1 delivered, 2 undelivered, 8 taken by the SMS centre, 16 refused by it.
        let dlr_mask = (1 | 2 | 8 | 16).to_string();
        let query = serde_urlencoded::to_string([
            ("username", self.settings.username.as_str()),
            ("password", self.settings.password.as_str()),
            ("to", message.recipient.as_str()),
            ("text", message.body.as_str()),
            ("charset", "UTF-8"),
            ("coding", coding),
            ("max-messages", max_messages.as_str()),
            ("dlr-mask", dlr_mask.as_str()),
            ("dlr-url", dlr.as_str()),
        ])
        .unwrap_or_default();
        format!("{}?{query}", self.settings.sendsms_url)
    }
}

#[async_trait::async_trait]
impl Channel for KannelChannel {
    fn name(&self) -> &'static str {
        "sms"
    }

    fn messages_per_second(&self) -> u32 {
        self.settings.messages_per_second.max(1)
    }

    fn reports_within_ms(&self) -> u64 {
        u64::from(self.settings.reports_within_s) * 1_000
    }

    async fn send(&self, message: &StoredMessage) -> Result<Option<String>, ChannelError> {
        let answer = self
            .http
            .get(self.url(message))
            .send()
            .await
            // Without the URL: it carries the password, the callback secret, the number and
            // the text, none of which belong in an error staff read.
            .map_err(|e| {
                ChannelError::Transient(format!("Kannel is unreachable: {}", e.without_url()))
            })?;
        let status = answer.status();
        let body = answer.text().await.unwrap_or_default();
        let said = body.trim().chars().take(200).collect::<String>();
        match status.as_u16() {
            // "0: Accepted for delivery" (202), "3: Queued for later delivery" (202).
            200..=299 => Ok(None),
            // Wrong credentials are a setting to fix, not a reason to give up the messages.
            401 | 403 => Err(ChannelError::Transient(format!(
                "Kannel refused evac's credentials ({status}): check [sms] username and password"
            ))),
            // A malformed number or text: trying again changes nothing.
            400..=499 if status.as_u16() != 429 => Err(ChannelError::Permanent(format!(
                "Kannel refused it ({status}): {said}"
            ))),
            _ => Err(ChannelError::Transient(format!(
                "Kannel could not take it ({status}): {said}"
            ))),
        }
    }
}

/// A way to reach a household: its request, the reference it knows, its language, and where
/// to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Contact {
    pub(crate) request: RequestId,
    pub(crate) reference: String,
    pub(crate) language: String,
    pub(crate) channel: &'static str,
    pub(crate) recipient: String,
}

impl Contact {
    /// A request's requester at `recipient` on `channel`, in the request's language.
    pub(crate) fn of(
        request: &evac_model::Request,
        channel: &'static str,
        recipient: String,
    ) -> Contact {
        Contact {
            request: request.id,
            reference: request.reference.to_string(),
            language: request
                .body
                .language
                .as_ref()
                .map_or("en".to_string(), |l| l.as_str().to_string()),
            channel,
            recipient,
        }
    }
}

/// What evac did with an inbound message.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Received {
    pub id: InboundId,
    /// False when the channel said the same message before (nothing was done again).
    pub new: bool,
    pub request: Option<RequestId>,
    /// `status`, `yes`, `no`, `other`.
    pub understood: String,
    /// `attached`, `to_read`, `unmatched`.
    pub state: String,
}

/// Whether a caller's secret is the configured one (long enough to count); compared as
/// digests, so the comparison takes as long whatever the secret says.
pub(crate) fn secret_matches(given: &str, expected: Option<&str>) -> Result<(), AppError> {
    use sha2::Digest;
    let expected = expected
        .filter(|s| s.len() >= CALLBACK_SECRET_CHARS_MIN)
        .ok_or(AppError::Unauthenticated)?;
    if sha2::Sha256::digest(given) == sha2::Sha256::digest(expected) {
        Ok(())
    } else {
        Err(AppError::Unauthenticated)
    }
}

/// The hub's time zone, from its country (the demo's hubs are in Kazakhstan and its
/// neighbours); UTC where evac does not know one.
pub(crate) fn zone_of_country(country: &str) -> jiff::tz::TimeZone {
    let name = match country {
        "KZ" => "Asia/Almaty",
        "KG" => "Asia/Bishkek",
        "UZ" => "Asia/Tashkent",
        "TJ" => "Asia/Dushanbe",
        "RU" => "Europe/Moscow",
        "IT" => "Europe/Rome",
        _ => "UTC",
    };
    jiff::tz::TimeZone::get(name).unwrap_or_else(|e| {
        // Local times (notices, curfews) are then read in UTC: say so where staff look.
        tracing::warn!(zone = name, error = %e, "no time zone data for {name} on this machine (install tzdata): local times are read as UTC");
        jiff::tz::TimeZone::UTC
    })
}

/// A hub's time zone, by its code among `hubs` (UTC for a hub not known).
pub(crate) fn zone_of_hub(hubs: &[evac_model::Hub], code: &str) -> jiff::tz::TimeZone {
    hubs.iter()
        .find(|h| h.code == code)
        .map_or(jiff::tz::TimeZone::UTC, |h| {
            zone_of_country(&h.country.to_string())
        })
}

/// "07.01 14:00": a moment as people at the hub read it.
pub(crate) fn local_time(at: Timestamp, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_microsecond(at.unix_micros())
        .map(|t| t.to_zoned(zone.clone()).strftime("%d.%m %H:%M").to_string())
        .unwrap_or_else(|_| at.to_string())
}

/// A short, readable form of a pass's id for a notice (the pass itself is on the status page);
/// the gate takes it as the pass ([`evac_model::Scan::Code`]).
pub(crate) fn pass_code(pass: evac_model::PassId) -> String {
    pass.code()
}

impl App {
    fn messaging(&self) -> &MessagingSettings {
        &self.settings.messaging
    }

    /// The channels this node sends through: the log always, SMS where Kannel is configured.
    pub fn channels(&self) -> Result<Vec<Arc<dyn Channel>>, AppError> {
        let mut channels: Vec<Arc<dyn Channel>> = vec![Arc::new(LogChannel)];
        if let Some(sms) = &self.messaging().sms {
            let secret = self.messaging().callback_secret.clone().ok_or_else(|| {
                AppError::BadInput(
                    "SMS needs a callback secret (messaging.callback_secret) for Kannel's delivery reports"
                        .into(),
                )
            })?;
            channels.push(Arc::new(KannelChannel::new(sms.clone(), secret)?));
        }
        if let Some(email) = &self.messaging().email {
            channels.push(Arc::new(crate::mail::EmailChannel::new(email)?));
        }
        if let Some(messenger) = &self.messaging().messenger {
            channels.push(Arc::new(crate::messenger::MessengerChannel::new(
                messenger.clone(),
            )?));
        }
        Ok(channels)
    }

    /// Where a request can be reached: by SMS at its submitter's first phone (else its first
    /// person's) where SMS is configured, else by e-mail where e-mail is, else the log channel
    /// records what would have been sent to the phone or address.
    pub(crate) fn contact_of(&self, request: &evac_model::Request) -> Option<Contact> {
        let body = &request.body;
        let phone = body
            .submitter
            .phones
            .first()
            .or_else(|| body.party.iter().flat_map(|p| &p.phones).next())
            .map(|p| p.e164.to_string());
        let email = body
            .submitter
            .email
            .as_ref()
            .or_else(|| body.party.iter().find_map(|p| p.email.as_ref()))
            .map(|e| e.as_str().to_lowercase());
        let (channel, recipient) = match (&phone, &email) {
            (Some(phone), _) if self.messaging().sms.is_some() => ("sms", phone.clone()),
            (_, Some(email)) if self.messaging().email.is_some() => ("email", email.clone()),
            (Some(phone), _) => ("log", phone.clone()),
            (None, Some(email)) => ("log", email.clone()),
            (None, None) => return None,
        };
        Some(Contact::of(request, channel, recipient))
    }

    /// The channel an answer goes back by: the one the message came by, where this
    /// deployment sends through it; the log channel otherwise.
    fn answering_channel(&self, came_by: &str) -> &'static str {
        match came_by {
            "sms" if self.messaging().sms.is_some() => "sms",
            "email" if self.messaging().email.is_some() => "email",
            "telegram" if self.messaging().messenger.is_some() => "telegram",
            _ => "log",
        }
    }

    /// The contacts of a household's requests, one per recipient.
    async fn contacts_of(&self, requests: &[RequestId]) -> Result<Vec<Contact>, AppError> {
        let mut contacts: Vec<Contact> = Vec::new();
        for &id in requests {
            let Some(stored) = self.store.request(id).await? else {
                continue;
            };
            if let Some(c) = self.reach(&stored.request).await?
                && !contacts.iter().any(|k| k.recipient == c.recipient)
            {
                contacts.push(c);
            }
        }
        Ok(contacts)
    }

    pub(crate) fn message(
        &self,
        contact: &Contact,
        notice: &Notice,
        dedup: &str,
        persons: Vec<evac_model::PersonId>,
        at: Timestamp,
    ) -> NewMessage {
        let body = notice.render(&contact.language);
        NewMessage {
            id: MessageId::new_v7(),
            dedup_key: format!("{dedup}:{}", contact.recipient),
            request: Some(contact.request),
            persons,
            channel: contact.channel.to_string(),
            recipient: contact.recipient.clone(),
            language: contact.language.clone(),
            template: notice.template().to_string(),
            parts: if contact.channel == "sms" {
                Segments::of(&body).parts as u32
            } else {
                1
            },
            body,
            priority: notice.priority(),
            created_at: at,
        }
    }

    /// An answer to an inbound message no request is known for (a stranger, a messenger chat
    /// not linked yet), in the language it is known to read.
    pub(crate) fn answer_to_stranger(
        &self,
        channel: &'static str,
        recipient: &str,
        language: &str,
        notice: &Notice,
        inbound: InboundId,
        at: Timestamp,
    ) -> NewMessage {
        let stranger = Contact {
            request: RequestId(uuid::Uuid::nil()),
            reference: String::new(),
            language: language.to_string(),
            channel,
            recipient: recipient.to_string(),
        };
        let mut message = self.message(&stranger, notice, &format!("reply:{inbound}"), vec![], at);
        message.request = None;
        message
    }

    /// The message telling a new request's requester its reference.
    async fn acknowledgement(
        &self,
        request: &evac_model::Request,
    ) -> Result<Option<NewMessage>, AppError> {
        let Some(contact) = self.reach(request).await? else {
            return Ok(None);
        };
        let notice = Notice::Acknowledgement {
            reference: contact.reference.clone(),
            status_url: format!(
                "{}/status",
                self.messaging().public_url.trim_end_matches('/')
            ),
        };
        Ok(Some(self.message(
            &contact,
            &notice,
            &format!("ack:{}", request.id),
            vec![],
            Timestamp::now(),
        )))
    }

    /// Turns requests owed an acknowledgement into messages, a batch at a time, behind intake
    /// (intake only marks them due: rendering and the outbox's indexes stay off its path).
    /// The answer is how many requests were settled.
    pub async fn settle_acknowledgements(&self) -> Result<usize, AppError> {
        let due = self.store.acks_due(ACKS_SETTLED_AT_ONCE).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut messages = Vec::with_capacity(due.len());
        for &id in &due {
            if let Some(stored) = self.store.request(id).await?
                && let Some(message) = self.acknowledgement(&stored.request).await?
            {
                messages.push(message);
            }
        }
        self.store.settle_acks(messages, due.clone()).await?;
        self.outbox_has_mail();
        Ok(due.len())
    }

    async fn acknowledge_forever(self) {
        loop {
            match self.settle_acknowledgements().await {
                Ok(settled) if settled > 0 => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "acknowledgements could not be queued; trying again")
                }
            }
            tokio::time::sleep(Duration::from_millis(SENDER_IDLE_POLL_MS)).await;
        }
    }

    /// The notices that tell of seat changes a publication (or a standby release) appends:
    /// a seat, a moved seat, a lost seat, to each household's contacts. Queued with the
    /// changes, once per change and recipient, at the real time (a plan "as of" another time
    /// is still told now).
    pub(crate) async fn seat_notices(
        &self,
        changes: &[SeatNotice<'_>],
    ) -> Result<Vec<NewMessage>, AppError> {
        let at = Timestamp::now();
        let transports = self.store.transports().await?;
        let hubs = self.store.hubs().await?;
        let status_url = format!(
            "{}/status",
            self.messaging().public_url.trim_end_matches('/')
        );
        let mut messages = Vec::new();
        for change in changes {
            let transport = transports.iter().find(|t| t.id == change.transport);
            let code = transport.map_or("?".to_string(), |t| t.code.clone());
            for contact in self.contacts_of(change.requests).await? {
                let pass_url = format!("{status_url}?reference={}", contact.reference);
                let (notice, dedup) = match (&change.kind, transport) {
                    (
                        SeatNoticeKind::Seat { pass } | SeatNoticeKind::Moved { pass, .. },
                        Some(t),
                    ) => {
                        let zone = zone_of_hub(&hubs, &t.hub);
                        let onward = change
                            .onward
                            .iter()
                            .filter_map(|&id| transports.iter().find(|o| o.id == id))
                            .map(|o| evac_notify::Onward {
                                transport: o.code.clone(),
                                hub: o.hub.clone(),
                                departs: local_time(o.departs_at, &zone_of_hub(&hubs, &o.hub)),
                            })
                            .collect();
                        let be_there = t
                            .departs_at
                            .plus_seconds(-60 * self.messaging().be_there_minutes);
                        let notice = match &change.kind {
                            SeatNoticeKind::Moved { why, .. } => Notice::SeatMoved {
                                reference: contact.reference.clone(),
                                transport: code.clone(),
                                seats: evac_notify::seat_numbers(&change.seat_numbers),
                                hub: t.hub.clone(),
                                departs: local_time(t.departs_at, &zone),
                                why: why.clone(),
                                pass_code: pass_code(*pass),
                                pass_url,
                                onward,
                            },
                            _ => Notice::Seat {
                                reference: contact.reference.clone(),
                                transport: code.clone(),
                                seats: evac_notify::seat_numbers(&change.seat_numbers),
                                hub: t.hub.clone(),
                                departs: local_time(t.departs_at, &zone),
                                be_there: local_time(be_there, &zone),
                                pass_code: pass_code(*pass),
                                pass_url,
                                onward,
                            },
                        };
                        let dedup = format!("{}:{}:{pass}", notice.template(), change.household);
                        (notice, dedup)
                    }
                    (SeatNoticeKind::Lost { pass, why }, _) => (
                        Notice::SeatLost {
                            reference: contact.reference.clone(),
                            transport: code.clone(),
                            why: why.clone(),
                        },
                        format!("seat-lost:{}:{pass}", change.household),
                    ),
                    (_, None) => continue,
                };
                messages.push(self.message(&contact, &notice, &dedup, change.persons.to_vec(), at));
            }
        }
        Ok(messages)
    }

    /// Wakes this node's senders: something was queued.
    pub(crate) fn outbox_has_mail(&self) {
        self.outbox_wake.notify_waiters();
    }

    /// Starts a sender per channel on this node (they run until the app is dropped, or the
    /// answer is). Senders on several nodes share the outbox safely.
    pub fn start_senders(&self) -> Result<Senders, AppError> {
        Ok(self.start_senders_with(self.channels()?))
    }

    /// As [`App::start_senders`], through the given channels (a test's, a drill's).
    pub fn start_senders_with(&self, channels: Vec<Arc<dyn Channel>>) -> Senders {
        let app = self.clone();
        let mut tasks = vec![tokio::spawn(app.acknowledge_forever())];
        for channel in channels {
            let app = self.clone();
            tasks.push(tokio::spawn(async move { app.send_forever(channel).await }));
        }
        Senders { tasks }
    }

    async fn send_forever(self, channel: Arc<dyn Channel>) {
        let name = channel.name();
        let per_second = channel.messages_per_second().max(1);
        let pace = Duration::from_secs_f64(1.0 / f64::from(per_second));
        let node = self.messaging().node.clone();
        // What this node held when it last stopped (a crash, kill -9) is due again once the
        // channel's reports of the sends the crash cut have had time to come.
        let now = Timestamp::now();
        let due_at = Timestamp::from_unix_micros(
            now.unix_micros() + (channel.reports_within_ms() as i64).saturating_mul(1_000),
        );
        match self.store.release_claims(name, &node, due_at).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(
                    channel = name,
                    messages = n,
                    "took back what this node held when it stopped"
                )
            }
            Err(e) => {
                tracing::warn!(channel = name, error = %e, "could not take back this node's claims; they return when their leases end")
            }
        }
        loop {
            let now = Timestamp::now();
            let woken = self.outbox_wake.notified();
            let claimed = self
                .store
                .claim_messages(
                    name,
                    &node,
                    now,
                    Timestamp::from_unix_micros(now.unix_micros() + SEND_LEASE_MS * 1_000),
                    per_second,
                )
                .await;
            let batch = match claimed {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(channel = name, error = %e, "cannot claim messages; trying again");
                    Vec::new()
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep(Duration::from_millis(SENDER_IDLE_POLL_MS)) => {}
                }
                continue;
            }
            // Send only while the lease surely holds (a slow channel must not still be sending
            // what another node has claimed since); the rest returns to the queue when the
            // lease ends.
            let claimed = tokio::time::Instant::now();
            let sending_until = claimed
                + Duration::from_millis(
                    (SEND_LEASE_MS as u64).saturating_sub(2 * CHANNEL_TIMEOUT_MS),
                );
            // Sends start at the channel's pace, a few at once (`sends_in_flight`): a gateway
            // that answers one call slowly does not hold back the next.
            let in_flight = Arc::new(tokio::sync::Semaphore::new(sends_in_flight(per_second)));
            let mut sends = tokio::task::JoinSet::new();
            let mut next_start = claimed;
            for message in batch {
                tokio::time::sleep_until(next_start).await;
                let Ok(permit) = in_flight.clone().acquire_owned().await else {
                    break;
                };
                let started = tokio::time::Instant::now();
                if started > sending_until {
                    break;
                }
                // Behind (a slow gateway held every permit): go on at the pace from now, with
                // no burst to catch up.
                next_start = (next_start + pace).max(started);
                let (app, channel, node) = (self.clone(), channel.clone(), node.clone());
                sends.spawn(async move {
                    app.send_one(channel.as_ref(), &node, &message).await;
                    drop(permit);
                });
            }
            while sends.join_next().await.is_some() {}
        }
    }

    /// Sends one claimed message and records how it went.
    async fn send_one(&self, channel: &dyn Channel, node: &str, message: &StoredMessage) {
        let outcome = match channel.send(message).await {
            Ok(provider_id) => SendOutcome::Accepted { provider_id },
            Err(ChannelError::Permanent(error)) => SendOutcome::Failed {
                error,
                retry_at: None,
            },
            // Not before the channel's report could still say it took the message after all
            // (an answer lost to a timeout): that report settles it instead.
            Err(ChannelError::Transient(error)) => SendOutcome::Failed {
                retry_at: Retry::default().wait_s(message.attempts).map(|s| {
                    let reports_s = channel.reports_within_ms().div_ceil(1_000);
                    Timestamp::now().plus_seconds(i64::from(s).max(reports_s as i64))
                }),
                error,
            },
        };
        let given_up = matches!(outcome, SendOutcome::Failed { retry_at: None, .. });
        match self
            .store
            .finish_message(message.id, node, Timestamp::now(), outcome)
            .await
        {
            Ok(true) => {
                // A seat nobody could tell of is a family to phone.
                if given_up
                    && SEAT_TEMPLATES.contains(&message.template.as_str())
                    && let Some(request) = message.request
                    && let Err(e) = self
                        .queue_callbacks_for(
                            &[request],
                            "the seat notice could not be sent",
                            Timestamp::now(),
                        )
                        .await
                {
                    tracing::warn!(message_id = %message.id, error = %e, "a given-up seat notice could not queue a callback");
                }
            }
            Ok(false) => {
                tracing::warn!(message_id = %message.id, "a send ended after the message was settled elsewhere (its lease ended and another node holds it, or a report gave it up)")
            }
            Err(e) => {
                tracing::warn!(message_id = %message.id, error = %e, "a send could not be recorded; the message is sent again after its lease")
            }
        }
    }

    /// A channel's callback is evac's own only with the deployment's secret.
    pub fn callback_allowed(&self, secret: &str) -> Result<(), AppError> {
        secret_matches(secret, self.messaging().callback_secret.as_deref())
    }

    /// A delivery report from a channel (Kannel's `%d`: 1 delivered, 2 undelivered, 8 taken
    /// by the SMS centre, 16 refused by it; other values are intermediate and ignored).
    pub async fn delivery_report(
        &self,
        secret: &str,
        message: MessageId,
        status: u32,
        at: Timestamp,
    ) -> Result<bool, AppError> {
        self.callback_allowed(secret)?;
        let (report, detail) = match status {
            1 => (DeliveryReport::Delivered, ""),
            2 => (DeliveryReport::Undelivered, "undeliverable"),
            8 => (DeliveryReport::TakenByNetwork, ""),
            16 => (DeliveryReport::Undelivered, "refused by the SMS centre"),
            _ => return Ok(false),
        };
        Ok(self
            .store
            .record_delivery(message, at, report, detail)
            .await?)
    }

    /// An SMS (or other message) from a requester, through a channel's callback: stored, then
    /// read and answered ([`Reply`]).
    pub async fn receive_message(
        &self,
        secret: &str,
        channel: &str,
        provider_id: Option<String>,
        sender: &str,
        text: &str,
        at: Timestamp,
    ) -> Result<Received, AppError> {
        self.callback_allowed(secret)?;
        self.take_in(Incoming {
            channel,
            provider_id,
            sender,
            reply_to: None,
            text,
            words: text,
            needs_a_human: false,
            // A callback's channel vouches for its sender: the phone network gives the number.
            sender_proven: true,
            at,
        })
        .await
    }

    /// Any inbound message, however it came: stored first, attached to its request, then
    /// acted on.
    pub(crate) async fn take_in(&self, incoming: Incoming<'_>) -> Result<Received, AppError> {
        let Incoming {
            channel,
            provider_id,
            sender,
            reply_to,
            text,
            words,
            needs_a_human,
            sender_proven,
            at,
        } = incoming;
        let text: String = text.chars().take(INBOUND_TEXT_CHARS_MAX).collect();
        let sender = if sender.contains('@') {
            sender.trim().to_lowercase()
        } else {
            evac_model::PhoneE164::parse(sender, self.settings.default_region)
                .map_or_else(|_| sender.trim().to_string(), |p| p.to_string())
        };
        let mut reply = if sender_proven {
            Reply::read(words)
        } else {
            Reply::Other
        };
        let by_reference =
            match evac_notify::reference_in(words).or_else(|| evac_notify::reference_in(&text)) {
                Some(code) => self.store.request_by_reference(&code).await?,
                None => None,
            };
        // A code is no proof of who writes: only a number or address the request gave (or
        // one evac wrote to about it) may withdraw it or learn its status, as on the public
        // status page.
        if let Some(found) = &by_reference {
            let body = &found.request.body;
            let known = body.phones().any(|p| p.e164.to_string() == sender)
                || body
                    .submitter
                    .email
                    .iter()
                    .chain(body.party.iter().filter_map(|p| p.email.as_ref()))
                    .any(|e| e.as_str().eq_ignore_ascii_case(&sender));
            if !known {
                reply = Reply::Other;
            }
        }
        // Without a code, a reply answers what evac sent this number (or chat): the requests
        // it wrote about, newest first.
        let asked_about = if by_reference.is_none() {
            self.requests_written_to(reply_to, &sender).await?
        } else {
            Vec::new()
        };
        // One phone for families that are not one household: a bare YES, NO or STATUS could
        // be about either, so nothing is done; the sender is asked for the code.
        let ambiguous = !matches!(reply, Reply::Other)
            && asked_about.len() > 1
            && !self.one_household(&asked_about).await?;
        let request = match by_reference {
            Some(found) => Some(found),
            None => match asked_about.first() {
                Some(id) => self.store.request(*id).await?,
                None => None,
            },
        };
        let understood = match reply {
            Reply::Status => "status",
            Reply::Yes => "yes",
            Reply::No => "no",
            Reply::Other => "other",
        };
        let state = match (&request, &reply) {
            (None, _) => "unmatched",
            (Some(_), _) if ambiguous => "to_read",
            (Some(_), Reply::Other) => "to_read",
            (Some(_), _) if needs_a_human => "to_read",
            (Some(_), _) => "attached",
        };
        let id = InboundId::new_v7();
        let new = self
            .store
            .store_inbound(
                NewInbound {
                    id,
                    channel: channel.to_string(),
                    provider_id,
                    sender: sender.clone(),
                    received_at: at,
                    text,
                    request: request.as_ref().map(|r| r.request.id),
                    understood: understood.into(),
                    state: state.into(),
                },
                AuditEvent {
                    at,
                    actor: Actor::Public,
                    action: "inbound.receive".into(),
                    subject: request.as_ref().map(|r| r.request.id.to_string()),
                    detail: serde_json::json!({ "channel": channel, "understood": understood, "state": state }),
                },
            )
            .await?;
        let mut state = state.to_string();
        if new && ambiguous {
            let mut references = Vec::new();
            for id in asked_about.iter().take(AMBIGUOUS_REFERENCES_LISTED_MAX) {
                if let Some(r) = self.store.request(*id).await? {
                    references.push(r.request.reference.to_string());
                }
            }
            let language = request
                .as_ref()
                .and_then(|r| r.request.body.language.as_ref())
                .map_or("en", |l| l.as_str());
            let answer = self.answer_to_stranger(
                self.answering_channel(channel),
                reply_to.unwrap_or(&sender),
                language,
                &Notice::AmbiguousReply {
                    references: references.join(", "),
                },
                id,
                at,
            );
            self.store
                .enqueue_messages(vec![answer], Vec::new())
                .await?;
            self.outbox_has_mail();
        } else if new
            && let Err(e) = self
                .act_on(
                    id,
                    &reply,
                    request.as_ref(),
                    channel,
                    reply_to.unwrap_or(&sender),
                    at,
                )
                .await
        {
            // Half done is worse than not at all: the message waits for a human, who sees
            // what was changed in the request's history.
            tracing::warn!(inbound_id = %id, error = %e, "acting on an inbound message failed; it waits for a human");
            state = "to_read".into();
            self.store
                .handle_inbound(
                    id,
                    None,
                    &state,
                    &Actor::System,
                    at,
                    AuditEvent {
                        at,
                        actor: Actor::System,
                        action: "inbound.act_failed".into(),
                        subject: Some(id.to_string()),
                        detail: serde_json::json!({ "understood": understood }),
                    },
                )
                .await?;
        }
        Ok(Received {
            id,
            new,
            request: request.map(|r| r.request.id),
            understood: understood.into(),
            state,
        })
    }

    /// The requests evac wrote to a chat (`reply_to`) or a number or address, newest first,
    /// each once.
    async fn requests_written_to(
        &self,
        reply_to: Option<&str>,
        sender: &str,
    ) -> Result<Vec<RequestId>, AppError> {
        let mut requests: Vec<RequestId> = Vec::new();
        for address in reply_to.into_iter().chain([sender]) {
            let sent = self
                .store
                .messages(
                    &MessageFilter {
                        recipient: Some(address.to_string()),
                        ..Default::default()
                    },
                    REPLY_LOOKBACK_MESSAGES,
                )
                .await?;
            for id in sent.iter().filter_map(|m| m.request) {
                if !requests.contains(&id) {
                    requests.push(id);
                }
            }
            if !requests.is_empty() {
                break;
            }
        }
        Ok(requests)
    }

    /// Whether the requests are all of one household (duplicates of one family, linked).
    async fn one_household(&self, requests: &[RequestId]) -> Result<bool, AppError> {
        let Some(first) = requests.first() else {
            return Ok(true);
        };
        let household = self.household_requests(*first).await?;
        Ok(requests.iter().all(|r| household.contains(r)))
    }

    /// Does what a reply asks and answers it through the channel it came by.
    async fn act_on(
        &self,
        id: InboundId,
        reply: &Reply,
        request: Option<&evac_store::StoredRequest>,
        channel: &str,
        sender: &str,
        at: Timestamp,
    ) -> Result<(), AppError> {
        let contact = |request: &evac_store::StoredRequest| {
            Contact::of(
                &request.request,
                self.answering_channel(channel),
                sender.to_string(),
            )
        };
        let requester = Changer {
            actor: Actor::Public,
            name: "the requester",
        };
        let notice = match (reply, request) {
            (Reply::Other, _) => return Ok(()),
            (_, None) => {
                let message = self.answer_to_stranger(
                    self.answering_channel(channel),
                    sender,
                    "en",
                    &Notice::UnknownReply,
                    id,
                    at,
                );
                self.store
                    .enqueue_messages(vec![message], Vec::new())
                    .await?;
                self.outbox_has_mail();
                return Ok(());
            }
            (Reply::Status, Some(r)) => {
                let status = r
                    .statuses
                    .iter()
                    .map(|(_, s)| *s)
                    .max_by_key(|s| crate::desk::progress(*s))
                    .unwrap_or(PersonStatus::Registered);
                let c = contact(r);
                Notice::StatusReply {
                    reference: c.reference.clone(),
                    status: evac_notify::status_words(status, &c.language),
                }
            }
            (Reply::No, Some(r)) => {
                for (person, status) in &r.statuses {
                    if status
                        .hand_change_refused(PersonStatus::Withdrawn)
                        .is_none()
                        && *status != PersonStatus::Withdrawn
                    {
                        self.change_person_by(
                            &requester,
                            r.request.id,
                            *person,
                            Some(PersonStatus::Withdrawn),
                            &format!("replied NO by {channel}"),
                            at,
                            None,
                        )
                        .await?;
                    }
                }
                Notice::WithdrawnReply {
                    reference: r.request.reference.to_string(),
                }
            }
            (Reply::Yes, Some(r)) => {
                let history = if r
                    .statuses
                    .iter()
                    .any(|(_, s)| *s == PersonStatus::Unreachable)
                {
                    self.store.person_events_of_request(r.request.id).await?
                } else {
                    Vec::new()
                };
                for (person, status) in &r.statuses {
                    // Marked unreachable (a re-confirmation nobody answered): back in line as
                    // they were before, verified if they had been.
                    let back = (*status == PersonStatus::Unreachable).then(|| {
                        history
                            .iter()
                            .rev()
                            .find(|e| {
                                e.person == *person && e.event.to == PersonStatus::Unreachable
                            })
                            .and_then(|e| e.event.from)
                            .filter(|from| *from == PersonStatus::Verified)
                            .unwrap_or(PersonStatus::Registered)
                    });
                    self.change_person_by(
                        &requester,
                        r.request.id,
                        *person,
                        back,
                        &format!("replied YES by {channel}: still needs to leave"),
                        at,
                        None,
                    )
                    .await?;
                }
                Notice::ConfirmedReply {
                    reference: r.request.reference.to_string(),
                }
            }
        };
        let r = request.expect("answered above when none");
        let message = self.message(&contact(r), &notice, &format!("reply:{id}"), vec![], at);
        self.store
            .enqueue_messages(vec![message], Vec::new())
            .await?;
        self.outbox_has_mail();
        Ok(())
    }

    /// Messages to requesters, newest first (a request's, or in one state).
    pub async fn outbox(
        &self,
        staff: &Staff,
        filter: &MessageFilter,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, AppError> {
        staff.require(evac_model::Permission::ReadContacts)?;
        let messages = self
            .store
            .messages(filter, limit.min(MESSAGES_LISTED_MAX))
            .await?;
        self.audit_read(
            staff,
            "outbox.read",
            filter.request.map(|r| r.to_string()),
            serde_json::json!({ "messages": messages.len() }),
        )
        .await?;
        Ok(messages)
    }

    /// How many messages are in each state, and the inbox waiting for a human.
    pub async fn messaging_counts(
        &self,
        staff: &Staff,
    ) -> Result<(Vec<(MessageState, u64)>, InboxWaiting), AppError> {
        staff.require(evac_model::Permission::ReadRequests)?;
        Ok((
            self.store.message_counts().await?,
            self.store.inbox_waiting().await?,
        ))
    }

    /// Inbound messages in the given states (all when empty), newest first.
    pub async fn inbox(
        &self,
        staff: &Staff,
        states: &[&str],
        request: Option<RequestId>,
        limit: u32,
    ) -> Result<Vec<StoredInbound>, AppError> {
        staff.require(evac_model::Permission::ReadContacts)?;
        let messages = self
            .store
            .inbound(states, request, limit.min(MESSAGES_LISTED_MAX))
            .await?;
        self.audit_read(
            staff,
            "inbox.read",
            request.map(|r| r.to_string()),
            serde_json::json!({ "messages": messages.len() }),
        )
        .await?;
        Ok(messages)
    }

    /// A human's handling of an inbound message: attached to the request of `reference`
    /// (read), or marked handled.
    pub async fn handle_inbound(
        &self,
        staff: &Staff,
        id: InboundId,
        reference: Option<&ReferenceCode>,
        at: Timestamp,
    ) -> Result<(), AppError> {
        staff.require(evac_model::Permission::WriteRequests)?;
        let request = match reference {
            Some(code) => Some(
                self.store
                    .request_by_reference(code)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("a request with reference {code}")))?
                    .request
                    .id,
            ),
            None => None,
        };
        let audit = AuditEvent {
            at,
            actor: staff.actor(),
            action: "inbound.handle".into(),
            subject: Some(id.to_string()),
            detail: serde_json::json!({ "attached": request.map(|r| r.to_string()) }),
        };
        self.store
            .handle_inbound(id, request, "handled", &staff.actor(), at, audit)
            .await
            .map_err(|e| match e {
                evac_store::StoreError::Missing(what) => AppError::NotFound(what),
                e => AppError::Store(e),
            })
    }
}

/// An inbound message as a channel hands it over.
pub(crate) struct Incoming<'a> {
    pub channel: &'a str,
    pub provider_id: Option<String>,
    /// A phone number or an e-mail address (for a linked messenger chat, the phone it was
    /// linked to; `tg:…` for one not linked).
    pub sender: &'a str,
    /// Where an answer goes, when not to the sender (a messenger chat's id).
    pub reply_to: Option<&'a str>,
    /// What is kept and shown.
    pub text: &'a str,
    /// What is read for a keyword and a reference (an e-mail's own words, not what it quotes).
    pub words: &'a str,
    /// Something in it (an attachment) wants a human's eyes whatever its words say.
    pub needs_a_human: bool,
    /// Whether the channel proves the sender (an SMS's number, given by the network) or
    /// not (an e-mail's From line, unless it answers a message evac sent that address): a
    /// keyword from an unproven sender is read by a human, never acted on.
    pub sender_proven: bool,
    pub at: Timestamp,
}

/// What a seat change tells, for [`App::seat_notices`].
pub(crate) struct SeatNotice<'a> {
    pub household: &'a str,
    pub requests: &'a [RequestId],
    pub persons: &'a [evac_model::PersonId],
    pub transport: evac_model::TransportId,
    /// The journey's legs after `transport`, in order, when it takes the household to
    /// another hub.
    pub onward: Vec<evac_model::TransportId>,
    /// The household's seat numbers on it (a seat or a moved seat).
    pub seat_numbers: Vec<u32>,
    pub kind: SeatNoticeKind,
}

pub(crate) enum SeatNoticeKind {
    Seat {
        pass: evac_model::PassId,
    },
    Moved {
        pass: evac_model::PassId,
        why: String,
    },
    Lost {
        pass: evac_model::PassId,
        why: String,
    },
}

/// This node's senders; dropping it stops them.
pub struct Senders {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Senders {
    pub(crate) fn of(tasks: Vec<tokio::task::JoinHandle<()>>) -> Self {
        Senders { tasks }
    }
}

impl Drop for Senders {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Senders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Senders({})", self.tasks.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departures_are_told_in_the_hubs_time() {
        // 2022-01-07T08:00Z was 14:00 in Almaty (UTC+6 then).
        let at: Timestamp = "2022-01-07T08:00:00Z".parse().unwrap();
        assert_eq!(local_time(at, &zone_of_country("KZ")), "07.01 14:00");
        assert_eq!(local_time(at, &zone_of_country("ZZ")), "07.01 08:00");
    }

    #[test]
    fn a_faster_channel_keeps_more_sends_in_flight_within_the_bound() {
        let at = |rate| sends_in_flight(rate);
        assert_eq!(
            [
                at(1),
                at(10),
                at(20),
                at(50),
                at(200),
                at(1_000),
                at(u32::MAX)
            ],
            [1, 1, 1, 3, 10, 16, 16]
        );
        // Enough that answers of SLOW_ANSWER_MS keep the pace, wherever the cap allows.
        for rate in [1, 7, 25, 50, 123, 200, 320] {
            let keeps = at(rate) as u64 * 1_000 / SLOW_ANSWER_MS;
            assert!(keeps >= u64::from(rate), "{rate}/s: {} in flight", at(rate));
        }
    }
}
