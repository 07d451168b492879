//! SQL for the kept link keys on PostgreSQL: a person's row numbers them, a key's rows hold
//! the numbers (migration 0030), each batch of people written with one statement a table.

use std::collections::HashSet;

use evac_model::{PersonId, RequestId, Timestamp};
use evac_store::*;
use sqlx::Postgres;

use crate::backend;

/// The requests whose keys were forgotten after generation `read_at` of the kept keys
/// ([`LINK_KEYS_GENERATION`]), read once the generation's row is held FOR SHARE until `tx`
/// ends: a forgetting updates that row before it deletes keys, so it either ended before
/// (and its note is read here) or waits, and then deletes what `tx` keeps.
pub(crate) async fn forgotten_since(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    read_at: i64,
) -> Result<HashSet<RequestId>, StoreError> {
    sqlx::query("SELECT value FROM generations WHERE name = $1 FOR SHARE")
        .bind(LINK_KEYS_GENERATION)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT request_id FROM link_keys_forgotten WHERE generation > $1")
            .bind(read_at)
            .fetch_all(&mut **tx)
            .await
            .map_err(backend)?;
    ids.iter()
        .map(|id| parse_id("link_keys_forgotten.request_id", id))
        .collect()
}

/// Every person of `requests` (none asked: none read).
pub(crate) async fn people_of_requests(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    requests: &HashSet<RequestId>,
) -> Result<HashSet<PersonId>, StoreError> {
    if requests.is_empty() {
        return Ok(HashSet::new());
    }
    let requests: Vec<String> = requests.iter().map(ToString::to_string).collect();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM persons WHERE request_id = ANY($1)")
        .bind(&requests)
        .fetch_all(&mut **tx)
        .await
        .map_err(backend)?;
    ids.iter().map(|id| parse_id("persons.id", id)).collect()
}

/// Keeps the keys of the people not kept yet, but of requests in `forgotten`; the answer is
/// how many were new. People kept already (by another relink, or the online linker) are
/// skipped by their unique id, and only the rows this statement inserted get keys.
pub(crate) async fn key_persons(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    keyed: &[KeyedPerson],
    forgotten: &HashSet<RequestId>,
) -> Result<usize, StoreError> {
    let nums = keep_link_people(tx, keyed, forgotten).await?;
    index_link_keys(tx, &key_rows(keyed, &nums)).await?;
    Ok(nums.iter().flatten().count())
}

/// Keeps the people not kept yet, but of requests in `forgotten`, with their keys beside
/// them; each one's number (`None`: kept already, or left out).
pub(crate) async fn keep_link_people(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    keyed: &[KeyedPerson],
    forgotten: &HashSet<RequestId>,
) -> Result<Vec<Option<i64>>, StoreError> {
    let offered: Vec<&KeyedPerson> = keyed
        .iter()
        .filter(|k| !forgotten.contains(&k.request))
        .collect();
    if offered.is_empty() {
        return Ok(vec![None; keyed.len()]);
    }
    let persons: Vec<String> = offered.iter().map(|k| k.person.to_string()).collect();
    let requests: Vec<String> = offered.iter().map(|k| k.request.to_string()).collect();
    let packed: Vec<Vec<u8>> = offered.iter().map(|k| k.packed_keys()).collect();
    let inserted: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO link_people (person_id, request_id, keys)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bytea[])
         ON CONFLICT (person_id) DO NOTHING
         RETURNING num, person_id",
    )
    .bind(&persons)
    .bind(&requests)
    .bind(&packed)
    .fetch_all(&mut **tx)
    .await
    .map_err(backend)?;
    let num_of: std::collections::HashMap<String, i64> = inserted
        .into_iter()
        .map(|(num, person)| (person, num))
        .collect();
    Ok(keyed
        .iter()
        .map(|k| num_of.get(&k.person.to_string()).copied())
        .collect())
}

