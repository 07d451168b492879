//! A messenger as a channel, in the shape of Telegram's Bot API: notices out with
//! `sendMessage`, people's messages in from `getUpdates` (long polling, for a crisis cell with
//! no public address) or from a webhook (for a deployment behind a load balancer).
//!
//! A bot cannot write to a phone number: a person first writes to the bot, which asks them to
//! share their number with the messenger's own button. The messenger vouches that a shared
//! contact is the sender's own (`contact.user_id` is the sender), so evac links the chat to
//! that number; from then on the notices for requests that gave the number go to the chat,
//! and what the chat writes is read as from that number (`YES`, `NO`, `STATUS` act as by SMS).
//! A chat not linked is a stranger: its words wait for a human like any unproven sender's.
//!
//! Every update is stored (in the inbox) before it is acted on and before the bot API is told
//! it was read (the next `getUpdates` offset), so a crash loses nothing; the same update twice
//! is stored once (its chat and message id).

use std::time::Duration;

use evac_model::{InboundId, Timestamp};
use evac_notify::Notice;
use evac_store::{AuditEvent, MessengerChat, NewInbound, StoredMessage};

use crate::messaging::{Channel, ChannelError, Contact, Incoming, Received};
use evac_model::Actor;

use crate::{App, AppError, Senders};

/// The channel's name in the outbox and the inbox.
pub const MESSENGER_CHANNEL: &str = "telegram";
/// How long a `getUpdates` call waits for news on the bot API's side (s).
pub const MESSENGER_LONG_POLL_S: u64 = 25;
/// Waits between polls that brought nothing, or after an error (ms): a bot API that answers
/// at once (a test's) is not asked in a busy loop.
pub const MESSENGER_IDLE_POLL_MS: u64 = 1_000;
/// Updates asked for at once.
pub const MESSENGER_UPDATES_AT_ONCE: u32 = 100;
/// The largest webhook body evac reads, in bytes (an update is a few KiB).
pub const MESSENGER_UPDATE_BYTES_MAX: usize = 64 * 1024;
/// How long a send may take (ms).
const SEND_TIMEOUT_MS: u64 = 10_000;

/// `[telegram]`: the bot evac writes and reads as.
#[derive(Debug, Clone, PartialEq)]
pub struct MessengerSettings {
    /// The Bot API's base (`https://api.telegram.org`; a test's local server).
    pub api_url: String,
    /// The bot's token (secret: it is never logged, and left out of every error).
    pub token: String,
    /// Messages a second this node sends at most (Telegram allows about 30).
    pub messages_per_second: u32,
    /// Read updates by long polling (one node only: the API serves one poller at a time).
    pub poll: bool,
    /// The secret the API sends with webhook calls (`X-Telegram-Bot-Api-Secret-Token`);
    /// without one, the webhook is refused.
    pub webhook_secret: Option<String>,
}

/// An update as the Bot API gives it; evac reads messages and ignores the rest.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::ToSchema)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<UpdateMessage>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::ToSchema)]
pub struct UpdateMessage {
    pub message_id: i64,
    /// Unix seconds.
    pub date: i64,
    pub chat: UpdateChat,
    #[serde(default)]
    pub from: Option<UpdateUser>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub contact: Option<UpdateContact>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::ToSchema)]
pub struct UpdateChat {
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::ToSchema)]
pub struct UpdateUser {
    pub id: i64,
    #[serde(default)]
    pub language_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::ToSchema)]
pub struct UpdateContact {
    pub phone_number: String,
    /// The messenger's user the contact is, when it is one.
    #[serde(default)]
    pub user_id: Option<i64>,
}

/// The Bot API's answer envelope.
#[derive(Debug, serde::Deserialize)]
struct ApiAnswer<T> {
    ok: bool,
    #[serde(default = "Option::default")]
    result: Option<T>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<ApiParameters>,
}

#[derive(Debug, serde::Deserialize)]
struct ApiParameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

#[derive(Debug, serde::Deserialize)]
struct SentMessage {
    message_id: i64,
}

