//! SQL for the kept link keys on PostgreSQL: a person's row numbers them, a key's rows hold
//! the numbers (migration 0030), each batch of people written with one statement a table.

use evac_model::{PersonId, Timestamp};
use evac_store::*;
use sqlx::Postgres;

use crate::backend;

/// Keeps the keys of the people not kept yet; the answer is how many were new. People kept
/// already (by another relink, or the online linker) are skipped by their unique id, and only
/// the rows this statement inserted get keys.
pub(crate) async fn key_persons(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    keyed: &[KeyedPerson],
) -> Result<usize, StoreError> {
    let nums = keep_link_people(tx, keyed).await?;
    index_link_keys(tx, &key_rows(keyed, &nums)).await?;
    Ok(nums.iter().flatten().count())
}

/// Keeps the people not kept yet with their keys beside them; each one's number (`None`: kept
/// already).
pub(crate) async fn keep_link_people(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    keyed: &[KeyedPerson],
) -> Result<Vec<Option<i64>>, StoreError> {
    if keyed.is_empty() {
        return Ok(Vec::new());
    }
    let persons: Vec<String> = keyed.iter().map(|k| k.person.to_string()).collect();
    let requests: Vec<String> = keyed.iter().map(|k| k.request.to_string()).collect();
    let packed: Vec<Vec<u8>> = keyed.iter().map(KeyedPerson::packed_keys).collect();
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
    Ok(persons.iter().map(|p| num_of.get(p).copied()).collect())
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
pub(crate) async fn forget_request_keys(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    request: &str,
) -> Result<(), StoreError> {
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
