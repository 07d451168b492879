/* SQLite sweeps its whole page cache at each commit while the file is under 1 GiB: a
 * reproduction (docs/BENCHMARKS.md, "a smaller writer page cache"). 500 transactions of 200
 * inserts into a table with a random unique index, WAL mode, with the page cache size given
 * in KiB on the command line. Run with run.sh, which builds it against the bundled SQLite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3.h"

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: sweep DB CACHE_KIB\n"); return 2; }
  sqlite3 *db;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) return 1;
  char setup[512];
  snprintf(setup, sizeof setup,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-%s;"
           "PRAGMA wal_autocheckpoint=0;"
           "CREATE TABLE r(id TEXT PRIMARY KEY, ref TEXT UNIQUE, body TEXT);", argv[2]);
  if (sqlite3_exec(db, setup, 0, 0, 0) != SQLITE_OK) return 1;
  sqlite3_stmt *insert;
  sqlite3_prepare_v2(db, "INSERT INTO r VALUES (?1, ?2, ?3)", -1, &insert, 0);
  char id[64], ref[24], body[1500];
  memset(body, 'x', sizeof body - 1);
  body[sizeof body - 1] = 0;
  srand(1);
  long n = 0;
  for (int t = 0; t < 500; t++) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
    for (int i = 0; i < 200; i++, n++) {
      snprintf(id, sizeof id, "%012ld-aaaa-bbbb", n);
      snprintf(ref, sizeof ref, "%08x%08x", rand(), rand());
      sqlite3_bind_text(insert, 1, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 2, ref, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 3, body, -1, SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) { fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1; }
      sqlite3_reset(insert);
    }
    sqlite3_exec(db, "COMMIT", 0, 0, 0);
  }
  sqlite3_finalize(insert);
  return sqlite3_close(db) == SQLITE_OK ? 0 : 1;
}