/// The messenger as a channel: a message's recipient is a chat id.
pub struct MessengerChannel {
    settings: MessengerSettings,
    http: reqwest::Client,
}

impl MessengerChannel {
    pub fn new(settings: MessengerSettings) -> Result<Self, AppError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(SEND_TIMEOUT_MS))
            .build()
            .map_err(|e| AppError::BadInput(format!("cannot make the messenger client: {e}")))?;
        Ok(MessengerChannel { settings, http })
    }
}

/// A Bot API method's URL (it holds the token: never log it).
fn method_url(settings: &MessengerSettings, method: &str) -> String {
    format!(
        "{}/bot{}/{method}",
        settings.api_url.trim_end_matches('/'),
        settings.token
    )
}

/// The `sendMessage` body: the text, and for the notices that ask for a number, the
/// messenger's own "share my number" button.
fn send_body(message: &StoredMessage) -> serde_json::Value {
    let mut body = serde_json::json!({ "chat_id": message.recipient, "text": message.body });
    if matches!(
        message.template.as_str(),
        "messenger-welcome" | "messenger-not-own"
    ) {
        body["reply_markup"] = serde_json::json!({
            "keyboard": [[{
                "text": evac_notify::share_number_button(&message.language),
                "request_contact": true,
            }]],
            "one_time_keyboard": true,
            "resize_keyboard": true,
        });
    }
    body
}

#[async_trait::async_trait]
impl Channel for MessengerChannel {
    fn name(&self) -> &'static str {
        MESSENGER_CHANNEL
    }

    fn messages_per_second(&self) -> u32 {
        self.settings.messages_per_second.max(1)
    }

    async fn send(&self, message: &StoredMessage) -> Result<Option<String>, ChannelError> {
        let answer = self
            .http
            .post(method_url(&self.settings, "sendMessage"))
            .json(&send_body(message))
            .send()
            .await
            // Without the URL: it carries the bot's token.
            .map_err(|e| {
                ChannelError::Transient(format!(
                    "the messenger's API is unreachable: {}",
                    e.without_url()
                ))
            })?;
        let status = answer.status();
        let said: Option<ApiAnswer<SentMessage>> = answer.json().await.ok();
        match (status.as_u16(), said) {
            (
                200..=299,
                Some(ApiAnswer {
                    ok: true,
                    result: Some(sent),
                    ..
                }),
            ) => Ok(Some(format!("{}:{}", message.recipient, sent.message_id))),
            (code, said) => {
                let description = said
                    .as_ref()
                    .and_then(|s| s.description.clone())
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect::<String>();
                let retry_after = said
                    .as_ref()
                    .and_then(|s| s.parameters.as_ref())
                    .and_then(|p| p.retry_after);
                Err(match code {
                    // A token the API does not know is a setting to fix, not a reason to give
                    // up the messages.
                    401 | 404 => ChannelError::Transient(format!(
                        "the messenger refused evac's bot token ({code}): check [telegram] token"
                    )),
                    429 => ChannelError::Transient(format!(
                        "the messenger asks evac to slow down (retry after {} s): lower [telegram] messages_per_second",
                        retry_after.unwrap_or(1)
                    )),
                    // The chat does not exist, or the person blocked the bot: trying again
                    // changes nothing.
                    400 | 403 => ChannelError::Permanent(format!(
                        "the messenger refused it ({code}): {description}"
                    )),
                    _ => ChannelError::Transient(format!(
                        "the messenger could not take it ({code}): {description}"
                    )),
                })
            }
        }
    }
}

/// "+77011234567" from what a messenger gives ("77011234567", "+7 701 …").
fn shared_phone(raw: &str, region: Option<evac_model::CountryCode>) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    evac_model::PhoneE164::parse(&format!("+{digits}"), region)
        .ok()
        .map(|p| p.to_string())
}

