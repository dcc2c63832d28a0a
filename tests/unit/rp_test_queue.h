/* rp_test_queue.h — a fresh queue file in a temporary folder, for the unit
 * tests of the queue and of what reads it (SLA figures, export). */
#ifndef RP_TEST_QUEUE_H
#define RP_TEST_QUEUE_H

#include "rp_test.h"

#include <unistd.h>

#include "rp_queue.h"

typedef struct rp_test_queue {
    char dir[64];
    char path[128];
    rp_queue *q;
    rp_queue_owner *owner; /* a sender's lease, for claiming */
} rp_test_queue;

static inline void rp_test_queue_open(rp_test_queue *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/rp-test-queue-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/q.db", t->dir);
    rp_error err;
    assert_int_equal(rp_queue_open(t->path, NULL, &t->q, &err), RP_OK);
    assert_int_equal(rp_queue_owner_new(t->q, &t->owner, &err), RP_OK);
}

static inline void rp_test_queue_close(rp_test_queue *t)
{
    rp_queue_owner_free(t->owner);
    rp_queue_close(t->q);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    assert_int_equal(system(cmd), 0);
}

#endif
