/*
 * What cref.c shares with the projection modes in other files (cref_postgres.c): the options, the
 * consumer set up as the Swift one is, the JSON scanner and the report.
 */
#ifndef CREF_H
#define CREF_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <sys/types.h>

extern const char *brokers, *topic, *db_path;
extern long batch_size;
extern long long allocations_start;

void die(int code, const char *fmt, ...);
double now_seconds(void);
double cpu_seconds(void);
void record_latency(double seconds);
long long allocations(void);
void report(const char *mode, long messages, long long bytes, double seconds, double cpu);

/* A topic's partitions are read whole: 2,500 hold the 20,000,000 events of `benchmarks/rebuild-scale --events 20000000`. */
#define CREF_MAX_PARTITIONS 4096

typedef struct {
    int count;
    int64_t low[CREF_MAX_PARTITIONS], high[CREF_MAX_PARTITIONS];
} topic_info;

rd_kafka_t *new_consumer(void);
void read_topic(rd_kafka_t *rk, topic_info *info, int require_full);
void assign_all(rd_kafka_t *rk, const topic_info *info);
ssize_t next_batch(rd_kafka_queue_t *queue, rd_kafka_message_t **messages);

typedef struct {
    const char *p, *end;
} scanner;

typedef struct { const char *start, *end; } span;

typedef struct {
    span type, timestamp, customer, currency, carrier, total;
    long items, quantity;
} order_event;

int key_is(const char *a, const char *b, const char *name);
int scan_object(scanner *s, order_event *e, int is_data);

/* cref_postgres.c */
int mode_project_postgres(void);

#endif