impl App {
    /// Where a request is reached, with the messenger preferred where the person linked a
    /// chat to a number the request gave (they chose it by linking), else as
    /// [`App::contact_of`] says.
    pub(crate) async fn reach(
        &self,
        request: &evac_model::Request,
    ) -> Result<Option<Contact>, AppError> {
        let contact = self.contact_of(request);
        if self.settings.messaging.messenger.is_none() {
            return Ok(contact);
        }
        let body = &request.body;
        let phones: Vec<String> = body.phones().map(|p| p.e164.to_string()).collect();
        if phones.is_empty() {
            return Ok(contact);
        }
        let chats = self
            .store
            .chats_of_phones(MESSENGER_CHANNEL, &phones)
            .await?;
        // The submitter's number first, then the newest link.
        let chat = phones
            .iter()
            .find_map(|phone| chats.iter().find(|c| &c.phone == phone));
        Ok(match chat {
            Some(chat) => Some(Contact::of(request, MESSENGER_CHANNEL, chat.chat.clone())),
            None => contact,
        })
    }

    /// One update from the messenger: stored, then acted on. A shared number of one's own
    /// links the chat; `/start` is answered with the button to share it; anything else is read
    /// as a reply from the linked number (or from a stranger). `None` for an update that is
    /// not a message (an edit, a reaction): nothing to keep.
    pub async fn take_update(&self, update: &Update) -> Result<Option<Received>, AppError> {
        let Some(message) = &update.message else {
            return Ok(None);
        };
        let chat = message.chat.id.to_string();
        let provider_id = format!("{chat}:{}", message.message_id);
        let at = Timestamp::from_unix_micros(message.date.saturating_mul(1_000_000));
        let language = message
            .from
            .as_ref()
            .and_then(|f| f.language_code.as_deref())
            .map(|l| l.split('-').next().unwrap_or("en").to_ascii_lowercase())
            .filter(|l| evac_notify::LANGUAGES.contains(&l.as_str()))
            .unwrap_or_else(|| "en".into());
        let answer_chat = |notice: Notice, id: InboundId| {
            self.answer_to_stranger(MESSENGER_CHANNEL, &chat, &language, &notice, id, at)
        };

        let text = message
            .text
            .as_deref()
            .or(message.caption.as_deref())
            .unwrap_or_default();
        let linked = self.store.chat_phone(MESSENGER_CHANNEL, &chat).await?;
        let stranger = format!("tg:{chat}");

        // A shared contact (linking) and `/start` (asking for one) are evac's own business
        // with the chat: stored as handled, answered in the chat.
        if let Some(contact) = &message.contact {
            let own =
                contact.user_id.is_some() && contact.user_id == message.from.as_ref().map(|f| f.id);
            let phone =
                shared_phone(&contact.phone_number, self.settings.default_region).filter(|_| own);
            let (understood, note) = match &phone {
                Some(_) => ("link", "[shared their own number]"),
                None => ("link_refused", "[shared a number that is not theirs]"),
            };
            let sender = phone.clone().unwrap_or(stranger);
            let kept = self
                .keep_handled(&provider_id, &sender, note, understood, at)
                .await?;
            if kept.new {
                let notice = match phone {
                    Some(phone) => self.link(&chat, phone, at).await?,
                    None => Notice::MessengerNotOwn,
                };
                self.store
                    .enqueue_messages(vec![answer_chat(notice, kept.id)], Vec::new())
                    .await?;
                self.outbox_has_mail();
            }
            return Ok(Some(kept));
        }
        if text.trim_start().starts_with("/start") && linked.is_none() {
            let kept = self
                .keep_handled(&provider_id, &stranger, text, "start", at)
                .await?;
            if kept.new {
                self.store
                    .enqueue_messages(
                        vec![answer_chat(Notice::MessengerWelcome, kept.id)],
                        Vec::new(),
                    )
                    .await?;
                self.outbox_has_mail();
            }
            return Ok(Some(kept));
        }
        self.take_in(Incoming {
            channel: MESSENGER_CHANNEL,
            provider_id: Some(provider_id),
            sender: linked.as_deref().unwrap_or(&stranger),
            reply_to: Some(&chat),
            text,
            words: text,
            needs_a_human: false,
            // The messenger vouched for the linked number; a chat not linked proves nothing.
            sender_proven: linked.is_some(),
            at,
        })
        .await
        .map(Some)
    }

