//! E-mail: notices out over SMTP, the crisis centre's mailbox read over IMAP.
//!
//! Out, an [`EmailChannel`] hands each message to an SMTP server (the ministry's relay) with
//! its own Message-ID, so a reply names what it answers. In, [`App::read_mailbox`] fetches the
//! messages evac has not read (its own IMAP keyword `$EvacRead`, not `\Seen`: staff reading
//! the mailbox in a mail client do not hide mail from evac), stores each as an inbound message
//! before anything else (the Message-ID makes a second reading store nothing new), and only
//! then marks it read. A From line proves nothing, so a keyword (YES, NO, STATUS) is acted on
//! only in a reply that names a Message-ID evac sent that address (only its mailbox has it);
//! anything else waits for a human. Spreadsheets attached by the senders `[email] import_from`
//! names are imported as requests; anyone else's wait for a human. A message too large, or not
//! parseable, still becomes an inbound message for a human, saying why.
//!
//! Plain SMTP and IMAP only: evac talks to a relay and a mailbox on the same host or network,
//! which speak TLS to the world.

use std::time::Duration;

use evac_model::Timestamp;
use evac_store::StoredMessage;
use futures_util::StreamExt;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mail_parser::MimeHeaders;

use crate::messaging::{Channel, ChannelError, Incoming};
use crate::{App, AppError};

/// A message larger than this is not fetched: it waits for a human, who reads it in a mail
/// client (bounds memory whatever is sent to the public address).
pub const EMAIL_BYTES_MAX: u32 = 10 * 1024 * 1024;
/// Attachments read from one message; the rest are named for a human.
pub const ATTACHMENTS_READ_MAX: usize = 5;
/// Messages read from the mailbox in one pass (the rest wait for the next).
pub const MAILBOX_PASS_MESSAGES_MAX: usize = 500;
/// How long the SMTP or IMAP server may take to answer.
const MAIL_TIMEOUT_MS: u64 = 20_000;
/// A subject line is cut to this many characters.
const SUBJECT_CHARS_MAX: usize = 70;

/// Where e-mail goes out and comes in.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailSettings {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// The sender requesters see and reply to: `Crisis centre <crisis@mfa.example>`.
    pub from: String,
    /// Messages a second this node's sender hands to the relay at most.
    pub messages_per_second: u32,
    /// The mailbox requesters write to; without it, e-mail only goes out.
    pub imap: Option<ImapSettings>,
    /// Senders whose attached spreadsheets are imported as they arrive: whole addresses
    /// (`desk@ngo.example`) or domains (`@partner.example`). Anyone else's attachments wait for
    /// a human: a From line proves nothing.
    pub import_from: Vec<String>,
}

impl EmailSettings {
    /// Whether `sender`'s spreadsheets are imported without a human.
    pub fn imports_from(&self, sender: &str) -> bool {
        let sender = sender.to_ascii_lowercase();
        self.import_from.iter().any(|allowed| {
            let allowed = allowed.trim().to_ascii_lowercase();
            if allowed.starts_with('@') {
                sender.ends_with(&allowed)
            } else {
                sender == allowed
            }
        })
    }
}

/// The crisis centre's mailbox.
#[derive(Debug, Clone, PartialEq)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    /// `INBOX`
    pub mailbox: String,
    /// Seconds between two readings of the mailbox.
    pub poll_seconds: u64,
}

/// Notices by e-mail through an SMTP relay.
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    messages_per_second: u32,
}

impl EmailChannel {
    pub fn new(settings: &EmailSettings) -> Result<Self, AppError> {
        let from: Mailbox = settings.from.parse().map_err(|e| {
            AppError::BadInput(format!(
                "[email] from '{}' is not an address: {e}",
                settings.from
            ))
        })?;
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.smtp_host.as_str())
                .port(settings.smtp_port)
                .timeout(Some(Duration::from_millis(MAIL_TIMEOUT_MS)));
        if let (Some(user), Some(password)) = (&settings.smtp_username, &settings.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(EmailChannel {
            transport: builder.build(),
            from,
            messages_per_second: settings.messages_per_second.max(1),
        })
    }
}

