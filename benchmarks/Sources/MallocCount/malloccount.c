/*
 * libmalloccount.so: counts heap allocations of a whole process, librdkafka's threads included.
 * Preload it (LD_PRELOAD=.../libmalloccount.so) into both the C reference and `projector bench`;
 * each reads malloccount_total() before and after its timed region, so "allocations per record"
 * compare the same thing in both. The real allocator is glibc's, reached by its __libc_* names,
 * so no dlsym bootstrap is needed.
 */
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static uint64_t total;

uint64_t malloccount_total(void) { return __atomic_load_n(&total, __ATOMIC_RELAXED); }

static inline void count(void) { __atomic_fetch_add(&total, 1, __ATOMIC_RELAXED); }

void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { count(); return __libc_realloc(p, size); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    count();
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
