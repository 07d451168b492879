//! Configuration: flags first, then `EVAC_*` environment variables (both parsed by clap), then
//! an optional TOML file, then defaults. Arguments are parsed first and then resolved into a
//! [`Config`] that the commands use; nothing reads the environment after this point.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use evac_app::DatabaseUrl;

pub const DEFAULT_DATA_DIR: &str = "evac-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Options every command shares.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// A TOML file with defaults for these options (keys: data_dir, database_url, listen,
    /// default_region, log) and the situation's settings: a [trust] table
    /// (reliability_worst = "B", credibility_worst = 2, half_life_hours = 24.0,
    /// claim_hours_max = 168.0) and a [travel]
    /// table (road_factor = 1.3, speed_kmh = 60.0). Flags and EVAC_* variables override it.
    #[arg(long, env = "EVAC_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database and demo files [default: evac-data]
    #[arg(long, env = "EVAC_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite:///path/evac.db or postgres://user@host/db [default: sqlite in the data directory]
    #[arg(long, env = "EVAC_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Country (ISO 3166 alpha-2) for phone numbers written without a country code [default: KZ]
    #[arg(long, env = "EVAC_DEFAULT_REGION", global = true)]
    pub default_region: Option<String>,
    /// Log filter, e.g. info, debug, evac_web=debug [default: info]
    #[arg(long, env = "EVAC_LOG", global = true)]
    pub log: Option<String>,
    /// The crisis's time zone (IANA name), in which the desk shows times [default: Asia/Almaty]
    #[arg(long, env = "EVAC_TIME_ZONE", global = true)]
    pub time_zone: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
    default_region: Option<String>,
    log: Option<String>,
    /// The crisis's time zone (IANA name) for the desk's times.
    time_zone: Option<String>,
    /// Load balancers on other hosts whose X-Forwarded-For is believed (addresses).
    #[serde(default)]
    trusted_proxies: Vec<std::net::IpAddr>,
    trust: Option<evac_model::TrustPolicy>,
    travel: Option<evac_geo::TravelModel>,
    messaging: Option<MessagingFile>,
    sms: Option<SmsFile>,
    email: Option<EmailFile>,
    telegram: Option<TelegramFile>,
    /// `[public_limit]`: per_address_per_s (0: off) and burst, for the public side.
    public_limit: Option<evac_app::PublicLimit>,
    /// `[account_limit]`: per_account_per_s (0: off) and burst, for the API per staff account.
    account_limit: Option<evac_app::AccountLimit>,
    /// `[retention]`: when the crisis was closed and how many days later its personal data is
    /// anonymised by itself.
    retention: Option<RetentionFile>,
    /// The boarding-pass key file, the same on every node [default: pass-keys in the data
    /// directory].
    pass_key_file: Option<PathBuf>,
}

/// `[retention]`: the crisis's closing (RFC 3339) and the days after it its personal data is
/// kept.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionFile {
    crisis_closed_at: String,
    anonymise_after_days: u32,
}

/// `[messaging]`: how requesters are told and heard.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MessagingFile {
    /// Where requesters look up their status and pass, e.g. "https://evac.example.org".
    public_url: Option<String>,
    /// The secret channels send with delivery reports and inbound messages.
    callback_secret: Option<String>,
    /// This node's name in the outbox's claims (default: a random one per start).
    node: Option<String>,
}

/// `[sms]`: Kannel's sendsms interface; without this table, notices go to the log channel.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsFile {
    sendsms_url: String,
    username: String,
    password: String,
    /// The base URL Kannel reaches evac at, for delivery reports.
    callback_url: String,
    #[serde(default = "default_sms_rate")]
    messages_per_second: u32,
    /// How long a restarted node waits for Kannel's reports of the sends a crash cut (s).
    #[serde(default = "default_sms_reports_within")]
    reports_within_s: u32,
}

fn default_sms_reports_within() -> u32 {
    evac_app::KANNEL_REPORTS_WITHIN_S
}

fn default_sms_rate() -> u32 {
    10
}

/// `[email]`: an SMTP relay for notices by e-mail, and `[email.imap]`, the mailbox
/// requesters write to.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailFile {
    smtp_host: String,
    #[serde(default = "default_smtp_port")]
    smtp_port: u16,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    /// "Crisis centre <crisis@mfa.example>"
    from: String,
    #[serde(default = "default_email_rate")]
    messages_per_second: u32,
    /// Senders whose attached spreadsheets are imported: addresses or "@domain"s.
    #[serde(default)]
    import_from: Vec<String>,
    imap: Option<ImapFile>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImapFile {
    host: String,
    #[serde(default = "default_imap_port")]
    port: u16,
    username: String,
    password: String,
    #[serde(default = "default_mailbox")]
    mailbox: String,
    #[serde(default = "default_poll_seconds")]
    poll_seconds: u64,
}

