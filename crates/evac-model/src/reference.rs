//! Reference codes: what a requester writes down, reads over a bad phone line and types back.
//!
//! A code is nine characters shown as `K7Q-4F2-9MX`: eight payload characters and one check
//! character. The alphabet has 31 symbols and leaves out the look-alikes 0/O and 1/I/L, so a
//! code read aloud or from a handwritten note cannot be ambiguous. Because 31 is prime, the
//! check (the position-weighted sum of all nine symbols, weights 1..=9, is 0 modulo 31) catches
//! every single mistyped character and every swap of two neighbours.
//!
//! New requests take their codes from a [`ReferenceSequence`]: the first four payload
//! characters count up from one request to the next, the last four are random. The store finds
//! a request by its code through an index; wholly random codes put every new entry on a random
//! page of that index, which under intake was a quarter of all the pages SQLite wrote, and the
//! share grows with the index (docs/BENCHMARKS.md). Codes drawn in a row sort next to each
//! other, so a batch of new requests touches one or two of its pages. The random half keeps a
//! code from being guessed from a neighbour's (one chance in 923,521) and keeps two servers on
//! one database apart; the store still refuses a taken code, and the caller draws again.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use rand::Rng;

/// The 31 symbols, in value order. No 0, 1, I, L or O.
const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const PAYLOAD_LEN: usize = 8;
/// Payload characters a [`ReferenceSequence`] counts in; the rest of the payload is random.
const COUNTING_LEN: usize = 4;
/// Values of the counting characters: 31⁴ = 923,521, after which the count wraps around.
const COUNTING_VALUES: u32 = 31 * 31 * 31 * 31;
const CODE_LEN: usize = PAYLOAD_LEN + 1;
const MODULUS: u32 = 31;
/// The inverse of the check character's weight (9) modulo 31: 9 * 7 = 63 = 2 * 31 + 1.
const INVERSE_OF_CHECK_WEIGHT: u32 = 7;

/// A valid reference code: right length, right alphabet, check character correct.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReferenceCode([u8; CODE_LEN]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceCodeError {
    #[error("a reference code has 9 characters (like K7Q-4F2-9MX), this one has {0}")]
    WrongLength(usize),
    #[error(
        "'{0}' is never used in reference codes (there is no 0, O, 1, I or L); check the code as written"
    )]
    InvalidCharacter(char),
    #[error("the code looks mistyped (its check character does not match); check each character")]
    CheckFailed,
}

fn value_of(symbol: u8) -> Option<u32> {
    ALPHABET.iter().position(|&s| s == symbol).map(|p| p as u32)
}

/// Fills `slots` with symbols drawn at random.
fn fill_random(slots: &mut [u8], rng: &mut impl Rng) {
    for slot in slots {
        *slot = ALPHABET[rng.random_range(0..ALPHABET.len())];
    }
}

fn weighted_sum(symbols: &[u8]) -> u32 {
    symbols
        .iter()
        .enumerate()
        .map(|(i, &s)| (i as u32 + 1) * value_of(s).expect("symbols come from the alphabet"))
        .sum::<u32>()
        % MODULUS
}

impl ReferenceCode {
    /// A wholly random code; uniqueness is the store's job (it retries on a collision). New
    /// requests draw from a [`ReferenceSequence`] instead.
    pub fn generate(rng: &mut impl Rng) -> Self {
        let mut payload = [0u8; PAYLOAD_LEN];
        fill_random(&mut payload, rng);
        Self::with_check(payload)
    }

    /// The payload followed by its check character.
    fn with_check(payload: [u8; PAYLOAD_LEN]) -> Self {
        let mut code = [0u8; CODE_LEN];
        code[..PAYLOAD_LEN].copy_from_slice(&payload);
        let partial = weighted_sum(&code[..PAYLOAD_LEN]);
        let check = ((MODULUS - partial) % MODULUS) * INVERSE_OF_CHECK_WEIGHT % MODULUS;
        code[PAYLOAD_LEN] = ALPHABET[check as usize];
        debug_assert_eq!(weighted_sum(&code), 0);
        ReferenceCode(code)
    }

    /// The nine symbols without separators, as stored and indexed.
    pub fn compact(&self) -> &str {
        std::str::from_utf8(&self.0).expect("alphabet is ASCII")
    }
}

/// Draws reference codes whose first four characters count up (see the module's doc), from a
/// random start so that a restarted server or a second one does not begin where another did.
/// Shared by every task that stores requests: one counter per process.
#[derive(Debug)]
pub struct ReferenceSequence {
    next: AtomicU32,
}

impl ReferenceSequence {
    /// A sequence whose first code counts from a random place.
    pub fn starting_anywhere(rng: &mut impl Rng) -> Self {
        Self::starting_at(rng.random_range(0..COUNTING_VALUES))
    }

    /// A sequence whose first code counts from `count` (taken modulo 31⁴).
    pub fn starting_at(count: u32) -> Self {
        ReferenceSequence {
            next: AtomicU32::new(count % COUNTING_VALUES),
        }
    }

