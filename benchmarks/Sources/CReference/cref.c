/*
 * cref: the C reference Projector's benchmarks compare against. Plain librdkafka and SQLite, the
 * way a careful C programmer would write them, with the same librdkafka settings as the Swift
 * consumer and producer (KafkaConsumerConfiguration / KafkaProducerConfiguration defaults).
 *
 *   cref consume    --brokers B --topic T [--passes K] [--batch N] [-X k=v]...
 *   cref project    --brokers B --topic T --db FILE [--passes K] [--batch N] [-X k=v]...
 *   cref project-pg --brokers B --topic T --db postgres://… [--batch N] [-X k=v]...   (cref_postgres.c)
 *   cref produce    --brokers B --topic T --messages N [--size BYTES] [-X k=v]...
 *   cref watermarks --brokers B --topic T
 *
 * Each mode prints one JSON object on stdout: messages, bytes, seconds (wall, from the first poll
 * or send to the last record), cpu_seconds (getrusage, all threads), max_rss_kb and batch latency
 * percentiles. Errors go to stderr with exit code 1 (2 for bad usage).
 *
 * consume drains with rd_kafka_consume_batch_queue: timeout 0 first (what is already queued), and
 * a short wait only when nothing is; a batch call with a long timeout would wait it out unless the
 * batch fills. project is an order_summary projection (pipelines/order_summary.yaml): a minimal
 * in-place JSON scanner, one prepared statement per operation, one transaction per batch with the
 * checkpoint rows; with --passes K it projects the topic K times into the same file and times only
 * the last pass (K = 2: views that already hold every row the events write).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cref.h"

#define MAX_PROPS 64

const char *brokers, *topic, *db_path;
long batch_size = 10000;
static long passes = 1, messages_wanted = 0, value_size = 220;
static const char *props[MAX_PROPS][2];
static int prop_count;

void die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("cref: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long max_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Batch latencies (seconds), for p50/p99. */
static double *latencies;
static size_t latency_count, latency_capacity;

void record_latency(double seconds) {
    if (latency_count == latency_capacity) {
        latency_capacity = latency_capacity ? latency_capacity * 2 : 4096;
        latencies = realloc(latencies, latency_capacity * sizeof *latencies);
    }
    latencies[latency_count++] = seconds;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double p) {
    if (!latency_count) return 0;
    qsort(latencies, latency_count, sizeof *latencies, compare_double);
    size_t index = (size_t)(p * (latency_count - 1) + 0.5);
    return latencies[index];
}

/* Allocations so far, when libmalloccount.so is preloaded; -1 otherwise. */
long long allocations(void) {
    uint64_t (*counter)(void) = (uint64_t (*)(void))dlsym(RTLD_DEFAULT, "malloccount_total");
    return counter ? (long long)counter() : -1;
}

long long allocations_start;

void report(const char *mode, long messages, long long bytes, double seconds, double cpu) {
    long long allocated = allocations();
    if (allocated >= 0) allocated -= allocations_start;
    printf("{\"tool\":\"c\",\"mode\":\"%s\",\"messages\":%ld,\"bytes\":%lld,\"seconds\":%.6f,\"cpu_seconds\":%.6f,"
           "\"max_rss_kb\":%ld,\"allocations\":%lld,\"batches\":%zu,\"p50_batch_ms\":%.3f,\"p99_batch_ms\":%.3f,\"librdkafka\":\"%s\"}\n",
           mode, messages, bytes, seconds, cpu, max_rss_kb(), allocated, latency_count, percentile(0.5) * 1e3,
           percentile(0.99) * 1e3, rd_kafka_version_str());
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) die(2, "%s=%s: %s", key, value, err);
}

static void apply_props(rd_kafka_conf_t *conf) {
    for (int i = 0; i < prop_count; i++) set(conf, props[i][0], props[i][1]);
}

