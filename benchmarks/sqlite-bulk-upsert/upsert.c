// What one SQLite statement step costs per order_summary row, at 1 or many rows a statement: the
// statement shape SQLiteViewTransaction.apply prepares (rowid table, text key, ON CONFLICT DO UPDATE),
// N rows inserted then updated in one transaction each, CHUNK rows a statement.
//
//   cc -O2 upsert.c -o /tmp/upsert -lsqlite3
//   valgrind --tool=callgrind --toggle-collect=sqlite3_step /tmp/upsert 20480 32 [PASSES]
//
// Divide "Collected" by PASSES × N (benchmarks/README.md, "Writing less SQL").
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// N must be a multiple of CHUNK. PASSES (default 2): 1 inserts only, as a rebuild into new tables does.
int main(int argc, char **argv) {
  int n = atoi(argv[1]), chunk = atoi(argv[2]), passes = argc > 3 ? atoi(argv[3]) : 2;
  sqlite3 *db; remove("/tmp/sqlite-bulk-upsert.db"); remove("/tmp/sqlite-bulk-upsert.db-wal");
  sqlite3_open("/tmp/sqlite-bulk-upsert.db", &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t(order_id TEXT PRIMARY KEY, customer_id TEXT, status TEXT, total REAL, currency TEXT, items INTEGER, quantity INTEGER, updated_at TEXT, carrier TEXT DEFAULT 'none');", 0,0,0);
  char sql[200000]; int len = sprintf(sql, "INSERT INTO t (order_id,customer_id,status,total,currency,items,quantity,updated_at,carrier) VALUES ");
  for (int r = 0; r < chunk; r++) { len += sprintf(sql+len, "%s(", r? ",":""); for (int c=0;c<9;c++) len += sprintf(sql+len, "%s?%d", c?",":"", r*9+c+1); len += sprintf(sql+len, ")"); }
  sprintf(sql+len, " ON CONFLICT (order_id) DO UPDATE SET customer_id=excluded.customer_id, status=excluded.status, total=excluded.total, currency=excluded.currency, items=excluded.items, quantity=excluded.quantity, updated_at=excluded.updated_at, carrier=excluded.carrier");
  sqlite3_stmt *st; if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, 0)) { printf("%s\n", sqlite3_errmsg(db)); return 1; }
  char key[64], cust[32];
  for (int pass = 0; pass < passes; pass++) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", 0,0,0);
    for (int i = 0; i < n; i += chunk) {
      for (int r = 0; r < chunk; r++) {
        int k = (i + r) * 7919 % n; int b = r*9;
        sprintf(key, "o-%08d", k); sprintf(cust, "c-%d", k % 1000);
        sqlite3_bind_text(st, b+1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, b+2, cust, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, b+3, pass ? "shipped" : "created", -1, SQLITE_STATIC);
        sqlite3_bind_double(st, b+4, 12.5);
        sqlite3_bind_text(st, b+5, "EUR", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, b+6, 2); sqlite3_bind_int64(st, b+7, 3);
        sqlite3_bind_text(st, b+8, "2026-11-01T10:30:00Z", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, b+9, "none", -1, SQLITE_STATIC);
      }
      if (sqlite3_step(st) != SQLITE_DONE) { printf("%s\n", sqlite3_errmsg(db)); return 1; }
      sqlite3_reset(st);
    }
    sqlite3_exec(db, "COMMIT", 0,0,0);
  }
  return 0;
}