fn default_smtp_port() -> u16 {
    25
}
/// `[telegram]`: a bot on Telegram's Bot API (or a server that speaks it) people link their
/// chat to by sharing their number.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TelegramFile {
    #[serde(default = "default_telegram_api")]
    api_url: String,
    token: String,
    #[serde(default = "default_telegram_rate")]
    messages_per_second: u32,
    /// Read updates by long polling (on one node); else only the webhook takes them.
    #[serde(default)]
    poll: bool,
    /// The secret Telegram sends with webhook calls (setWebhook's secret_token).
    webhook_secret: Option<String>,
}

fn default_telegram_api() -> String {
    "https://api.telegram.org".into()
}

fn default_telegram_rate() -> u32 {
    25
}

fn default_email_rate() -> u32 {
    20
}
fn default_imap_port() -> u16 {
    143
}
fn default_mailbox() -> String {
    "INBOX".into()
}
fn default_poll_seconds() -> u64 {
    30
}

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    /// Whether the database URL was chosen explicitly (not derived from the data directory).
    pub database_explicit: bool,
    pub listen: String,
    pub settings: evac_app::Settings,
    pub log: String,
}

/// The boarding-pass key file's name in the data directory.
const PASS_KEY_FILE: &str = "pass-keys";

impl GlobalArgs {
    pub fn resolve(&self, listen_flag: Option<&str>) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("the config file {} is not valid", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let explicit_url = self.database_url.clone().or(file.database_url);
        let database = match &explicit_url {
            Some(url) => DatabaseUrl::parse(url)?,
            None => DatabaseUrl::Sqlite(data_dir.join("evac.db")),
        };
        let region_text = self
            .default_region
            .clone()
            .or(file.default_region)
            .unwrap_or_else(|| "KZ".into());
        let default_region = match region_text.as_str() {
            "" | "none" => None,
            code => Some(
                code.parse()
                    .map_err(|e| anyhow::anyhow!("--default-region: {e}"))?,
            ),
        };
        let listen = listen_flag
            .map(str::to_string)
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let messaging = messaging(
            file.messaging.unwrap_or_default(),
            file.sms,
            file.email,
            file.telegram,
            &listen,
        )?;
        let pass_key_file = file
            .pass_key_file
            .unwrap_or_else(|| data_dir.join(PASS_KEY_FILE));
        Ok(Config {
            data_dir,
            database,
            database_explicit: explicit_url.is_some(),
            listen,
            settings: evac_app::Settings {
                default_region,
                trust: check_trust(file.trust.unwrap_or_default())?,
                travel: check_travel(file.travel.unwrap_or_default())?,
                messaging,
                public_limit: file.public_limit.unwrap_or_default(),
                account_limit: file.account_limit.unwrap_or_default(),
                retention: file.retention.map(retention_schedule).transpose()?,
                pass_key_file: Some(pass_key_file),
                desk_time_zone: time_zone(
                    self.time_zone
                        .as_deref()
                        .or(file.time_zone.as_deref())
                        .unwrap_or(evac_app::DEFAULT_DESK_TIME_ZONE),
                )?,
                trusted_proxies: file.trusted_proxies,
            },
            log: self
                .log
                .clone()
                .or(file.log)
                .unwrap_or_else(|| "info".into()),
        })
    }
}

/// A time zone by its IANA name, from the system's time zone database.
fn time_zone(name: &str) -> anyhow::Result<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name).map_err(|e| {
        anyhow::anyhow!(
            "time zone '{name}' is not known ({e}); give an IANA name like Asia/Almaty or UTC"
        )
    })
}

fn check_trust(trust: evac_model::TrustPolicy) -> anyhow::Result<evac_model::TrustPolicy> {
    if !('A'..='F').contains(&trust.reliability_worst) {
        bail!(
            "[trust] reliability_worst must be a letter A to F, not '{}'",
            trust.reliability_worst
        );
    }
    if !(1..=6).contains(&trust.credibility_worst) {
        bail!(
            "[trust] credibility_worst must be 1 to 6, not {}",
            trust.credibility_worst
        );
    }
    if trust.half_life_hours.is_nan() || trust.half_life_hours <= 0.0 {
        bail!("[trust] half_life_hours must be more than 0");
    }
    if trust.claim_hours_max.is_nan() || trust.claim_hours_max <= 0.0 {
        bail!(
            "[trust] claim_hours_max must be more than 0 (hours after which a report is history)"
        );
    }
    Ok(trust)
}