/// The Message-ID evac gives a message, so a reply's `In-Reply-To` names it.
pub fn email_message_id(message: &StoredMessage, from: &Mailbox) -> String {
    format!("<{}@{}>", message.id, from.email.domain())
}

/// A subject from a notice's first words, cut at a word.
fn subject_of(body: &str) -> String {
    let line = body.lines().next().unwrap_or("evac");
    if line.chars().count() <= SUBJECT_CHARS_MAX {
        return line.to_string();
    }
    let cut: String = line.chars().take(SUBJECT_CHARS_MAX).collect();
    match cut.rfind(' ') {
        Some(i) => format!("{}…", &cut[..i]),
        None => format!("{cut}…"),
    }
}

#[async_trait::async_trait]
impl Channel for EmailChannel {
    fn name(&self) -> &'static str {
        "email"
    }

    fn messages_per_second(&self) -> u32 {
        self.messages_per_second
    }

    async fn send(&self, message: &StoredMessage) -> Result<Option<String>, ChannelError> {
        let to: Mailbox = message
            .recipient
            .parse()
            .map_err(|e| ChannelError::Permanent(format!("not an e-mail address: {e}")))?;
        let id = email_message_id(message, &self.from);
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject_of(&message.body))
            .message_id(Some(id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| ChannelError::Permanent(format!("cannot write the e-mail: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(Some(id)),
            // A 5xx answer (no such mailbox, refused) does not change on a retry.
            Err(e) if e.is_permanent() => Err(ChannelError::Permanent(format!(
                "the mail server refused it: {e}"
            ))),
            Err(e) => Err(ChannelError::Transient(format!(
                "the mail server could not take it: {e}"
            ))),
        }
    }
}

/// What one reading of the mailbox did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MailboxPass {
    /// Messages stored as inbound (new or seen before).
    pub read: usize,
    /// Requests imported from attached spreadsheets.
    pub imported: u64,
    /// Spreadsheet rows refused (each named in its message's note).
    pub rejected_rows: u64,
}

/// The IMAP keyword evac marks what it has read with.
const READ_KEYWORD: &str = "$EvacRead";

/// One fetched e-mail, as evac reads it.
struct ReadMail {
    provider_id: String,
    sender: String,
    /// The Message-IDs it answers (In-Reply-To and References), with their angle brackets.
    replies_to: Vec<String>,
    /// What is stored: the subject, the text, and notes on attachments.
    text: String,
    /// The reply's own words, read for keywords.
    words: String,
    attachments: Vec<(String, Vec<u8>)>,
    skipped_attachments: Vec<String>,
}

impl ReadMail {
    /// A message evac did not read (too large, not parseable): only a note, for a human.
    fn for_a_human(provider_id: String, note: String) -> ReadMail {
        ReadMail {
            provider_id,
            sender: "unknown".into(),
            replies_to: Vec::new(),
            text: note,
            words: String::new(),
            attachments: Vec::new(),
            skipped_attachments: Vec::new(),
        }
    }
}

