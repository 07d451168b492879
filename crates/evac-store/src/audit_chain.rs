//! The audit trail's hash chain (issue 26, item 5): each sealed event carries, in a link of its
//! own, the SHA-256 of its predecessor's link and of its own stored columns, so an edit, a
//! deletion or an insertion anywhere behind the chain's head breaks a link that
//! [`ChainVerifier`] names.
//!
//! Events are sealed after they commit, by one sealer at a time, in `seq` order: intake writes
//! its event in the request's own transaction and never waits for the chain, and a backend
//! makes sure no event with a smaller `seq` can commit after a larger one was sealed
//! (PostgreSQL: audit writers hold a shared advisory lock, the sealer the exclusive one). A
//! link hashes the stored text as it is (the detail's JSON as written), never a re-encoding.
//!
//! The chain is unkeyed: whoever can write the database can also rewrite every link after an
//! edit. Recording the head elsewhere (`evac audit head`, printed into a ticket or a
//! colleague's notebook) and checking it later (`evac audit verify --head`) is what catches a
//! rewritten chain or a truncated tail.

use sha2::{Digest, Sha256};

/// An audit event's stored columns, exactly as the database holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditColumns {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    /// The detail's JSON text as stored.
    pub detail: String,
}

/// One link of the chain: the event at position `pos` (1, 2, …) is the one numbered `seq`,
/// and `hash` covers it and every link before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainLink {
    pub pos: i64,
    pub seq: i64,
    pub hash: [u8; 32],
}

impl ChainLink {
    /// `pos:hex`, as `evac audit head` prints it and `--head` reads it back.
    pub fn label(&self) -> String {
        format!("{}:{}", self.pos, hex::encode(self.hash))
    }
}

/// A link as the verifier reads it, with the event it names if that event still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    pub link: ChainLink,
    pub event: Option<AuditColumns>,
}

/// The hash before the first link.
pub const GENESIS: [u8; 32] = [0; 32];

/// Tells this chain's hashes from any other use of SHA-256 over similar bytes.
const DOMAIN: &[u8] = b"evac audit chain v1\n";

/// The hash of the link that seals `event` after a link hashing to `previous`. Every field is
/// length-prefixed, so no two different events encode alike.
pub fn link_hash(previous: &[u8; 32], event: &AuditColumns) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(previous);
    h.update(event.seq.to_be_bytes());
    h.update(event.at.to_be_bytes());
    for field in [
        Some(event.actor.as_str()),
        Some(event.action.as_str()),
        event.subject.as_deref(),
        Some(event.detail.as_str()),
    ] {
        match field {
            None => h.update([0u8]),
            Some(text) => {
                h.update([1u8]);
                h.update((text.len() as u64).to_be_bytes());
                h.update(text.as_bytes());
            }
        }
    }
    h.finalize().into()
}

/// The links that seal `events` (oldest first, each after `head`'s event) on top of `head`.
pub fn seal(head: Option<ChainLink>, events: &[AuditColumns]) -> Vec<ChainLink> {
    let (mut pos, mut hash) = head.map_or((0, GENESIS), |h| (h.pos, h.hash));
    events
        .iter()
        .map(|event| {
            pos += 1;
            hash = link_hash(&hash, event);
            ChainLink {
                pos,
                seq: event.seq,
                hash,
            }
        })
        .collect()
}

/// The first place the chain does not hold, in words an auditor can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainBreak {
    #[error("link {expected} is missing (the next link is {found}): a link was deleted")]
    LinkMissing { expected: i64, found: i64 },
    #[error(
        "event {seq} (link {pos}) is gone from the trail: an audit event was deleted; restore it from a backup"
    )]
    EventDeleted { pos: i64, seq: i64 },
    #[error(
        "event {seq} (link {pos}) is not what was sealed: an audit event or a link was altered"
    )]
    Altered { pos: i64, seq: i64 },
    #[error(
        "link {pos} names event {seq}, not after event {previous_seq}: links were reordered or an event inserted"
    )]
    OutOfOrder {
        pos: i64,
        seq: i64,
        previous_seq: i64,
    },
    #[error(
        "event {seq} sits inside the sealed part of the trail but was never sealed: it was inserted afterwards"
    )]
    Inserted { seq: i64 },
    #[error(
        "the chain ends at link {found}, before the recorded head {recorded}: its tail was cut"
    )]
    Truncated { recorded: i64, found: i64 },
    #[error(
        "link {pos} hashes to {found}, not to the recorded head {recorded}: the chain was rewritten"
    )]
    HeadDiffers {
        pos: i64,
        recorded: String,
        found: String,
    },
}

