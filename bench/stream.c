// SPDX-License-Identifier: MIT
/*
 * One-way streaming throughput.
 *
 * Worker A sends stamped messages back to back for warm-up + duration, then a stop
 * message. Worker B receives and checks every message, counting lost, duplicated,
 * reordered and corrupted ones (on a transport that promises order, any of them fails
 * the case; on a LOSSY one, loss is reported as a metric).
 *
 * B owns the measurement: its window opens once warm-up has passed since its first
 * message and closes at the stop message, so what is measured is delivery, not how fast
 * the sender can hand bytes to a kernel buffer. Inside the window B reads the clock once
 * every `batch` messages (ipcb_batch_for) and records the mean time per message of each
 * batch in the histogram, which gives the spread of the delivery rate; messages/s and
 * bytes/s are window messages over window time.
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

/* During warm-up, read the clock once every this many messages. */
#define WARM_STRIDE 16
/* On a LOSSY transport the producer resends the stop message this often until seen. */
#define STOP_RESEND_NS 1000000
/* ctl->shared[] words */
enum { SH_CONS_STOPPED = 0 };

static int stream_plan(struct ipcb_case *c, char *why, size_t len)
{
	(void)why;
	(void)len;
	c->nworkers = 2;
	c->roles[0] = IPCB_ROLE_A;
	c->roles[1] = IPCB_ROLE_B;
	return 0;
}

static int produce(struct ipcb_wctx *w, struct ipcb_end *e, void *buf)
{
	const struct ipcb_config *cfg = w->c->cfg;
	size_t size = w->c->size;
	uint64_t seq = 0, end;
	int rc;

	ipcb_worker_begin(w);
	end = w->slot->t_begin_ns + cfg->warmup_ns + cfg->duration_ns;
	do {
		for (int i = 0; i < WARM_STRIDE; i++) {
			ipcb_msg_stamp(buf, size, seq, 0, 0, cfg->verify_full);
			rc = ipcb_send_msg(e, buf, size);
			if (rc < 0)
				return ipcb_worker_fail(w, rc, "send of message %llu",
							(unsigned long long)seq);
			seq++;
		}
	} while (ipcb_now_ns() < end);
	ipcb_worker_end(w);
	ipcb_msg_stamp(buf, size, seq, 0, 1, cfg->verify_full);
	rc = ipcb_send_msg(e, buf, size);
	if (rc < 0)
		return ipcb_worker_fail(w, rc, "send of the stop message");
	/* A LOSSY transport may drop the stop message too: send it again until the consumer
	 * says it has seen one (the extra copies are never read). */
	if (w->c->tr->caps & IPCB_CAP_LOSSY) {
		while (!atomic_load(&w->ctl->shared[SH_CONS_STOPPED]) &&
		       !atomic_load(&w->ctl->stop)) {
			struct timespec ts = { 0, STOP_RESEND_NS };
			nanosleep(&ts, NULL);
			rc = ipcb_send_msg(e, buf, size);
			if (rc < 0)
				return ipcb_worker_fail(w, rc, "resend of the stop message");
		}
	}
	w->slot->msgs = seq;
	w->slot->u[0] = seq;
	return 0;
}