fn read_mail(uid_validity: u32, uid: u32, raw: &[u8]) -> ReadMail {
    let fallback_id = format!("imap:{uid_validity}:{uid}");
    let Some(parsed) = mail_parser::MessageParser::default().parse(raw) else {
        return ReadMail::for_a_human(
            fallback_id,
            "(an e-mail evac could not read; open it in the mailbox)".into(),
        );
    };
    let sender = parsed
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map_or_else(|| "unknown".to_string(), |a| a.trim().to_lowercase());
    let subject = parsed.subject().unwrap_or("").trim().to_string();
    let mut replies_to: Vec<String> = Vec::new();
    for header in [parsed.in_reply_to(), parsed.references()] {
        if let Some(ids) = header.as_text_list() {
            replies_to.extend(
                ids.iter()
                    .map(|id| format!("<{}>", id.trim_matches(['<', '>']))),
            );
        } else if let Some(id) = header.as_text() {
            replies_to.push(format!("<{}>", id.trim_matches(['<', '>'])));
        }
    }
    let body = parsed
        .body_text(0)
        .map(|b| b.into_owned())
        .unwrap_or_default();
    let words = evac_notify::fresh_text(&body);
    let mut attachments = Vec::new();
    let mut skipped_attachments = Vec::new();
    for part in parsed.attachments() {
        let name = part
            .attachment_name()
            .unwrap_or("attachment")
            .chars()
            .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
            .collect::<String>();
        let lower = name.to_lowercase();
        let sheet = [".csv", ".xlsx", ".xls", ".ods", ".tsv"]
            .iter()
            .any(|e| lower.ends_with(e));
        if sheet && attachments.len() < ATTACHMENTS_READ_MAX {
            attachments.push((name, part.contents().to_vec()));
        } else {
            skipped_attachments.push(name);
        }
    }
    let text = if subject.is_empty() {
        body.clone()
    } else {
        format!("{subject}\n\n{body}")
    };
    ReadMail {
        provider_id: parsed
            .message_id()
            .map_or(fallback_id, |id| format!("<{id}>")),
        sender,
        replies_to,
        text,
        words: if words.is_empty() { subject } else { words },
        attachments,
        skipped_attachments,
    }
}

impl App {
    /// Reads the messages of the mailbox evac has not read, once: each is stored and read
    /// before it is marked read, so a crash in between reads it again and stores nothing twice.
    pub async fn read_mailbox(&self) -> Result<MailboxPass, AppError> {
        let imap = self
            .settings
            .messaging
            .email
            .as_ref()
            .and_then(|e| e.imap.clone())
            .ok_or_else(|| AppError::BadInput("no mailbox is configured ([email.imap])".into()))?;
        let unreachable = |e: &dyn std::fmt::Display| {
            AppError::BadInput(format!(
                "the mailbox {}:{} cannot be read: {e}",
                imap.host, imap.port
            ))
        };
        let timeout = Duration::from_millis(MAIL_TIMEOUT_MS);
        let tcp = tokio::time::timeout(
            timeout,
            tokio::net::TcpStream::connect((imap.host.as_str(), imap.port)),
        )
        .await
        .map_err(|e| unreachable(&e))?
        .map_err(|e| unreachable(&e))?;
        let mut client = async_imap::Client::new(tcp);
        client
            .read_response()
            .await
            .map_err(|e| unreachable(&e))?
            .ok_or_else(|| unreachable(&"it closed the connection"))?;
        let mut session = client
            .login(&imap.username, &imap.password)
            .await
            .map_err(|(e, _)| unreachable(&e))?;
        let mailbox = session
            .select(&imap.mailbox)
            .await
            .map_err(|e| unreachable(&e))?;
        let uid_validity = mailbox.uid_validity.unwrap_or(0);
        let mut unseen: Vec<u32> = session
            .uid_search(format!("UNKEYWORD {READ_KEYWORD}"))
            .await
            .map_err(|e| unreachable(&e))?
            .into_iter()
            .collect();
        unseen.sort_unstable();
        unseen.truncate(MAILBOX_PASS_MESSAGES_MAX);
        let mut pass = MailboxPass::default();
        for uid in unseen {
            // The size first: a message too large is never fetched.
            let size = {
                let mut fetches = session
                    .uid_fetch(uid.to_string(), "RFC822.SIZE")
                    .await
                    .map_err(|e| unreachable(&e))?;
                let mut size = None;
                while let Some(f) = fetches.next().await {
                    let f = f.map_err(|e| unreachable(&e))?;
                    size = size.or(f.size);
                }
                size
            };
            let mail = match size {
                Some(bytes) if bytes > EMAIL_BYTES_MAX => ReadMail::for_a_human(
                    format!("imap:{uid_validity}:{uid}"),
                    format!(
                        "(an e-mail of {bytes} bytes, more than evac reads ({EMAIL_BYTES_MAX}); open it in the mailbox)"
                    ),
                ),
                _ => {
                    let mut fetches = session
                        .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                        .await
                        .map_err(|e| unreachable(&e))?;
                    let mut raw = Vec::new();
                    while let Some(f) = fetches.next().await {
                        let f = f.map_err(|e| unreachable(&e))?;
                        if let Some(body) = f.body() {
                            raw = body.to_vec();
                        }
                    }
                    read_mail(uid_validity, uid, &raw)
                }
            };
            self.take_in_mail(mail, &mut pass).await?;
            let stored = session
                .uid_store(uid.to_string(), format!("+FLAGS ({READ_KEYWORD})"))
                .await
                .map_err(|e| unreachable(&e))?;
            let _: Vec<_> = stored.collect().await;
        }
        session.logout().await.map_err(|e| unreachable(&e))?;
        Ok(pass)
    }