/// Each key under its person's number. A person forgotten since they were kept (a correction
/// between a relink's two halves) leaves a key no posting finds (postings join the people);
/// checking each row instead made a relink's keys 2.6 times slower.
pub(crate) async fn index_link_keys(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    rows: &[(u64, i64)],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let (keys, nums): (Vec<i64>, Vec<i64>) = rows.iter().map(|&(k, n)| (k as i64, n)).unzip();
    sqlx::query(
        "INSERT INTO link_keys (key, num) SELECT * FROM UNNEST($1::bigint[], $2::bigint[])
         ON CONFLICT DO NOTHING",
    )
    .bind(&keys)
    .bind(&nums)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Forgets the kept keys of `request`'s people (it was corrected, or its contacts erased) and
/// makes it due again, so the linker matches and keys it as it reads now.
/// Moves the keys' generation on, for a correction or erasure that will forget a request's
/// keys ([`forget_request_keys`]); the answer is the new generation. Called first in its
/// transaction, before any row it locks: a key writer holds the generation's row FOR SHARE
/// ([`forgotten_since`] says why) and then may wait on a person's row (a link event's
/// reference), so taking that row first keeps the two from waiting on each other.
pub(crate) async fn begin_forgetting(
    tx: &mut sqlx::Transaction<'_, Postgres>,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO generations (name, value) VALUES ($1, 1)
         ON CONFLICT (name) DO UPDATE SET value = generations.value + 1
         RETURNING value",
    )
    .bind(LINK_KEYS_GENERATION)
    .fetch_one(&mut **tx)
    .await
    .map_err(backend)
}

/// Notes the request at `generation` (from [`begin_forgetting`], earlier in the transaction).
pub(crate) async fn forget_request_keys(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    request: &str,
    generation: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO link_keys_forgotten (request_id, generation) VALUES ($1, $2)
         ON CONFLICT (request_id) DO UPDATE SET generation = excluded.generation",
    )
    .bind(request)
    .bind(generation)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    sqlx::query(
        "INSERT INTO links_due (request_id) VALUES ($1) ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(request)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    let people: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("DELETE FROM link_people WHERE request_id = $1 RETURNING num, keys")
            .bind(request)
            .fetch_all(&mut **tx)
            .await
            .map_err(backend)?;
    if people.is_empty() {
        return Ok(());
    }
    let (mut keys, mut nums) = (Vec::new(), Vec::new());
    for (num, packed) in &people {
        for key in KeyedPerson::unpack_keys(packed) {
            keys.push(key as i64);
            nums.push(*num);
        }
    }
    sqlx::query(
        "DELETE FROM link_keys WHERE (key, num) IN (SELECT * FROM UNNEST($1::bigint[], $2::bigint[]))",
    )
    .bind(&keys)
    .bind(&nums)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn keyed_persons(
    pool: &sqlx::PgPool,
    persons: &[PersonId],
) -> Result<Vec<PersonId>, StoreError> {
    let persons: Vec<String> = persons.iter().map(ToString::to_string).collect();
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT person_id FROM link_people WHERE person_id = ANY($1)")
            .bind(&persons)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
    ids.iter()
        .map(|id| parse_id("link_people.person_id", id))
        .collect()
}

/// Every key's people in one statement, at most `per_key_max` a key.
pub(crate) async fn link_postings(
    pool: &sqlx::PgPool,
    keys: &[u64],
    per_key_max: u32,
) -> Result<Vec<Posting>, StoreError> {
    let keys: Vec<i64> = keys.iter().map(|&k| k as i64).collect();
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT q.key, k.person_id, k.request_id
         FROM UNNEST($1::bigint[]) AS q (key)
         CROSS JOIN LATERAL (
             SELECT p.person_id, p.request_id FROM link_keys AS l
             JOIN link_people AS p ON p.num = l.num
             WHERE l.key = q.key LIMIT $2
         ) AS k",
    )
    .bind(&keys)
    .bind(i64::from(per_key_max))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.into_iter()
        .map(|(key, person, request)| {
            Ok(Posting {
                key: key as u64,
                person: parse_id("link_people.person_id", &person)?,
                request: parse_id("link_people.request_id", &request)?,
            })
        })
        .collect()
}

pub(crate) async fn link_model(pool: &sqlx::PgPool) -> Result<Option<StoredLinkModel>, StoreError> {
    let row: Option<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT model, keys_fingerprint, persons, saved_at_us FROM link_model WHERE id = 1",
    )
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    Ok(
        row.map(|(model, fingerprint, persons, saved_at)| StoredLinkModel {
            model,
            keys_fingerprint: fingerprint as u64,
            persons: persons as u64,
            saved_at: Timestamp::from_unix_micros(saved_at),
        }),
    )
}

pub(crate) async fn save_link_model(
    pool: &sqlx::PgPool,
    m: &StoredLinkModel,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO link_model (id, model, keys_fingerprint, persons, saved_at_us)
         VALUES (1, $1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET model = excluded.model,
             keys_fingerprint = excluded.keys_fingerprint, persons = excluded.persons,
             saved_at_us = excluded.saved_at_us",
    )
    .bind(&m.model)
    .bind(m.keys_fingerprint as i64)
    .bind(m.persons as i64)
    .bind(m.saved_at.unix_micros())
    .execute(pool)
    .await
    .map_err(backend)?;
    Ok(())
}