/* The Swift KafkaConsumerConfiguration defaults, key for key. */
rd_kafka_t *new_consumer(void) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char group[64];
    snprintf(group, sizeof group, "cref-assign-%ld", (long)getpid());
    set(conf, "bootstrap.servers", brokers);
    set(conf, "group.id", group);
    set(conf, "client.id", "cref");
    set(conf, "auto.offset.reset", "earliest");
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "enable.partition.eof", "false");
    set(conf, "fetch.wait.max.ms", "100");
    set(conf, "fetch.min.bytes", "1");
    set(conf, "max.partition.fetch.bytes", "1048576");
    set(conf, "queued.min.messages", "1000000");
    set(conf, "queued.max.messages.kbytes", "65536");
    set(conf, "isolation.level", "read_committed");
    set(conf, "log_level", "3");
    apply_props(conf);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) die(1, "creating the consumer: %s", err);
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Partitions of the topic and their watermarks; fails unless every low watermark is 0. */
void read_topic(rd_kafka_t *rk, topic_info *info, int require_full) {
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (err) die(1, "metadata of %s: %s", topic, rd_kafka_err2str(err));
    if (md->topic_cnt != 1 || md->topics[0].err) die(1, "topic %s: %s", topic, rd_kafka_err2str(md->topics[0].err));
    info->count = md->topics[0].partition_cnt;
    if (info->count > CREF_MAX_PARTITIONS) die(1, "%s has %d partitions; cref reads at most %d", topic, info->count, CREF_MAX_PARTITIONS);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    for (int p = 0; p < info->count; p++) {
        err = rd_kafka_query_watermark_offsets(rk, topic, p, &info->low[p], &info->high[p], 10000);
        if (err) die(1, "watermarks of %s/%d: %s", topic, p, rd_kafka_err2str(err));
        if (require_full && info->low[p] != 0)
            die(1, "%s/%d was truncated (low watermark %" PRId64 "): the mock keeps ~5 MiB per partition; use more partitions",
                topic, p, info->low[p]);
    }
}

void assign_all(rd_kafka_t *rk, const topic_info *info) {
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(info->count);
    for (int p = 0; p < info->count; p++) rd_kafka_topic_partition_list_add(list, topic, p)->offset = info->low[p];
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err) die(1, "assign: %s", rd_kafka_err2str(err));
}

/* One batch: what is queued now, else wait briefly for the first records. */
ssize_t next_batch(rd_kafka_queue_t *queue, rd_kafka_message_t **messages) {
    ssize_t n = rd_kafka_consume_batch_queue(queue, 0, messages, batch_size);
    if (n == 0) n = rd_kafka_consume_batch_queue(queue, 1, messages, batch_size);
    if (n < 0) die(1, "consume_batch_queue: %s", rd_kafka_err2str(rd_kafka_last_error()));
    return n;
}

static int mode_consume(void) {
    rd_kafka_t *rk = new_consumer();
    topic_info info;
    read_topic(rk, &info, 1);
    long per_pass = 0;
    for (int p = 0; p < info.count; p++) per_pass += info.high[p] - info.low[p];
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t **messages = malloc(batch_size * sizeof *messages);
    long total = 0;
    long long bytes = 0;
    double cpu0 = cpu_seconds(), start = now_seconds();
    allocations_start = allocations();
    for (long pass = 0; pass < passes; pass++) {
        assign_all(rk, &info);
        long seen = 0;
        /* A batch's latency runs from the first poll that waited for it, as in the Swift poll. */
        double t0 = now_seconds();
        while (seen < per_pass) {
            ssize_t n = next_batch(queue, messages);
            for (ssize_t i = 0; i < n; i++) {
                rd_kafka_message_t *m = messages[i];
                if (m->err) {
                    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) fprintf(stderr, "cref: %s\n", rd_kafka_message_errstr(m));
                } else {
                    seen++;
                    bytes += m->len;
                }
                rd_kafka_message_destroy(m);
            }
            if (n > 0) {
                double t1 = now_seconds();
                record_latency(t1 - t0);
                t0 = t1;
            }
        }
        total += seen;
    }
    double seconds = now_seconds() - start, cpu = cpu_seconds() - cpu0;
    report("consume", total, bytes, seconds, cpu);
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(messages);
    return 0;
}

/* ---- A minimal in-place JSON scanner: enough to read the fields order_summary needs. ---- */