    /// One e-mail as it came (its raw bytes, as in an `.eml` file), read as the mailbox reader
    /// reads each message: stored, attached or left for a human, its spreadsheets imported
    /// from the senders `import_from` names.
    pub async fn take_in_email(&self, raw: &[u8]) -> Result<crate::Received, AppError> {
        use sha2::Digest;
        if raw.len() > EMAIL_BYTES_MAX as usize {
            return Err(AppError::BadInput(format!(
                "the e-mail is larger than {EMAIL_BYTES_MAX} bytes"
            )));
        }
        // Without a Message-ID, the bytes themselves say whether it was read before.
        let digest = sha2::Sha256::digest(raw);
        let fallback = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        let mut pass = MailboxPass::default();
        self.take_in_mail(read_mail(0, fallback, raw), &mut pass)
            .await
    }

    async fn take_in_mail(
        &self,
        mail: ReadMail,
        pass: &mut MailboxPass,
    ) -> Result<crate::Received, AppError> {
        let at = Timestamp::now();
        let mut notes = Vec::new();
        let mut sheet_needs_a_human = false;
        let importer = self
            .settings
            .messaging
            .email
            .as_ref()
            .is_some_and(|e| e.imports_from(&mail.sender));
        // Proof of who writes: a reply naming a message evac sent this very address.
        let sender_proven = !mail.replies_to.is_empty()
            && self
                .store
                .messages(
                    &evac_store::MessageFilter {
                        recipient: Some(mail.sender.clone()),
                        ..Default::default()
                    },
                    crate::messaging::MESSAGES_LISTED_MAX,
                )
                .await?
                .iter()
                .any(|m| {
                    m.provider_id
                        .as_ref()
                        .is_some_and(|id| mail.replies_to.contains(id))
                });
        for (name, bytes) in &mail.attachments {
            if !importer {
                notes.push(format!(
                    "[{name}: not imported: the sender is not in [email] import_from; import it by hand if it is genuine]"
                ));
                sheet_needs_a_human = true;
                continue;
            }
            let extension = name.rsplit_once('.').map_or("csv", |(_, e)| e);
            let file = tempfile::Builder::new()
                .suffix(&format!(".{extension}"))
                .tempfile()
                .and_then(|f| std::fs::write(f.path(), bytes).map(|()| f))
                .map_err(|e| AppError::BadInput(format!("cannot keep an attachment: {e}")))?;
            // The public sends these, as the public form does: an unauthenticated actor.
            match self
                .import_sheet(&evac_model::Actor::Public, file.path(), None, &|_| {})
                .await
            {
                Ok((summary, rejects)) => {
                    pass.imported += summary.imported;
                    pass.rejected_rows += summary.rejected_rows;
                    let mut note = format!(
                        "[{name}: {} rows, {} requests imported, {} imported before, {} rows refused]",
                        summary.rows,
                        summary.imported,
                        summary.already_imported,
                        summary.rejected_rows
                    );
                    for r in rejects.iter().take(20) {
                        note.push_str(&format!("\n  row {} {}: {}", r.row, r.column, r.reason));
                    }
                    sheet_needs_a_human |= summary.rejected_rows > 0;
                    notes.push(note);
                }
                Err(AppError::BadInput(why)) => {
                    sheet_needs_a_human = true;
                    notes.push(format!("[{name}: not imported: {why}]"));
                }
                Err(e) => return Err(e),
            }
        }
        for name in &mail.skipped_attachments {
            notes.push(format!("[{name}: not read; open it in the mailbox]"));
            sheet_needs_a_human = true;
        }
        let text = if notes.is_empty() {
            mail.text
        } else {
            format!("{}\n\n{}", mail.text, notes.join("\n"))
        };
        let received = self
            .take_in(Incoming {
                reply_to: None,
                channel: "email",
                provider_id: Some(mail.provider_id),
                sender: &mail.sender,
                text: &text,
                words: &mail.words,
                needs_a_human: sheet_needs_a_human,
                sender_proven,
                at,
            })
            .await?;
        pass.read += 1;
        Ok(received)
    }