    /// Stores a message evac handles itself (a shared number, `/start`): kept once per
    /// provider id, with nothing left for a human.
    async fn keep_handled(
        &self,
        provider_id: &str,
        sender: &str,
        text: &str,
        understood: &str,
        at: Timestamp,
    ) -> Result<Received, AppError> {
        let id = InboundId::new_v7();
        let new = self
            .store
            .store_inbound(
                NewInbound {
                    id,
                    channel: MESSENGER_CHANNEL.into(),
                    provider_id: Some(provider_id.to_string()),
                    sender: sender.to_string(),
                    received_at: at,
                    text: text
                        .chars()
                        .take(crate::messaging::INBOUND_TEXT_CHARS_MAX)
                        .collect(),
                    request: None,
                    understood: understood.into(),
                    state: "attached".into(),
                },
                AuditEvent {
                    at,
                    actor: Actor::Public,
                    action: "inbound.receive".into(),
                    subject: None,
                    detail: serde_json::json!({ "channel": MESSENGER_CHANNEL, "understood": understood }),
                },
            )
            .await?;
        Ok(Received {
            id,
            new,
            request: None,
            understood: understood.into(),
            state: "attached".into(),
        })
    }

    /// Links a chat to the number its person shared; the answer tells how many requests gave
    /// that number.
    async fn link(&self, chat: &str, phone: String, at: Timestamp) -> Result<Notice, AppError> {
        self.store
            .link_chat(
                MessengerChat {
                    channel: MESSENGER_CHANNEL.into(),
                    chat: chat.to_string(),
                    phone: phone.clone(),
                    linked_at: at,
                },
                AuditEvent {
                    at,
                    actor: Actor::Public,
                    action: "messenger.link".into(),
                    subject: None,
                    // The chat is the messenger's id for a person: not in the trail.
                    detail: serde_json::json!({ "channel": MESSENGER_CHANNEL }),
                },
            )
            .await?;
        let requests = self
            .store
            .list_requests(
                &evac_store::RequestFilter {
                    phone: Some(phone),
                    ..Default::default()
                },
                evac_store::PageRequest {
                    after: None,
                    limit: evac_store::PAGE_ITEMS_MAX,
                    order: evac_store::ListOrder::NewestFirst,
                },
            )
            .await?
            .items
            .len();
        Ok(Notice::MessengerLinked {
            requests: requests.to_string(),
        })
    }

    /// A webhook call from the messenger, with the secret it was given.
    pub async fn messenger_webhook(
        &self,
        secret: &str,
        update: &Update,
    ) -> Result<Option<Received>, AppError> {
        crate::messaging::secret_matches(
            secret,
            self.settings
                .messaging
                .messenger
                .as_ref()
                .and_then(|m| m.webhook_secret.as_deref()),
        )?;
        self.take_update(update).await
    }