static void skip_ws(scanner *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r')) s->p++;
}

/* A string's contents [start, end) without unescaping (the fields read here have no escapes). */
static int scan_string(scanner *s, const char **start, const char **end) {
    if (s->p >= s->end || *s->p != '"') return 0;
    s->p++;
    *start = s->p;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\') s->p++;
        s->p++;
    }
    if (s->p >= s->end) return 0;
    *end = s->p++;
    return 1;
}

static int skip_value(scanner *s);

static int skip_container(scanner *s, char open, char close) {
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) { s->p++; return 1; }
    for (;;) {
        skip_ws(s);
        if (open == '{') {
            const char *a, *b;
            if (!scan_string(s, &a, &b)) return 0;
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':') return 0;
            skip_ws(s);
        }
        if (!skip_value(s)) return 0;
        skip_ws(s);
        if (s->p >= s->end) return 0;
        if (*s->p == ',') { s->p++; continue; }
        if (*s->p == close) { s->p++; return 1; }
        return 0;
    }
}

static int skip_value(scanner *s) {
    skip_ws(s);
    if (s->p >= s->end) return 0;
    const char *a, *b;
    switch (*s->p) {
    case '"': return scan_string(s, &a, &b);
    case '{': return skip_container(s, '{', '}');
    case '[': return skip_container(s, '[', ']');
    default:
        while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' && *s->p != ' ') s->p++;
        return 1;
    }
}

int key_is(const char *a, const char *b, const char *name) {
    size_t n = strlen(name);
    return (size_t)(b - a) == n && memcmp(a, name, n) == 0;
}

/* The raw text of a scalar value (string contents, or a number's text). */
static int scan_scalar(scanner *s, span *out) {
    skip_ws(s);
    if (s->p < s->end && *s->p == '"') return scan_string(s, &out->start, &out->end);
    out->start = s->p;
    if (!skip_value(s)) return 0;
    out->end = s->p;
    return 1;
}

static int scan_items(scanner *s, order_event *e) {
    s->p++; /* [ */
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') { s->p++; return 1; }
    for (;;) {
        skip_ws(s);
        if (s->p < s->end && *s->p == '{') {
            s->p++;
            e->items++;
            for (;;) {
                skip_ws(s);
                if (s->p < s->end && *s->p == '}') { s->p++; break; }
                const char *a, *b;
                if (!scan_string(s, &a, &b)) return 0;
                skip_ws(s);
                if (s->p >= s->end || *s->p++ != ':') return 0;
                skip_ws(s);
                if (key_is(a, b, "quantity")) {
                    e->quantity += strtol(s->p, NULL, 10);
                }
                if (!skip_value(s)) return 0;
                skip_ws(s);
                if (s->p < s->end && *s->p == ',') s->p++;
            }
        } else {
            e->items++;
            if (!skip_value(s)) return 0;
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') { s->p++; continue; }
        if (s->p < s->end && *s->p == ']') { s->p++; return 1; }
        return 0;
    }
}

int scan_object(scanner *s, order_event *e, int is_data) {
    skip_ws(s);
    if (s->p >= s->end || *s->p != '{') return 0;
    s->p++;
    for (;;) {
        skip_ws(s);
        if (s->p < s->end && *s->p == '}') { s->p++; return 1; }
        const char *a, *b;
        if (!scan_string(s, &a, &b)) return 0;
        skip_ws(s);
        if (s->p >= s->end || *s->p++ != ':') return 0;
        skip_ws(s);
        int ok;
        if (!is_data && key_is(a, b, "eventType")) ok = scan_scalar(s, &e->type);
        else if (!is_data && key_is(a, b, "timestamp")) ok = scan_scalar(s, &e->timestamp);
        else if (!is_data && key_is(a, b, "data")) ok = scan_object(s, e, 1);
        else if (is_data && key_is(a, b, "customerId")) ok = scan_scalar(s, &e->customer);
        else if (is_data && key_is(a, b, "totalAmount")) ok = scan_scalar(s, &e->total);
        else if (is_data && key_is(a, b, "currency")) ok = scan_scalar(s, &e->currency);
        else if (is_data && key_is(a, b, "carrier")) ok = scan_scalar(s, &e->carrier);
        else if (is_data && key_is(a, b, "items") && s->p < s->end && *s->p == '[') ok = scan_items(s, e);
        else ok = skip_value(s);
        if (!ok) return 0;
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') { s->p++; continue; }
        if (s->p < s->end && *s->p == '}') { s->p++; return 1; }
        return 0;
    }
}

/* ---- The order_summary projection in SQLite. ---- */

static sqlite3 *db;

static void exec(const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) die(1, "%s: %s", sql, err);
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
        die(1, "%s: %s", sql, sqlite3_errmsg(db));
    return stmt;
}