/// Walks the chain page by page (links in `pos` order) and stops at the first break.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    previous: Option<ChainLink>,
    recorded_head: Option<(i64, [u8; 32])>,
    recorded_head_seen: bool,
}

impl ChainVerifier {
    /// A verifier from the start of the chain, checking it passes through `recorded_head`
    /// (`pos`, hash) if one was recorded.
    pub fn new(recorded_head: Option<(i64, [u8; 32])>) -> Self {
        ChainVerifier {
            previous: None,
            recorded_head,
            recorded_head_seen: false,
        }
    }

    /// The last link checked so far.
    pub fn head(&self) -> Option<ChainLink> {
        self.previous
    }

    /// Checks the next page of links.
    pub fn feed(&mut self, rows: &[ChainRow]) -> Result<(), ChainBreak> {
        for row in rows {
            let (expected, previous_hash, previous_seq) = self
                .previous
                .map_or((1, GENESIS, 0), |p| (p.pos + 1, p.hash, p.seq));
            let link = row.link;
            if link.pos != expected {
                return Err(ChainBreak::LinkMissing {
                    expected,
                    found: link.pos,
                });
            }
            let Some(event) = &row.event else {
                return Err(ChainBreak::EventDeleted {
                    pos: link.pos,
                    seq: link.seq,
                });
            };
            if link.seq <= previous_seq {
                return Err(ChainBreak::OutOfOrder {
                    pos: link.pos,
                    seq: link.seq,
                    previous_seq,
                });
            }
            if link_hash(&previous_hash, event) != link.hash {
                return Err(ChainBreak::Altered {
                    pos: link.pos,
                    seq: link.seq,
                });
            }
            if let Some((pos, hash)) = self.recorded_head
                && pos == link.pos
            {
                if hash != link.hash {
                    return Err(ChainBreak::HeadDiffers {
                        pos,
                        recorded: hex::encode(hash),
                        found: hex::encode(link.hash),
                    });
                }
                self.recorded_head_seen = true;
            }
            self.previous = Some(link);
        }
        Ok(())
    }

    /// After the last page: a recorded head the chain never reached means its tail was cut.
    pub fn finish(&self) -> Result<(), ChainBreak> {
        match self.recorded_head {
            Some((recorded, _)) if !self.recorded_head_seen => Err(ChainBreak::Truncated {
                recorded,
                found: self.previous.map_or(0, |p| p.pos),
            }),
            _ => Ok(()),
        }
    }
}

/// What `evac audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditVerdict {
    /// The last link that holds (the whole chain's head when nothing broke).
    #[serde(serialize_with = "label_of")]
    #[schema(value_type = String)]
    pub head: Option<ChainLink>,
    /// Events after the head not sealed yet (the sealer runs every second).
    pub unsealed: u64,
    /// The first break, if any.
    pub broken: Option<ChainBreak>,
}

fn label_of<S: serde::Serializer>(head: &Option<ChainLink>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&head.map_or_else(|| "0:".into(), |h| h.label()))
}

/// How many links a verifier reads per page.
const VERIFY_PAGE_LINKS: u32 = 1_000;

/// Walks a store's whole chain, then looks for events inside the sealed part that were never
/// sealed (insertions). Reads in pages: memory stays flat however long the trail.
pub async fn verify_store(
    store: &dyn crate::Store,
    recorded_head: Option<(i64, [u8; 32])>,
) -> Result<AuditVerdict, crate::StoreError> {
    let mut verifier = ChainVerifier::new(recorded_head);
    let mut broken = None;
    loop {
        let after = verifier.head().map_or(0, |h| h.pos);
        let page = store.audit_chain(after, VERIFY_PAGE_LINKS).await?;
        if let Err(b) = verifier.feed(&page) {
            broken = Some(b);
            break;
        }
        if page.len() < VERIFY_PAGE_LINKS as usize {
            break;
        }
    }
    if broken.is_none() {
        broken = verifier.finish().err();
    }
    let head = verifier.head();
    let mut unsealed = 0;
    if broken.is_none() {
        let (inside, after) = store.audit_unsealed(head.map_or(0, |h| h.seq), 1).await?;
        broken = inside.first().map(|&seq| ChainBreak::Inserted { seq });
        unsealed = after;
    }
    Ok(AuditVerdict {
        head,
        unsealed,
        broken,
    })
}