static int consume(struct ipcb_wctx *w, struct ipcb_end *e, void *buf)
{
	const struct ipcb_config *cfg = w->c->cfg;
	const struct ipcb_transport *tr = w->c->tr;
	struct ipcb_slot *s = w->slot;
	size_t size = w->c->size;
	uint64_t expect = 0, got_msgs = 0, in_window = 0, batch = WARM_STRIDE, t_first = 0;
	uint64_t t_sample = 0, win_start_msgs = 0;
	int windowed = 0;
	uint32_t got;
	uint16_t prod;

	for (;;) {
		int rc = ipcb_recv_msg(e, buf, size);
		if (rc < 0)
			return ipcb_worker_fail(w, rc, "receive after %llu messages",
						(unsigned long long)got_msgs);
		int k = ipcb_msg_check(buf, size, cfg->verify_full, &got, &prod);
		if (k == IPCB_MSG_CORRUPT) {
			s->corrupt++;
			continue;
		}
		if (got != (uint32_t)expect) {
			/* Distance forward in the 32-bit sequence space. */
			uint32_t ahead = got - (uint32_t)expect;
			if (ahead < 0x80000000u) {
				s->lost += ahead;
				expect += ahead;
			} else {
				s->dup++;   /* an old sequence number again: duplicate or reordered */
				continue;
			}
		}
		if (k == IPCB_MSG_IS_STOP) {
			atomic_store(&w->ctl->shared[SH_CONS_STOPPED], 1);
			break;
		}
		expect++;
		got_msgs++;
		if (got_msgs == 1) {
			t_first = ipcb_now_ns();
			continue;
		}
		if (!windowed) {
			if (got_msgs % WARM_STRIDE)
				continue;
			uint64_t t = ipcb_now_ns();
			if (t - t_first < cfg->warmup_ns)
				continue;
			batch = ipcb_batch_for((double)(t - t_first) / (double)(got_msgs - 1));
			s->ops_per_sample = batch;
			windowed = 1;
			win_start_msgs = got_msgs;
			ipcb_worker_begin(w);
			t_sample = s->t_begin_ns;
			continue;
		}
		if (++in_window % batch == 0) {
			uint64_t t = ipcb_now_ns();
			ipcb_hist_record(&s->hist, (t - t_sample + batch / 2) / batch);
			t_sample = t;
			if ((in_window / batch) % 64 == 0)
				ipcb_worker_sample_cpu(w);
		}
	}
	if (!windowed || got_msgs - win_start_msgs < 2) {
		/* The sender was held off (a loaded machine) and the window after warm-up holds
		 * (almost) nothing: measure from the first message instead, warm-up included,
		 * and say so (window_fallback = 1) rather than fail or report nothing. */
		if (!windowed)
			ipcb_worker_begin(w);
		s->t_begin_ns = t_first;
		win_start_msgs = 1;
		s->ops_per_sample = 1;
		s->u[2] = 1;
	}
	ipcb_worker_end(w);
	s->msgs = got_msgs - win_start_msgs;
	s->bytes = s->msgs * size;
	s->u[0] = expect;             /* sequence numbers accounted for (received or lost) */
	s->u[1] = got_msgs;
	(void)tr;
	return 0;
}

static int stream_worker(struct ipcb_wctx *w)
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
		rc = w->role == IPCB_ROLE_A ? produce(w, &e, buf) : consume(w, &e, buf);
	if (w->c->tr->detach)
		w->c->tr->detach(&e);
	free(buf);
	return rc == -ECANCELED ? 0 : rc;
}

static int stream_finish(const struct ipcb_case *c, struct ipcb_slot *slots,
			 struct ipcb_metrics *m, char *why, size_t len)
{
	struct ipcb_slot *a = &slots[0], *b = &slots[1];
	int lossy = c->tr->caps & IPCB_CAP_LOSSY;
	double win_ns = (double)(b->t_end_ns - b->t_begin_ns);

	if (b->corrupt || b->dup || (!lossy && (b->lost || b->u[0] != a->u[0]))) {
		snprintf(why, len, "integrity: sent %llu, received %llu (lost %llu, duplicated or "
			 "reordered %llu, corrupt %llu)", (unsigned long long)a->u[0],
			 (unsigned long long)b->u[1], (unsigned long long)b->lost,
			 (unsigned long long)b->dup, (unsigned long long)b->corrupt);
		return -EPROTO;
	}
	if (b->msgs == 0 || win_ns <= 0) {
		snprintf(why, len, "no message arrived inside the measured window");
		return -EPROTO;
	}
	ipcb_metrics_add(m, "msgs_per_s", "msgs/s", (double)b->msgs * 1e9 / win_ns, b->hist.count,
			 b->ops_per_sample, 0);
	ipcb_metrics_add(m, "bytes_per_s", "B/s", (double)b->bytes * 1e9 / win_ns, b->hist.count,
			 b->ops_per_sample, 0);
	ipcb_metrics_add_hist(m, "per_msg", &b->hist, b->ops_per_sample);
	ipcb_metrics_add(m, "msgs", "count", (double)b->msgs, 1, 1, 0);
	ipcb_metrics_add(m, "window_fallback", "count", (double)b->u[2], 1, 1, 1);
	if (lossy)
		ipcb_metrics_add(m, "lost", "count", (double)b->lost, 1, 1, 1);
	ipcb_metrics_add_cost(m, a, 1, "a", "msg", a->msgs);
	ipcb_metrics_add_cost(m, b, 1, "b", "msg", b->msgs);
	ipcb_metrics_add(m, "migrations", "count", (double)(a->migrations + b->migrations), 1, 1, 1);
	return 0;
}

const struct ipcb_pattern ipcb_pattern_stream = {
	.name = "stream",
	.summary = "one-way streaming throughput: A sends, B receives and checks (msgs/s, B/s)",
	.uses_transport = 1,
	.needs = 0,
	.excludes = IPCB_CAP_ONE_IN_FLIGHT,
	.sized = 1,
	.headline = { "msgs_per_s", "bytes_per_s", NULL },
	.plan = stream_plan,
	.worker = stream_worker,
	.finish = stream_finish,
};