static void bind_span(sqlite3_stmt *stmt, int index, span value) {
    if (value.start) sqlite3_bind_text(stmt, index, value.start, (int)(value.end - value.start), SQLITE_STATIC);
    else sqlite3_bind_null(stmt, index);
}

static void step(sqlite3_stmt *stmt) {
    if (sqlite3_step(stmt) != SQLITE_DONE) die(1, "step: %s", sqlite3_errmsg(db));
    sqlite3_reset(stmt);
}

static int mode_project(void) {
    if (!db_path) die(2, "project needs --db FILE");
    remove(db_path);
    char extra[1024];
    snprintf(extra, sizeof extra, "%s-wal", db_path);
    remove(extra);
    snprintf(extra, sizeof extra, "%s-shm", db_path);
    remove(extra);
    if (sqlite3_open(db_path, &db) != SQLITE_OK) die(1, "opening %s: %s", db_path, sqlite3_errmsg(db));
    /* The SQLiteViewStore defaults. */
    exec("PRAGMA journal_mode = WAL; PRAGMA cache_size = -65536; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;");
    exec("CREATE TABLE order_summary (order_id TEXT, customer_id TEXT, status TEXT, total REAL, currency TEXT, items INTEGER,"
         " quantity INTEGER, updated_at TEXT, carrier TEXT DEFAULT 'none', PRIMARY KEY (order_id)) WITHOUT ROWID;"
         "CREATE TABLE customer_stats (customer_id TEXT, orders INTEGER, revenue REAL, PRIMARY KEY (customer_id)) WITHOUT ROWID;"
         "CREATE TABLE checkpoints (pipeline TEXT, topic TEXT, partition INTEGER, next_offset INTEGER,"
         " PRIMARY KEY (pipeline, topic, partition)) WITHOUT ROWID;");
    sqlite3_stmt *created = prepare(
        "INSERT INTO order_summary (order_id, customer_id, status, total, currency, items, quantity, updated_at)"
        " VALUES (?1, ?2, 'created', ?3, ?4, ?5, ?6, ?7) ON CONFLICT (order_id) DO UPDATE SET customer_id = excluded.customer_id,"
        " status = 'created', total = excluded.total, currency = excluded.currency, items = excluded.items,"
        " quantity = excluded.quantity, updated_at = excluded.updated_at");
    sqlite3_stmt *stats = prepare(
        "INSERT INTO customer_stats (customer_id, orders, revenue) VALUES (?1, 1, ?2) ON CONFLICT (customer_id)"
        " DO UPDATE SET orders = orders + 1, revenue = revenue + excluded.revenue");
    sqlite3_stmt *shipped = prepare(
        "UPDATE order_summary SET status = 'shipped', carrier = ?2, updated_at = ?3 WHERE order_id = ?1 AND status != 'cancelled'");
    sqlite3_stmt *cancelled = prepare("DELETE FROM order_summary WHERE order_id = ?1");
    sqlite3_stmt *checkpoint = prepare(
        "INSERT INTO checkpoints (pipeline, topic, partition, next_offset) VALUES ('order_summary', ?1, ?2, ?3)"
        " ON CONFLICT (pipeline, topic, partition) DO UPDATE SET next_offset = excluded.next_offset");
    sqlite3_stmt *begin = prepare("BEGIN IMMEDIATE"), *commit = prepare("COMMIT");

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
    double cpu0 = 0, start = 0;
    /* Every pass but the last fills the views untimed: the last one writes rows that exist. */
    for (long pass = 0; pass < passes; pass++) {
        seen = 0, failed = 0, bytes = 0, latency_count = 0;
        cpu0 = cpu_seconds(), start = now_seconds();
        allocations_start = allocations();
        assign_all(rk, &info);
        double t0 = now_seconds();
        while (seen < wanted) {
            ssize_t n = next_batch(queue, messages);
            if (n == 0) continue;
            step(begin);
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
                if (!m->payload || !scan_object(&s, &e, 0) || !e.type.start) {
                    failed++;
                } else if (key_is(e.type.start, e.type.end, "OrderCreated")) {
                    bind_span(created, 1, key);
                    bind_span(created, 2, e.customer);
                    sqlite3_bind_double(created, 3, e.total.start ? strtod(e.total.start, NULL) : 0);
                    bind_span(created, 4, e.currency);
                    sqlite3_bind_int64(created, 5, e.items);
                    sqlite3_bind_int64(created, 6, e.quantity);
                    bind_span(created, 7, e.timestamp);
                    step(created);
                    bind_span(stats, 1, e.customer);
                    sqlite3_bind_double(stats, 2, e.total.start ? strtod(e.total.start, NULL) : 0);
                    step(stats);
                } else if (key_is(e.type.start, e.type.end, "OrderShipped")) {
                    bind_span(shipped, 1, key);
                    bind_span(shipped, 2, e.carrier);
                    bind_span(shipped, 3, e.timestamp);
                    step(shipped);
                } else if (key_is(e.type.start, e.type.end, "OrderCancelled")) {
                    bind_span(cancelled, 1, key);
                    step(cancelled);
                }
                rd_kafka_message_destroy(m);
            }
            for (int p = 0; p < info.count; p++) {
                if (!next[p]) continue;
                sqlite3_bind_text(checkpoint, 1, topic, -1, SQLITE_STATIC);
                sqlite3_bind_int(checkpoint, 2, p);
                sqlite3_bind_int64(checkpoint, 3, next[p]);
                step(checkpoint);
            }
            step(commit);
            double t1 = now_seconds();
            record_latency(t1 - t0);
            t0 = t1;
        }
    }
    double seconds = now_seconds() - start, cpu = cpu_seconds() - cpu0;
    if (failed) fprintf(stderr, "cref: %ld malformed events\n", failed);
    report("project", seen, bytes, seconds, cpu);
    sqlite3_stmt *all[] = {created, stats, shipped, cancelled, checkpoint, begin, commit};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) sqlite3_finalize(all[i]);
    sqlite3_close(db);
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(messages);
    free(next);
    return 0;
}