/// Reads `pos:hex` as printed by [`ChainLink::label`].
pub fn parse_head(text: &str) -> Option<(i64, [u8; 32])> {
    let (pos, hash) = text.trim().split_once(':')?;
    let hash: [u8; 32] = hex::decode(hash).ok()?.try_into().ok()?;
    Some((pos.parse().ok().filter(|p| *p > 0)?, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64) -> AuditColumns {
        AuditColumns {
            seq,
            at: 1_000 + seq,
            actor: "desk".into(),
            action: "noted".into(),
            subject: (seq % 2 == 0).then(|| format!("r{seq}")),
            detail: format!("{{\"n\":{seq}}}"),
        }
    }

    fn rows(events: &[AuditColumns]) -> Vec<ChainRow> {
        seal(None, events)
            .into_iter()
            .zip(events)
            .map(|(link, event)| ChainRow {
                link,
                event: Some(event.clone()),
            })
            .collect()
    }

    fn verify(rows: &[ChainRow], head: Option<(i64, [u8; 32])>) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::new(head);
        for page in rows.chunks(3) {
            v.feed(page)?;
        }
        v.finish()
    }

    #[test]
    fn an_untouched_chain_verifies_in_pages_and_through_its_recorded_head() {
        let events: Vec<_> = (1..=10).map(event).collect();
        let chain = rows(&events);
        let head = chain[6].link;
        assert_eq!(verify(&chain, Some((head.pos, head.hash))), Ok(()));
        assert_eq!(parse_head(&head.label()), Some((head.pos, head.hash)));
    }

    #[test]
    fn sealing_in_two_rounds_gives_the_links_of_one() {
        let events: Vec<_> = (1..=6).map(event).collect();
        let first = seal(None, &events[..2]);
        let rest = seal(first.last().copied(), &events[2..]);
        assert_eq!([first, rest].concat(), seal(None, &events));
    }

    #[test]
    fn every_single_edit_is_named_at_its_link() {
        let events: Vec<_> = (1..=8).map(event).collect();
        for at in 0..events.len() {
            for field in 0..5 {
                let mut chain = rows(&events);
                let e = chain[at].event.as_mut().unwrap();
                match field {
                    0 => e.at += 1,
                    1 => e.actor.push('x'),
                    2 => e.action = "erased".into(),
                    3 => e.subject = Some("other".into()),
                    _ => e.detail = "{}".into(),
                }
                let seq = events[at].seq;
                assert_eq!(
                    verify(&chain, None),
                    Err(ChainBreak::Altered {
                        pos: at as i64 + 1,
                        seq
                    }),
                    "edit of field {field} at {at}"
                );
            }
        }
    }

    #[test]
    fn deletions_reorderings_and_a_cut_tail_are_named() {
        let events: Vec<_> = (1..=8).map(event).collect();
        let chain = rows(&events);

        let mut gone = chain.clone();
        gone[3].event = None;
        assert_eq!(
            verify(&gone, None),
            Err(ChainBreak::EventDeleted { pos: 4, seq: 4 })
        );

        let mut without_link = chain.clone();
        without_link.remove(3);
        assert_eq!(
            verify(&without_link, None),
            Err(ChainBreak::LinkMissing {
                expected: 4,
                found: 5
            })
        );

        let head = chain[7].link;
        let cut = &chain[..6];
        assert_eq!(
            verify(cut, Some((head.pos, head.hash))),
            Err(ChainBreak::Truncated {
                recorded: 8,
                found: 6
            })
        );

        // A whole chain rewritten after an edit verifies alone, but not against its head.
        let mut edited = events.clone();
        edited[2].detail = "{\"n\":99}".into();
        let rewritten = rows(&edited);
        assert_eq!(verify(&rewritten, None), Ok(()));
        assert!(matches!(
            verify(&rewritten, Some((head.pos, head.hash))),
            Err(ChainBreak::HeadDiffers { pos: 8, .. })
        ));
    }

    #[test]
    fn a_head_label_that_is_not_pos_colon_hex_is_refused() {
        for bad in [
            "",
            "3",
            "0:00",
            "x:ab",
            "3:abc",
            &format!("-1:{}", "00".repeat(32)),
        ] {
            assert_eq!(parse_head(bad), None, "{bad}");
        }
    }
}
