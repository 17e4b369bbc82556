/*
 * cref project-pg: cref.c's order_summary projection into PostgreSQL with libpq, the way a careful
 * C programmer would write it: the same statements per event as `project` (prepared once, binary
 * parameters), one transaction per batch with the checkpoint rows, sent in libpq's pipeline mode
 * so a batch costs one round trip per CHUNK statements instead of one per statement. It works in
 * a schema of its own (cref_<pid>, text COLLATE "C", bigint and double precision as Projector's
 * PostgreSQL store), dropped at the end.
 *
 *   cref project-pg --brokers B --topic T --db postgres://user@host:port/db?sslmode=disable
 */
#include <endian.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cref.h"

/* Statements sent before the pipeline syncs and their answers are read: bounds what waits in
 * the socket buffers (a server blocked writing answers nobody reads would stop reading queries). */
#define CHUNK 1000

enum { TEXT = 25, INT4 = 23, INT8 = 20, FLOAT8 = 701 };

static PGconn *conn;
static long unsynced;

static void run_sql(const char *sql) {
    PGresult *r = PQexec(conn, sql);
    ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) die(1, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static void prepare(const char *name, const char *sql, int count, const Oid *types) {
    PGresult *r = PQprepare(conn, name, sql, count, types);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) die(1, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* Reads every answer up to the pipeline's next sync point; the first error ends the run. */
static void read_answers(void) {
    for (;;) {
        PGresult *r = PQgetResult(conn);
        if (!r) continue; /* the end of one statement's answers */
        ExecStatusType status = PQresultStatus(r);
        if (status == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return;
        }
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) die(1, "%s", PQresultErrorMessage(r));
        PQclear(r);
    }
}

static void sync_pipeline(void) {
    if (!PQpipelineSync(conn)) die(1, "sync: %s", PQerrorMessage(conn));
    read_answers();
    unsynced = 0;
}

/* One statement into the pipeline; every parameter binary (`formats` all 1). */
static void queue_statement(const char *name, int count, const char *const *values, const int *lengths) {
    static const int formats[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    if (!PQsendQueryPrepared(conn, name, count, values, lengths, formats, 0)) die(1, "%s: %s", name, PQerrorMessage(conn));
    if (++unsynced >= CHUNK) sync_pipeline();
}

static void queue_plain(const char *sql) {
    if (!PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0)) die(1, "%s: %s", sql, PQerrorMessage(conn));
    unsynced++;
}

/* Binary parameters: text as its bytes, numbers big-endian. */
typedef struct {
    const char *values[8];
    int lengths[8];
    uint64_t numbers[8];
} params;

static void text(params *p, int i, span value) {
    p->values[i] = value.start;
    p->lengths[i] = value.start ? (int)(value.end - value.start) : 0;
}

static void int64(params *p, int i, int64_t value) {
    p->numbers[i] = htobe64((uint64_t)value);
    p->values[i] = (const char *)&p->numbers[i];
    p->lengths[i] = 8;
}

static void int32(params *p, int i, int32_t value) {
    uint32_t big = htobe32((uint32_t)value);
    memcpy(&p->numbers[i], &big, 4);
    p->values[i] = (const char *)&p->numbers[i];
    p->lengths[i] = 4;
}

static void float64(params *p, int i, double value) {
    uint64_t bits;
    memcpy(&bits, &value, 8);
    p->numbers[i] = htobe64(bits);
    p->values[i] = (const char *)&p->numbers[i];
    p->lengths[i] = 8;
}

int mode_project_postgres(void) {
    if (!db_path) die(2, "project-pg needs --db postgres://…");
    conn = PQconnectdb(db_path);
    if (PQstatus(conn) != CONNECTION_OK) die(1, "connecting to %s: %s", db_path, PQerrorMessage(conn));
    char sql[512];
    long schema = (long)getpid();
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS cref_%ld CASCADE; CREATE SCHEMA cref_%ld; SET search_path TO cref_%ld",
             schema, schema, schema);
    run_sql(sql);
    run_sql("CREATE TABLE order_summary (order_id text COLLATE \"C\" PRIMARY KEY, customer_id text COLLATE \"C\","
            " status text COLLATE \"C\", total double precision, currency text COLLATE \"C\", items bigint, quantity bigint,"
            " updated_at text COLLATE \"C\", carrier text COLLATE \"C\" DEFAULT 'none');"
            "CREATE TABLE customer_stats (customer_id text COLLATE \"C\" PRIMARY KEY, orders bigint, revenue double precision);"
            "CREATE TABLE checkpoints (pipeline text COLLATE \"C\", topic text COLLATE \"C\", partition integer,"
            " next_offset bigint, PRIMARY KEY (pipeline, topic, partition))");
    prepare("created",
            "INSERT INTO order_summary (order_id, customer_id, status, total, currency, items, quantity, updated_at)"
            " VALUES ($1, $2, 'created', $3, $4, $5, $6, $7) ON CONFLICT (order_id) DO UPDATE SET customer_id = excluded.customer_id,"
            " status = 'created', total = excluded.total, currency = excluded.currency, items = excluded.items,"
            " quantity = excluded.quantity, updated_at = excluded.updated_at",
            7, (Oid[]){TEXT, TEXT, FLOAT8, TEXT, INT8, INT8, TEXT});
    prepare("stats",
            "INSERT INTO customer_stats (customer_id, orders, revenue) VALUES ($1, 1, $2) ON CONFLICT (customer_id)"
            " DO UPDATE SET orders = customer_stats.orders + 1, revenue = customer_stats.revenue + excluded.revenue",
            2, (Oid[]){TEXT, FLOAT8});
    prepare("shipped",
            "UPDATE order_summary SET status = 'shipped', carrier = $2, updated_at = $3 WHERE order_id = $1 AND status <> 'cancelled'",
            3, (Oid[]){TEXT, TEXT, TEXT});
    prepare("cancelled", "DELETE FROM order_summary WHERE order_id = $1", 1, (Oid[]){TEXT});
    prepare("checkpoint",
            "INSERT INTO checkpoints (pipeline, topic, partition, next_offset) VALUES ('order_summary', $1, $2, $3)"
            " ON CONFLICT (pipeline, topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
            3, (Oid[]){TEXT, INT4, INT8});
    if (!PQenterPipelineMode(conn)) die(1, "pipeline mode: %s", PQerrorMessage(conn));

    rd_kafka_t *rk = new_consumer();
    topic_info info;
    read_topic(rk, &info, 1);
    long wanted = 0;
    for (int p = 0; p < info.count; p++) wanted += info.high[p] - info.low[p];
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t **messages = malloc(batch_size * sizeof *messages);
    int64_t *next = calloc(info.count, sizeof *next);
    long seen = 0, failed = 0;
    long long bytes = 0;
    span topic_name = {topic, topic + strlen(topic)};
    double cpu0 = cpu_seconds(), start = now_seconds();
    allocations_start = allocations();
    assign_all(rk, &info);
    double t0 = now_seconds();
    while (seen < wanted) {
        ssize_t n = next_batch(queue, messages);
        if (n == 0) continue;
        queue_plain("BEGIN");
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = messages[i];
            if (m->err) {
                rd_kafka_message_destroy(m);
                continue;
            }
            seen++;
            bytes += m->len;
            next[m->partition] = m->offset + 1;
            order_event e = {0};
            scanner s = {m->payload, (const char *)m->payload + m->len};
            span key = {m->key, (const char *)m->key + m->key_len};
            params p;
            if (!m->payload || !scan_object(&s, &e, 0) || !e.type.start) {
                failed++;
            } else if (key_is(e.type.start, e.type.end, "OrderCreated")) {
                double total = e.total.start ? strtod(e.total.start, NULL) : 0;
                text(&p, 0, key);
                text(&p, 1, e.customer);
                float64(&p, 2, total);
                text(&p, 3, e.currency);
                int64(&p, 4, e.items);
                int64(&p, 5, e.quantity);
                text(&p, 6, e.timestamp);
                queue_statement("created", 7, p.values, p.lengths);
                text(&p, 0, e.customer);
                float64(&p, 1, total);
                queue_statement("stats", 2, p.values, p.lengths);
            } else if (key_is(e.type.start, e.type.end, "OrderShipped")) {
                text(&p, 0, key);
                text(&p, 1, e.carrier);
                text(&p, 2, e.timestamp);
                queue_statement("shipped", 3, p.values, p.lengths);
            } else if (key_is(e.type.start, e.type.end, "OrderCancelled")) {
                text(&p, 0, key);
                queue_statement("cancelled", 1, p.values, p.lengths);
            }
            rd_kafka_message_destroy(m);
        }
        for (int partition = 0; partition < info.count; partition++) {
            if (!next[partition]) continue;
            params p;
            text(&p, 0, topic_name);
            int32(&p, 1, partition);
            int64(&p, 2, next[partition]);
            queue_statement("checkpoint", 3, p.values, p.lengths);
        }
        queue_plain("COMMIT");
        sync_pipeline();
        double t1 = now_seconds();
        record_latency(t1 - t0);
        t0 = t1;
    }
    double seconds = now_seconds() - start, cpu = cpu_seconds() - cpu0;
    if (failed) fprintf(stderr, "cref: %ld malformed events\n", failed);
    report("project-pg", seen, bytes, seconds, cpu);
    if (!PQexitPipelineMode(conn)) die(1, "leaving pipeline mode: %s", PQerrorMessage(conn));
    snprintf(sql, sizeof sql, "DROP SCHEMA cref_%ld CASCADE", schema);
    run_sql(sql);
    PQfinish(conn);
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(messages);
    free(next);
    return 0;
}