/* ---- produce ---- */

static long delivered, delivery_failures;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) {
        if (!delivery_failures++) fprintf(stderr, "cref: delivery failed: %s\n", rd_kafka_err2str(m->err));
    } else {
        delivered++;
    }
}

/* The synthetic event of `projector bench` (BenchEvent.swift): same shape, same size. */
static int synthetic_event(char *out, size_t size, long sequence, char *key, size_t key_size) {
    long order = sequence / 3 + 1;
    snprintf(key, key_size, "o-%ld", order);
    int n = snprintf(out, size,
                     "{\"eventId\":\"b-%ld\",\"eventType\":\"OrderCreated\",\"timestamp\":\"2026-11-01T00:00:00Z\","
                     "\"data\":{\"orderId\":\"o-%ld\",\"customerId\":\"c-%ld\",\"totalAmount\":%ld.%02ld,\"currency\":\"EUR\","
                     "\"items\":[{\"sku\":\"SKU-RED\",\"quantity\":%ld}]",
                     sequence, order, order % 2000 + 1, order % 1000, order % 100, order % 4 + 1);
    /* Pad with a note member when there is room for one (,"note":"" is 10 bytes). */
    long room = (long)value_size - (n + 2) - 10;
    if (room >= 0) {
        memcpy(out + n, ",\"note\":\"", 9);
        memset(out + n + 9, 'x', room);
        out[n + 9 + room] = '"';
        n += 10 + room;
    }
    memcpy(out + n, "}}", 2);
    return n + 2;
}

