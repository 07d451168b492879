//! Files that leave the crisis centre (request exports, manifests, boarding passes, a person's
//! data), optionally encrypted in the age format (<https://age-encryption.org/v1>): to one or
//! more recipients' public keys (`age1…`, made by `age-keygen`), or to a passphrase read from an
//! environment variable, never from the command line where `ps` and shell history would show
//! it. A spreadsheet mailed to a partner or carried on a USB stick is then unreadable to anyone
//! else; any age implementation decrypts it (`age -d -i key.txt requests.csv.age`).

use std::io::{self, Write};

use age::secrecy::SecretString;
use anyhow::{Context, bail};

/// A passphrase shorter than this is refused: an export holds a crisis's personal data.
pub const PASSPHRASE_CHARS_MIN: usize = 12;

/// How a file is to be sealed; nothing given writes it in clear (0600 all the same).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Sealing {
    /// Encrypt the file to this age recipient (an `age1…` public key from `age-keygen`);
    /// repeat it for several recipients
    #[arg(long = "encrypt-to", value_name = "AGE_RECIPIENT")]
    pub recipients: Vec<String>,
    /// Encrypt the file with the passphrase held in this environment variable (at least 12
    /// characters; never put a passphrase on the command line)
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

/// A writer that encrypts what passes through it, or not. [`Sealed::finish`] must be called:
/// an age file without its last chunk does not decrypt.
pub enum Sealed<W: Write> {
    Clear(W),
    Age(age::stream::StreamWriter<W>),
}

/// A checked [`Sealing`]: the keys parsed, the passphrase read. Made before any file is
/// created, so a refused option leaves nothing behind.
pub struct Sealer(Option<age::Encryptor>);

impl Sealing {
    /// Whether the file will be encrypted.
    pub fn encrypts(&self) -> bool {
        !self.recipients.is_empty() || self.passphrase_env.is_some()
    }

    /// Checks the options; refuses, naming the option, a recipient that is not one, an empty
    /// or short passphrase, or both ways at once.
    pub fn prepare(&self) -> anyhow::Result<Sealer> {
        let encryptor = match (&self.recipients[..], &self.passphrase_env) {
            ([], None) => return Ok(Sealer(None)),
            ([_, ..], Some(_)) => {
                bail!("choose one: --encrypt-to (public keys) or --passphrase-env, not both")
            }
            ([], Some(var)) => {
                let passphrase = std::env::var(var).map_err(|_| {
                    anyhow::anyhow!(
                        "--passphrase-env {var}: the environment variable {var} is not set (or not UTF-8)"
                    )
                })?;
                if passphrase.chars().count() < PASSPHRASE_CHARS_MIN {
                    bail!(
                        "--passphrase-env {var}: the passphrase must be at least {PASSPHRASE_CHARS_MIN} characters"
                    );
                }
                age::Encryptor::with_user_passphrase(SecretString::from(passphrase))
            }
            (given, None) => {
                let recipients = given
                    .iter()
                    .map(|r| {
                        r.trim().parse::<age::x25519::Recipient>().map_err(|e| {
                            anyhow::anyhow!(
                                "--encrypt-to '{r}' is not an age recipient ({e}): give the public key `age-keygen` prints, age1…"
                            )
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                    .context("cannot encrypt to these recipients")?
            }
        };
        Ok(Sealer(Some(encryptor)))
    }
}

impl Sealer {
    /// Wraps `out`: what is written to it is encrypted (or not, without a sealing).
    pub fn wrap<W: Write>(self, out: W) -> anyhow::Result<Sealed<W>> {
        Ok(match self.0 {
            None => Sealed::Clear(out),
            Some(encryptor) => Sealed::Age(
                encryptor
                    .wrap_output(out)
                    .context("cannot begin the encrypted file")?,
            ),
        })
    }

    /// Writes `bytes` to `out`, sealed, and finishes the file.
    pub fn write_all<W: Write>(self, out: W, bytes: &[u8]) -> anyhow::Result<W> {
        let mut sealed = self.wrap(out)?;
        sealed.write_all(bytes)?;
        Ok(sealed.finish()?)
    }
}

impl<W: Write> Sealed<W> {
    /// Ends the file (an age file's last chunk) and hands back the writer, flushed.
    pub fn finish(self) -> io::Result<W> {
        let mut out = match self {
            Sealed::Clear(out) => out,
            Sealed::Age(stream) => stream.finish()?,
        };
        out.flush()?;
        Ok(out)
    }
}

impl<W: Write> Write for Sealed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sealed::Clear(out) => out.write(buf),
            Sealed::Age(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sealed::Clear(out) => out.flush(),
            Sealed::Age(stream) => stream.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn open(sealed: &[u8], identity: &age::x25519::Identity) -> Vec<u8> {
        let decryptor = age::Decryptor::new(sealed).unwrap();
        let mut reader = decryptor
            .decrypt(std::iter::once(identity as &dyn age::Identity))
            .unwrap();
        let mut clear = Vec::new();
        reader.read_to_end(&mut clear).unwrap();
        clear
    }

    #[test]
    fn a_file_sealed_to_two_recipients_opens_for_each_and_not_for_a_stranger() {
        let (a, b, stranger) = (
            age::x25519::Identity::generate(),
            age::x25519::Identity::generate(),
            age::x25519::Identity::generate(),
        );
        let sealing = Sealing {
            recipients: vec![a.to_public().to_string(), b.to_public().to_string()],
            ..Default::default()
        };
        // More than one 64 KiB chunk, so the stream's chunking is exercised.
        let text = "reference,surname\nK7Q-4F2-9MX,Токаева\n".repeat(5_000);
        let sealed = sealing
            .prepare()
            .unwrap()
            .write_all(Vec::new(), text.as_bytes())
            .unwrap();
        assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
        assert!(!sealed.windows(7).any(|w| w == b"K7Q-4F2"), "no clear text");
        assert_eq!(open(&sealed, &a), text.as_bytes());
        assert_eq!(open(&sealed, &b), text.as_bytes());
        let refused = age::Decryptor::new(&sealed[..])
            .unwrap()
            .decrypt(std::iter::once(&stranger as &dyn age::Identity));
        assert!(refused.is_err());
    }

    #[test]
    fn bad_options_are_named() {
        let not_a_key = Sealing {
            recipients: vec!["age1nonsense".into()],
            ..Default::default()
        };
        let e = not_a_key.prepare().err().unwrap().to_string();
        assert!(e.contains("--encrypt-to 'age1nonsense'"), "{e}");
        let both = Sealing {
            recipients: vec![age::x25519::Identity::generate().to_public().to_string()],
            passphrase_env: Some("EVAC_TEST_NEVER_SET".into()),
        };
        let e = both.prepare().err().unwrap().to_string();
        assert!(e.contains("not both"), "{e}");
        let unset = Sealing {
            passphrase_env: Some("EVAC_TEST_NEVER_SET_EITHER".into()),
            ..Default::default()
        };
        let e = unset.prepare().err().unwrap().to_string();
        assert!(e.contains("EVAC_TEST_NEVER_SET_EITHER is not set"), "{e}");
        let clear = Sealing::default()
            .prepare()
            .unwrap()
            .write_all(Vec::new(), b"plain")
            .unwrap();
        assert_eq!(clear, b"plain");
    }
}