/// The messaging settings; links in notices point at the address evac listens on unless
/// `public_url` says where requesters reach it.
fn messaging(
    file: MessagingFile,
    sms: Option<SmsFile>,
    email: Option<EmailFile>,
    telegram: Option<TelegramFile>,
    listen: &str,
) -> anyhow::Result<evac_app::MessagingSettings> {
    if let Some(secret) = telegram.as_ref().and_then(|t| t.webhook_secret.as_ref())
        && secret.len() < evac_app::CALLBACK_SECRET_CHARS_MIN
    {
        bail!(
            "[telegram] webhook_secret must be at least {} characters (a random string)",
            evac_app::CALLBACK_SECRET_CHARS_MIN
        );
    }
    if telegram.as_ref().is_some_and(|t| t.token.trim().is_empty()) {
        bail!("[telegram] token is empty: give the bot's token from @BotFather");
    }
    let messenger = telegram.map(|t| evac_app::MessengerSettings {
        api_url: t.api_url,
        token: t.token,
        messages_per_second: t.messages_per_second.max(1),
        poll: t.poll,
        webhook_secret: t.webhook_secret,
    });
    let email = match email {
        Some(e) => Some(evac_app::EmailSettings {
            smtp_host: e.smtp_host,
            smtp_port: e.smtp_port,
            smtp_username: e.smtp_username,
            smtp_password: e.smtp_password,
            from: e.from,
            messages_per_second: e.messages_per_second.max(1),
            import_from: e.import_from,
            imap: e.imap.map(|i| evac_app::ImapSettings {
                host: i.host,
                port: i.port,
                username: i.username,
                password: i.password,
                mailbox: i.mailbox,
                poll_seconds: i.poll_seconds.max(1),
            }),
        }),
        None => None,
    };
    let defaults = evac_app::MessagingSettings::default();
    if sms.is_some() && file.callback_secret.is_none() {
        bail!("[sms] needs [messaging] callback_secret, which Kannel's delivery reports carry");
    }
    if let Some(secret) = &file.callback_secret
        && secret.len() < evac_app::CALLBACK_SECRET_CHARS_MIN
    {
        bail!(
            "[messaging] callback_secret must be at least {} characters (a random string)",
            evac_app::CALLBACK_SECRET_CHARS_MIN
        );
    }
    Ok(evac_app::MessagingSettings {
        public_url: file
            .public_url
            .unwrap_or_else(|| format!("http://{listen}")),
        callback_secret: file.callback_secret,
        node: file.node.unwrap_or(defaults.node),
        sms: sms.map(|s| evac_app::KannelSettings {
            sendsms_url: s.sendsms_url,
            username: s.username,
            password: s.password,
            callback_url: s.callback_url,
            messages_per_second: s.messages_per_second.max(1),
            reports_within_s: s.reports_within_s,
        }),
        email,
        messenger,
        be_there_minutes: defaults.be_there_minutes,
    })
}

fn retention_schedule(file: RetentionFile) -> anyhow::Result<evac_app::RetentionSchedule> {
    let crisis_closed_at = file.crisis_closed_at.parse().map_err(|_| {
        anyhow::anyhow!(
            "[retention] crisis_closed_at '{}' is not an RFC 3339 time like 2022-02-01T00:00:00Z",
            file.crisis_closed_at
        )
    })?;
    Ok(evac_app::RetentionSchedule {
        crisis_closed_at,
        anonymise_after_days: file.anonymise_after_days,
    })
}

fn check_travel(travel: evac_geo::TravelModel) -> anyhow::Result<evac_geo::TravelModel> {
    if !(travel.road_factor >= 1.0 && travel.speed_kmh > 0.0) {
        bail!("[travel] road_factor must be at least 1.0 and speed_kmh more than 0");
    }
    Ok(travel)
}

impl Config {
    /// The data directory must exist unless the command may create it: a mistyped path must
    /// not quietly become a new, empty crisis.
    pub fn require_data_dir(&self) -> anyhow::Result<()> {
        if !self.database_explicit && !self.data_dir.is_dir() {
            bail!(
                "the data directory {} does not exist; check --data-dir, or create it with `evac migrate` (or `evac demo`)",
                self.data_dir.display()
            );
        }
        Ok(())
    }

    pub fn create_data_dir(&self) -> anyhow::Result<()> {
        if !self.database_explicit && !self.data_dir.is_dir() {
            // Only its owner may list it: it holds the database and the demo's files.
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder
                .create(&self.data_dir)
                .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
        }
        Ok(())
    }
}