static int mode_produce(void) {
    if (messages_wanted <= 0) die(2, "produce needs --messages N");
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The Swift KafkaProducerConfiguration defaults. */
    set(conf, "bootstrap.servers", brokers);
    set(conf, "client.id", "cref");
    set(conf, "enable.idempotence", "true");
    set(conf, "linger.ms", "5");
    set(conf, "message.timeout.ms", "300000");
    set(conf, "queue.buffering.max.messages", "100000");
    set(conf, "batch.num.messages", "10000");
    set(conf, "allow.auto.create.topics", "false");
    set(conf, "log_level", "3");
    apply_props(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) die(1, "creating the producer: %s", err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    char *value = malloc(value_size + 512), key[64];
    long long bytes = 0;
    double cpu0 = cpu_seconds(), start = now_seconds();
    allocations_start = allocations();
    for (long i = 0; i < messages_wanted; i++) {
        int len = synthetic_event(value, value_size + 512, i, key, sizeof key);
        for (;;) {
            rd_kafka_error_t *error = rd_kafka_produceva(rk, (rd_kafka_vu_t[]){
                {.vtype = RD_KAFKA_VTYPE_RKT, .u.rkt = rkt},
                {.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
                {.vtype = RD_KAFKA_VTYPE_KEY, .u.mem = {key, strlen(key)}},
                {.vtype = RD_KAFKA_VTYPE_VALUE, .u.mem = {value, (size_t)len}},
            }, 4);
            if (!error) break;
            rd_kafka_resp_err_t code = rd_kafka_error_code(error);
            if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) die(1, "produce: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
            rd_kafka_poll(rk, 100);
        }
        bytes += len;
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double seconds = now_seconds() - start, cpu = cpu_seconds() - cpu0;
    if (delivered != messages_wanted) die(1, "delivered %ld of %ld messages", delivered, messages_wanted);
    report("produce", delivered, bytes, seconds, cpu);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(value);
    return 0;
}

static int mode_watermarks(void) {
    rd_kafka_t *rk = new_consumer();
    topic_info info;
    read_topic(rk, &info, 0);
    long long total = 0;
    int truncated = 0;
    for (int p = 0; p < info.count; p++) {
        total += info.high[p] - info.low[p];
        if (info.low[p] != 0) truncated++;
    }
    printf("{\"partitions\":%d,\"messages\":%lld,\"truncated_partitions\":%d}\n", info.count, total, truncated);
    rd_kafka_destroy(rk);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) die(2, "usage: cref consume|project|project-pg|produce|watermarks --brokers B --topic T [options]");
    const char *mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) die(2, "%s needs a value", arg);
        i++;
        if (!strcmp(arg, "--brokers")) brokers = value;
        else if (!strcmp(arg, "--topic")) topic = value;
        else if (!strcmp(arg, "--db")) db_path = value;
        else if (!strcmp(arg, "--passes")) passes = atol(value);
        else if (!strcmp(arg, "--batch")) batch_size = atol(value);
        else if (!strcmp(arg, "--messages")) messages_wanted = atol(value);
        else if (!strcmp(arg, "--size")) value_size = atol(value);
        else if (!strcmp(arg, "-X")) {
            const char *eq = strchr(value, '=');
            if (!eq || prop_count == MAX_PROPS) die(2, "-X expects key=value, got '%s'", value);
            props[prop_count][0] = strndup(value, eq - value);
            props[prop_count][1] = eq + 1;
            prop_count++;
        } else die(2, "unknown option %s", arg);
    }
    if (!brokers || !topic) die(2, "--brokers and --topic are required");
    if (!strcmp(mode, "consume")) return mode_consume();
    if (!strcmp(mode, "project")) return mode_project();
    if (!strcmp(mode, "project-pg")) return mode_project_postgres();
    if (!strcmp(mode, "produce")) return mode_produce();
    if (!strcmp(mode, "watermarks")) return mode_watermarks();
    die(2, "unknown mode %s", mode);
    return 2;
}
