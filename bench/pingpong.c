// SPDX-License-Identifier: MIT
/*
 * Ping-pong round-trip latency.
 *
 * Worker A stamps a message, sends it, and waits for B to echo it back; B checks each
 * message (sequence and stamp) before echoing, A checks the echo. One round trip is one
 * operation. After a warm-up (not recorded) A times round trips: each sample covers `batch`
 * round trips, chosen from the warm-up rate so the clock reads stay under 2% of a sample
 * (ipcb_batch_for); with batch > 1 the histogram holds per-batch means and the CSV says so
 * (ops_per_sample). A wrong, missing or repeated message ends the case as FAILED at once: a
 * ping-pong cannot go on past a lost message.
 *
 * With --rate the loop is open instead: see ping_open_loop().
 *
 * Excluded from the timing: stamping and checking happen inside the round trip (they are
 * part of what a real user pays, and cost O(size/4096) in sparse mode); warm-up; setup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness/clock.h"
#include "../harness/msg.h"
#include "../harness/run.h"
#include "../ipc/transport.h"
#include "pattern.h"

static int pingpong_plan(struct ipcb_case *c, char *why, size_t len)
{
	(void)why;
	(void)len;
	c->nworkers = 2;
	c->roles[0] = IPCB_ROLE_A;
	c->roles[1] = IPCB_ROLE_B;
	return 0;
}

/* One round trip of message seq; 0, or the failure recorded in the slot. */
static int round_trip(struct ipcb_wctx *w, struct ipcb_end *e, void *buf, uint64_t seq)
{
	size_t size = w->c->size;
	int full = w->c->cfg->verify_full;
	uint32_t got;
	uint16_t prod;
	int rc, k;

	ipcb_msg_stamp(buf, size, seq, 0, 0, full);
	rc = ipcb_send_msg(e, buf, size);
	if (rc < 0)
		return ipcb_worker_fail(w, rc, "send of message %llu", (unsigned long long)seq);
	rc = ipcb_recv_msg(e, buf, size);
	if (rc < 0)
		return ipcb_worker_fail(w, rc, "receive of echo %llu", (unsigned long long)seq);
	k = ipcb_msg_check(buf, size, full, &got, &prod);
	if (k != IPCB_MSG_OK) {
		w->slot->corrupt++;
		return ipcb_worker_fail(w, 0, "echo of message %llu is corrupt",
					(unsigned long long)seq);
	}
	if (got != (uint32_t)seq) {
		w->slot->lost++;
		return ipcb_worker_fail(w, 0, "sent message %llu, echo carries %u",
					(unsigned long long)seq, got);
	}
	return 0;
}

/* Sleep most of the way to `when` (if it is far), then spin the rest: a sleep alone
 * overshoots by tens of microseconds, a spin alone burns the CPU the peer may need. */
