//! Reference codes: what a requester writes down, reads over a bad phone line and types back.
//!
//! A code is nine characters shown as `K7Q-4F2-9MX`: eight random characters and one check
//! character. The alphabet has 31 symbols and leaves out the look-alikes 0/O and 1/I/L, so a
//! code read aloud or from a handwritten note cannot be ambiguous. Because 31 is prime, the
//! check (the position-weighted sum of all nine symbols, weights 1..=9, is 0 modulo 31) catches
//! every single mistyped character and every swap of two neighbours.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

/// The 31 symbols, in value order. No 0, 1, I, L or O.
const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const PAYLOAD_LEN: usize = 8;
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

fn weighted_sum(symbols: &[u8]) -> u32 {
    symbols
        .iter()
        .enumerate()
        .map(|(i, &s)| (i as u32 + 1) * value_of(s).expect("symbols come from the alphabet"))
        .sum::<u32>()
        % MODULUS
}

impl ReferenceCode {
    /// A fresh random code; uniqueness is the store's job (it retries on a collision).
    pub fn generate(rng: &mut impl Rng) -> Self {
        let mut code = [0u8; CODE_LEN];
        for slot in code.iter_mut().take(PAYLOAD_LEN) {
            *slot = ALPHABET[rng.random_range(0..ALPHABET.len())];
        }
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