    /// The next code: the count in the first four characters (most significant first, so codes
    /// sort in the order they were drawn until the count wraps), four random ones after it.
    pub fn draw(&self, rng: &mut impl Rng) -> ReferenceCode {
        let count = self
            .next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some((n + 1) % COUNTING_VALUES)
            })
            .expect("the update always gives a value");
        let mut payload = [0u8; PAYLOAD_LEN];
        let mut rest = count;
        for slot in payload[..COUNTING_LEN].iter_mut().rev() {
            *slot = ALPHABET[(rest % MODULUS) as usize];
            rest /= MODULUS;
        }
        fill_random(&mut payload[COUNTING_LEN..], rng);
        ReferenceCode::with_check(payload)
    }
}

impl FromStr for ReferenceCode {
    type Err = ReferenceCodeError;

    /// Accepts any case, with or without hyphens and spaces.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let symbols: Vec<char> = input
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}'..='\u{2015}'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if symbols.len() != CODE_LEN {
            return Err(ReferenceCodeError::WrongLength(symbols.len()));
        }
        let mut code = [0u8; CODE_LEN];
        for (slot, c) in code.iter_mut().zip(&symbols) {
            if !c.is_ascii() || value_of(*c as u8).is_none() {
                return Err(ReferenceCodeError::InvalidCharacter(*c));
            }
            *slot = *c as u8;
        }
        if weighted_sum(&code) != 0 {
            return Err(ReferenceCodeError::CheckFailed);
        }
        Ok(ReferenceCode(code))
    }
}

impl fmt::Display for ReferenceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.compact();
        write!(f, "{}-{}-{}", &s[0..3], &s[3..6], &s[6..9])
    }
}

impl fmt::Debug for ReferenceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReferenceCode({self})")
    }
}

impl serde::Serialize for ReferenceCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ReferenceCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn codes(n: usize) -> Vec<ReferenceCode> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        (0..n).map(|_| ReferenceCode::generate(&mut rng)).collect()
    }

    #[test]
    fn generated_codes_round_trip_through_display_and_parse() {
        for code in codes(500) {
            let shown = code.to_string();
            assert_eq!(shown.len(), 11, "{shown}");
            assert_eq!(shown.parse::<ReferenceCode>(), Ok(code));
            assert_eq!(
                shown
                    .to_lowercase()
                    .replace('-', " ")
                    .parse::<ReferenceCode>(),
                Ok(code)
            );
        }
    }

    #[test]
    fn a_sequence_draws_valid_codes_that_sort_in_drawing_order_until_the_count_wraps() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let sequence = ReferenceSequence::starting_at(COUNTING_VALUES - 300);
        let drawn: Vec<ReferenceCode> = (0..600).map(|_| sequence.draw(&mut rng)).collect();
        for code in &drawn {
            assert_eq!(code.to_string().parse::<ReferenceCode>(), Ok(*code));
        }
        let (before_wrap, after_wrap) = drawn.split_at(300);
        assert!(before_wrap.is_sorted(), "{before_wrap:?}");
        assert!(after_wrap.is_sorted(), "{after_wrap:?}");
        assert_eq!(before_wrap[299].compact()[..4], *"ZZZZ");
        assert_eq!(after_wrap[0].compact()[..4], *"2222");
        // The random half: codes with neighbouring counts do not share their last four.
        let distinct_tails: std::collections::HashSet<&str> =
            drawn.iter().map(|c| &c.compact()[4..8]).collect();
        assert!(distinct_tails.len() > 590, "{}", distinct_tails.len());
    }

    #[test]
    fn sequences_from_random_starts_begin_in_different_places() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let starts: std::collections::HashSet<String> = (0..20)
            .map(|_| {
                ReferenceSequence::starting_anywhere(&mut rng)
                    .draw(&mut rng)
                    .compact()[..4]
                    .to_string()
            })
            .collect();
        assert_eq!(starts.len(), 20);
    }

    #[test]
    fn every_single_substitution_is_detected() {
        for code in codes(50) {
            let compact = code.compact().as_bytes().to_vec();
            for pos in 0..CODE_LEN {
                for &other in ALPHABET.iter().filter(|&&s| s != compact[pos]) {
                    let mut typo = compact.clone();
                    typo[pos] = other;
                    let typo = String::from_utf8(typo).unwrap();
                    assert_eq!(
                        typo.parse::<ReferenceCode>(),
                        Err(ReferenceCodeError::CheckFailed),
                        "{typo}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_neighbour_swap_is_detected() {
        for code in codes(200) {
            let compact = code.compact().as_bytes().to_vec();
            for pos in 0..CODE_LEN - 1 {
                if compact[pos] == compact[pos + 1] {
                    continue;
                }
                let mut swapped = compact.clone();
                swapped.swap(pos, pos + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                assert!(swapped.parse::<ReferenceCode>().is_err(), "{swapped}");
            }
        }
    }

    #[test]
    fn look_alikes_and_lengths_are_named_in_the_error() {
        assert_eq!(
            "K7Q-4F2-9M0".parse::<ReferenceCode>(),
            Err(ReferenceCodeError::InvalidCharacter('0'))
        );
        assert_eq!(
            "K7Q-4F2-9MI".parse::<ReferenceCode>(),
            Err(ReferenceCodeError::InvalidCharacter('I'))
        );
        assert_eq!(
            "K7Q-4F2".parse::<ReferenceCode>(),
            Err(ReferenceCodeError::WrongLength(6))
        );
    }
}