static void wait_until(uint64_t when)
{
	uint64_t now = ipcb_now_ns();

	if (when > now + 200000) {
		uint64_t wake = when - 50000;
		struct timespec ts = { (time_t)(wake / 1000000000u), (long)(wake % 1000000000u) };
		while (clock_nanosleep(IPCB_CLOCK_ID, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	while (ipcb_now_ns() < when)
		;
}

/*
 * Open loop (--rate): message k is due at t0 + k/rate whatever happened before. Each
 * sample is the time from when the message was due to when its echo arrived, so a stall
 * is charged to every message it held back (no coordinated omission). One sample per
 * round trip: the schedule is the batch.
 */
static int ping_open_loop(struct ipcb_wctx *w, struct ipcb_end *e, void *buf, uint64_t seq)
{
	const struct ipcb_config *cfg = w->c->cfg;
	struct ipcb_slot *s = w->slot;
	double period = 1e9 / cfg->rate;
	uint64_t k = 0, due, t = 0;
	int rc;

	s->ops_per_sample = 1;
	ipcb_worker_begin(w);
	for (;; k++) {
		due = s->t_begin_ns + (uint64_t)((double)k * period);
		if (due >= s->t_begin_ns + cfg->duration_ns)
			break;
		wait_until(due);
		if ((rc = round_trip(w, e, buf, seq++)) < 0)
			return rc;
		t = ipcb_now_ns();
		ipcb_hist_record(&s->hist, t - due);
	}
	ipcb_worker_end(w);
	s->msgs = k;
	s->bytes = k * w->c->size;
	s->u[0] = seq;
	s->u[1] = 1;    /* open loop */
	ipcb_msg_stamp(buf, w->c->size, seq, 0, 1, cfg->verify_full);
	rc = ipcb_send_msg(e, buf, w->c->size);
	return rc < 0 ? ipcb_worker_fail(w, rc, "send of the stop message") : 0;
}

static int ping(struct ipcb_wctx *w, struct ipcb_end *e, void *buf)
{
	const struct ipcb_config *cfg = w->c->cfg;
	struct ipcb_slot *s = w->slot;
	uint64_t seq = 0, t0, t, n = 0, batch, deadline;
	int rc;

	/* Warm-up: at least one round trip, then until warmup_ns has passed. */
	t0 = ipcb_now_ns();
	do {
		if ((rc = round_trip(w, e, buf, seq++)) < 0)
			return rc;
		n++;
		t = ipcb_now_ns();
	} while (t - t0 < cfg->warmup_ns);
	if (cfg->rate > 0)
		return ping_open_loop(w, e, buf, seq);
	batch = ipcb_batch_for((double)(t - t0) / (double)n);
	s->ops_per_sample = batch;

	ipcb_worker_begin(w);
	deadline = s->t_begin_ns + cfg->duration_ns;
	t = s->t_begin_ns;
	do {
		t0 = t;
		for (uint64_t b = 0; b < batch; b++)
			if ((rc = round_trip(w, e, buf, seq++)) < 0)
				return rc;
		t = ipcb_now_ns();
		ipcb_hist_record(&s->hist, (t - t0 + batch / 2) / batch);
		s->msgs += batch;
	} while (t < deadline);
	ipcb_worker_end(w);
	s->bytes = s->msgs * w->c->size;
	s->u[0] = seq;                    /* messages sent in all, warm-up included */

	ipcb_msg_stamp(buf, w->c->size, seq, 0, 1, cfg->verify_full);
	rc = ipcb_send_msg(e, buf, w->c->size);
	return rc < 0 ? ipcb_worker_fail(w, rc, "send of the stop message") : 0;
}

static int pong(struct ipcb_wctx *w, struct ipcb_end *e, void *buf)
{
	struct ipcb_slot *s = w->slot;
	size_t size = w->c->size;
	int full = w->c->cfg->verify_full;
	uint64_t expect = 0;
	uint32_t got;
	uint16_t prod;
	int rc;

	ipcb_worker_begin(w);
	for (;;) {
		rc = ipcb_recv_msg(e, buf, size);
		if (rc < 0)
			return ipcb_worker_fail(w, rc, "receive of message %llu",
						(unsigned long long)expect);
		int k = ipcb_msg_check(buf, size, full, &got, &prod);
		if (k == IPCB_MSG_CORRUPT) {
			s->corrupt++;
			return ipcb_worker_fail(w, 0, "message %llu is corrupt",
						(unsigned long long)expect);
		}
		if (got != (uint32_t)expect) {
			if (got < (uint32_t)expect)
				s->dup++;
			else
				s->lost++;
			return ipcb_worker_fail(w, 0, "expected message %llu, got %u",
						(unsigned long long)expect, got);
		}
		if (k == IPCB_MSG_IS_STOP)
			break;
		rc = ipcb_send_msg(e, buf, size);
		if (rc < 0)
			return ipcb_worker_fail(w, rc, "echo of message %llu",
						(unsigned long long)expect);
		expect++;
	}
	ipcb_worker_end(w);
	s->msgs = expect;
	s->u[0] = expect;
	return 0;
}

static int pingpong_worker(struct ipcb_wctx *w)
{
	struct ipcb_end e;
	size_t alloc = (w->c->size + IPCB_CACHELINE - 1) & ~(size_t)(IPCB_CACHELINE - 1);
	void *buf = aligned_alloc(IPCB_CACHELINE, alloc);
	int rc;

	if (!buf)
		return ipcb_worker_fail(w, -ENOMEM, "message buffer of %zu bytes", w->c->size);
	memset(buf, 0, alloc);
	memset(&e, 0, sizeof(e));
	rc = w->c->tr->attach(w->ch, &e, w->role);
	if (rc < 0) {
		free(buf);
		return ipcb_worker_fail(w, rc, "attach to %s", w->c->tr->name);
	}
	rc = ipcb_worker_gate(w);
	if (rc == 0)
		rc = w->role == IPCB_ROLE_A ? ping(w, &e, buf) : pong(w, &e, buf);
	if (w->c->tr->detach)
		w->c->tr->detach(&e);
	free(buf);
	return rc == -ECANCELED ? 0 : rc;
}

static int pingpong_finish(const struct ipcb_case *c, struct ipcb_slot *slots,
			   struct ipcb_metrics *m, char *why, size_t len)
{
	struct ipcb_slot *a = &slots[0], *b = &slots[1];

	if (a->u[0] != b->u[0] || a->lost || a->corrupt || b->lost || b->dup || b->corrupt) {
		snprintf(why, len, "integrity: A sent %llu, B echoed %llu (lost %llu, dup %llu, "
			 "corrupt %llu)", (unsigned long long)a->u[0], (unsigned long long)b->u[0],
			 (unsigned long long)(a->lost + b->lost), (unsigned long long)b->dup,
			 (unsigned long long)(a->corrupt + b->corrupt));
		return -EPROTO;
	}
	ipcb_metrics_add_hist(m, "rtt", &a->hist, a->ops_per_sample);
	ipcb_metrics_add(m, "round_trips", "count", (double)a->msgs, a->hist.count,
			 a->ops_per_sample, 0);
	if (a->u[1])
		ipcb_metrics_add(m, "achieved_rate_per_s", "msgs/s", (double)a->msgs * 1e9 /
				 (double)(a->t_end_ns - a->t_begin_ns), 1, 1, 0);
	ipcb_metrics_add_cost(m, a, 1, "a", "rt", a->msgs);
	ipcb_metrics_add_cost(m, b, 1, "b", "rt", b->msgs);
	ipcb_metrics_add(m, "migrations", "count", (double)(a->migrations + b->migrations), 1, 1, 1);
	(void)c;
	return 0;
}

const struct ipcb_pattern ipcb_pattern_pingpong = {
	.name = "pingpong",
	.summary = "round-trip latency: A sends, B echoes (histogram percentiles)",
	.uses_transport = 1,
	.needs = IPCB_CAP_DUPLEX,
	.sized = 1,
	.headline = { "rtt_p50_ns", "rtt_p99_ns", NULL },
	.plan = pingpong_plan,
	.worker = pingpong_worker,
	.finish = pingpong_finish,
};