    /// Reads the messenger's updates by long polling until the answer is dropped (when
    /// `[telegram] poll` is set). An update is confirmed to the API (by the next call's
    /// offset) only once it is stored; one that cannot be stored is asked for again.
    pub fn start_messenger_reader(&self) -> Option<Senders> {
        let settings = self
            .settings
            .messaging
            .messenger
            .clone()
            .filter(|m| m.poll)?;
        let app = self.clone();
        let task = tokio::spawn(async move {
            let http = match reqwest::Client::builder()
                .timeout(Duration::from_secs(MESSENGER_LONG_POLL_S + 15))
                .build()
            {
                Ok(http) => http,
                Err(e) => {
                    tracing::error!(error = %e, "cannot make the messenger client; not reading it");
                    return;
                }
            };
            let mut offset: Option<i64> = None;
            loop {
                let read = app.poll_updates(&http, &settings, &mut offset).await;
                match read {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "the messenger could not be read; trying again")
                    }
                }
                tokio::time::sleep(Duration::from_millis(MESSENGER_IDLE_POLL_MS)).await;
            }
        });
        Some(Senders::of(vec![task]))
    }

    /// One `getUpdates` call; the answer is how many updates were taken.
    async fn poll_updates(
        &self,
        http: &reqwest::Client,
        settings: &MessengerSettings,
        offset: &mut Option<i64>,
    ) -> Result<usize, AppError> {
        let mut body = serde_json::json!({
            "timeout": MESSENGER_LONG_POLL_S,
            "limit": MESSENGER_UPDATES_AT_ONCE,
            "allowed_updates": ["message"],
        });
        if let Some(offset) = offset {
            body["offset"] = serde_json::json!(offset);
        }
        let answer = http
            .post(method_url(settings, "getUpdates"))
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                AppError::BadInput(format!(
                    "the messenger's API is unreachable: {}",
                    e.without_url()
                ))
            })?;
        let status = answer.status();
        // Read bounded: a hundred updates are far below this.
        let bytes = answer.bytes().await.map_err(|e| {
            AppError::BadInput(format!(
                "the messenger's answer was cut: {}",
                e.without_url()
            ))
        })?;
        if bytes.len() > MESSENGER_UPDATE_BYTES_MAX * MESSENGER_UPDATES_AT_ONCE as usize {
            return Err(AppError::BadInput(
                "the messenger's answer is too large".into(),
            ));
        }
        let said: ApiAnswer<Vec<serde_json::Value>> =
            serde_json::from_slice(&bytes).map_err(|e| {
                AppError::BadInput(format!(
                    "the messenger's answer is not its API's ({status}): {e}"
                ))
            })?;
        if !said.ok {
            return Err(AppError::BadInput(format!(
                "the messenger refused getUpdates ({status}): {}",
                said.description.unwrap_or_default()
            )));
        }
        let updates = said.result.unwrap_or_default();
        for raw in &updates {
            let update_id = raw.get("update_id").and_then(serde_json::Value::as_i64);
            match serde_json::from_value::<Update>(raw.clone()) {
                Ok(update) => {
                    // Stored, or the offset stays: the update comes again.
                    self.take_update(&update).await?;
                }
                Err(e) => {
                    // An update evac cannot read would block every later one: skipped, said.
                    tracing::warn!(update_id = ?update_id, error = %e, "a messenger update evac cannot read was skipped");
                }
            }
            if let Some(id) = update_id {
                *offset = Some(id + 1);
            }
        }
        Ok(updates.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_number_reads_with_or_without_its_plus() {
        let kz = Some("KZ".parse().unwrap());
        assert_eq!(
            shared_phone("77011234567", kz).as_deref(),
            Some("+77011234567")
        );
        assert_eq!(
            shared_phone("+7 701 123 45 67", kz).as_deref(),
            Some("+77011234567")
        );
        assert_eq!(shared_phone("n/a", kz), None);
    }

    #[test]
    fn the_questions_for_a_number_carry_the_share_button_in_the_persons_language() {
        let message = |template: &str, language: &str| StoredMessage {
            id: evac_model::MessageId::new_v7(),
            dedup_key: "k".into(),
            request: None,
            persons: vec![],
            channel: MESSENGER_CHANNEL.into(),
            recipient: "4242".into(),
            language: language.into(),
            template: template.into(),
            body: "evac: …".into(),
            parts: 1,
            priority: 2,
            created_at: Timestamp::from_unix_micros(0),
            state: evac_store::MessageState::Sending,
            attempts: 1,
            next_at: Timestamp::from_unix_micros(0),
            provider_id: None,
            last_error: None,
            sent_at: None,
            done_at: None,
        };
        let welcome = send_body(&message("messenger-welcome", "ru"));
        assert_eq!(welcome["chat_id"], "4242");
        assert_eq!(
            welcome["reply_markup"]["keyboard"][0][0]["request_contact"],
            true
        );
        assert_eq!(
            welcome["reply_markup"]["keyboard"][0][0]["text"],
            "Поделиться номером"
        );
        assert!(
            send_body(&message("seat", "ru"))
                .get("reply_markup")
                .is_none()
        );
    }
}