    /// Reads the mailbox every `poll_seconds` until the answer is dropped.
    pub fn start_mail_reader(&self) -> Option<crate::Senders> {
        let poll = self
            .settings
            .messaging
            .email
            .as_ref()?
            .imap
            .as_ref()?
            .poll_seconds
            .max(1);
        let app = self.clone();
        let task = tokio::spawn(async move {
            loop {
                match app.read_mailbox().await {
                    Ok(pass) if pass.read > 0 => {
                        tracing::info!(read = pass.read, imported = pass.imported, "mailbox read")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "the mailbox could not be read; trying again")
                    }
                }
                tokio::time::sleep(Duration::from_secs(poll)).await;
            }
        });
        Some(crate::Senders::of(vec![task]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_read_by_its_own_words_and_its_sheet_is_kept() {
        let raw = b"From: Anna <Anna@Example.org>\r\nTo: crisis@evac.test\r\nSubject: Re: evac K7Q-4F2-9MX: seat\r\nMessage-ID: <abc@example.org>\r\nIn-Reply-To: <01a2@evac.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNO\r\n\r\nOn Fri, evac wrote:\r\n> seat on KC901\r\n--XX\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"family.csv\"\r\n\r\nsurname,given\r\nIvanova,Anna\r\n--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"passport.pdf\"\r\n\r\n%PDF\r\n--XX--\r\n";
        let mail = read_mail(7, 3, raw);
        assert_eq!(mail.sender, "anna@example.org");
        assert_eq!(mail.provider_id, "<abc@example.org>");
        assert_eq!(mail.replies_to, vec!["<01a2@evac.test>".to_string()]);
        assert_eq!(mail.words, "NO");
        assert!(mail.text.starts_with("Re: evac K7Q-4F2-9MX: seat"));
        assert_eq!(mail.attachments.len(), 1);
        assert_eq!(mail.attachments[0].0, "family.csv");
        assert!(String::from_utf8_lossy(&mail.attachments[0].1).contains("Ivanova"));
        assert_eq!(mail.skipped_attachments, vec!["passport.pdf".to_string()]);
    }

    #[test]
    fn spreadsheets_are_taken_from_the_senders_named_only() {
        let settings = EmailSettings {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_username: None,
            smtp_password: None,
            from: "crisis@evac.test".into(),
            messages_per_second: 1,
            imap: None,
            import_from: vec!["desk@ngo.example".into(), "@partner.example".into()],
        };
        assert!(settings.imports_from("Desk@NGO.example"));
        assert!(settings.imports_from("anyone@partner.example"));
        assert!(!settings.imports_from("desk@ngo.example.evil"));
        assert!(!settings.imports_from("someone@notpartner.example.org"));
    }

    #[test]
    fn garbage_is_kept_for_a_human() {
        let mail = read_mail(7, 3, b"");
        assert_eq!(mail.provider_id, "imap:7:3");
        assert!(mail.words.is_empty());
    }

    #[test]
    fn subjects_are_cut_at_a_word() {
        assert_eq!(subject_of("evac: short"), "evac: short");
        let long = "evac K7Q-4F2-9MX: seat on KC901 from ALA, departs 07.01 14:00 local. Be there by 11:00.";
        let subject = subject_of(long);
        assert!(subject.ends_with('…'));
        assert!(subject.chars().count() <= SUBJECT_CHARS_MAX + 1);
    }
}
