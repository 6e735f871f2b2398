// SPDX-License-Identifier: MIT
/*
 * N:M producer/consumer over a shared queue: multiprocessing.Queue with P producer and C
 * consumer processes (or threads), and its JoinableQueue variant. Runs over every transport
 * that accepts several senders and several receivers at once (MULTI_PROD|MULTI_CONS).
 *
 * Layout. One case per P:C pair and queue kind (the pattern's variants): --prodcons-producers
 * and --prodcons-consumers give the counts (one list alone pairs k:k, both lists give every
 * combination); without them the ladder 1:1, 2:2, 4:4, ... stops at the CPU budget (P + C <=
 * --cores), so a larger layout needs --cores N --oversubscribe. --prodcons-queue chooses the
 * plain queue, the joinable one, or both (default). Producers are workers 0..P-1 (their
 * worker id is the producer id in each message header), consumers P..P+C-1.
 *
 * Run. Producers send stamped messages (producer id, per-producer sequence number) for
 * warm-up + duration, reading the clock once every STRIDE messages; the first producer to see
 * the warm-up end flips ctl->shared[SH_PHASE] to MEASURE and records the time, the first to
 * see the duration end flips it to STOP. Consumers count the messages that arrive while they
 * see MEASURE: msgs/s is their sum over the recorded window. When a producer stops it counts
 * itself in ctl->shared[SH_PROD_DONE]; the last one sends exactly one stop message (sentinel)
 * per consumer, and each consumer ends at the first sentinel it receives. On a FIFO queue
 * every data message is ahead of every sentinel, so no consumer leaves work behind.
 *
 * Integrity (finish): each consumer keeps, per producer, the count, the sum of the sequence
 * numbers and a sum of a 64-bit hash of (producer, seq), and folds them at the end into that
 * producer's slot (atomic adds); every producer's numbers 0..sent-1 must then have arrived
 * exactly once in total: count == sent, sum == sent(sent-1)/2, hash sum == the expected one
 * (which also catches a loss and a duplicate that balance each other's count and sum). Per
 * consumer, a producer's numbers must increase (FIFO); the C sentinels must be 0..C-1 once
 * each. A corrupt message is counted, never trusted. Any of these fails the case.
 *
 * Latency. One message in STRIDE carries its send time (CLOCK_MONOTONIC, one clock for all
 * processes) in bytes [8,16); the consumer records receive - send for those it gets inside
 * the window: enqueue-to-dequeue latency, sampled so the clock costs no throughput. With a
 * saturated queue it is mostly the time spent waiting in the queue (Little's law: depth /
 * rate). That word is not checked (restored before a --verify full check); below 24 bytes
 * there is no room outside the checked words (the header, and at 16 bytes the last word),
 * so no latency is reported.
 *
 * Fairness: each consumer's share of the window's messages: share_min, share_max and Jain's
 * index (sum x)^2 / (C sum x^2), 1 when every consumer got the same, 1/C when one got all.
 *
 * JoinableQueue ("joinable"). Built the way multiprocessing.JoinableQueue is built on
 * Queue: an unfinished-task counter beside the transport (struct ipcb_shm_join from
 * ipc/shm_queue.h, the same code as the shm-queue's own joinable mode, kept in the control
 * block's shared words), so it works over every MPMC transport. A producer adds one before
 * each send; a consumer calls task_done after checking each message; producers call join()
 * when they stop. Each producer holds one extra task while it produces (taken before the
 * start gate), so the count cannot touch zero while any producer is still sending, and every
 * join() must wait for every message of every producer. finish() asserts that exactly one
 * task_done brought the count to zero, that every join() returned after the clock read
 * taken just before that task_done, with nothing unfinished, and that task_done was never
 * refused; join_return_ns is how long the slowest join() took to notice. Consumers read the
 * clock before each task_done for this, so the joinable rows pay one clock read per message.
 * If messages are lost, the count never reaches zero: a joining producer notices that every
 * consumer has stopped (ctl->shared[SH_CONS_DONE]) and gives up, and finish() reports it.
 *
 * Excluded: the window edges are approximate to STRIDE messages at each producer and at each
 * consumer (which looks at the phase every STRIDE messages); warm-up and the drain after
 * STOP are not measured.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/clock.h"
#include "../harness/msg.h"
#include "../harness/opt.h"
#include "../harness/run.h"
#include "../ipc/shm_queue.h"
#include "../ipc/transport.h"
#include "pattern.h"

#define STRIDE 16                /* messages per producer clock read; one carries a timestamp */
#define TS_OFF 8
#define TS_MIN_SIZE 24           /* smallest message with an unchecked word for the timestamp */
#define SENTINEL_PROD 0xFFFFu
#define MAX_SIDE 256             /* producers or consumers per case */
#define MAX_LIST 16
#define JOIN_POLL_NS 20000000u   /* a joining producer checks for stopped consumers this often */

/* ctl->shared[] words */
enum { SH_PHASE, SH_T_WIN, SH_T_END, SH_PROD_DONE, SH_CONS_DONE, SH_JOIN = 6 };
enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };

/* Slot words. Producer: */
enum { UP_SENT, UP_T_JOIN, UP_GOT, UP_SEQ_SUM, UP_HASH_SUM, UP_LEFT_AT_JOIN, UP_T_ZERO,
       UP_JOIN_GAVE_UP };
/* Consumer: */
enum { UC_GOT, UC_SENTINEL, UC_DONE = 5, UC_T_ZERO = 6, UC_REFUSED = 7 };

_Static_assert(sizeof(struct ipcb_shm_join) <= (8 - SH_JOIN) * sizeof(uint64_t),
	       "the join counter must fit in the control block's last shared words");

static struct prodcons_settings {
	const char *producers, *consumers, *queue;
} pc_set;

static const struct ipcb_opt prodcons_opts[] = {
	{ .name = "prodcons-producers", .type = IPCB_OPT_STRING,
	  .offset = offsetof(struct prodcons_settings, producers), .metavar = "LIST",
	  .base = &pc_set,
	  .help = "prodcons: producer counts, e.g. 1,2,4 (alone: as many consumers; default: "
		  "1:1, 2:2, 4:4 ... within --cores)" },
	{ .name = "prodcons-consumers", .type = IPCB_OPT_STRING,
	  .offset = offsetof(struct prodcons_settings, consumers), .metavar = "LIST",
	  .base = &pc_set,
	  .help = "prodcons: consumer counts (with --prodcons-producers: every P:C combination)" },
	{ .name = "prodcons-queue", .type = IPCB_OPT_STRING,
	  .offset = offsetof(struct prodcons_settings, queue), .choices = "plain|joinable|both",
	  .metavar = "KIND", .base = &pc_set,
	  .help = "prodcons: Queue, JoinableQueue (task_done + join) or both (default both)" },
	{ .name = NULL },
};

/* ---- layouts ---- */

static int parse_counts(const char *s, const char *opt, int *out, char *err, size_t len)
{
	return ipcb_parse_counts(s, opt, 1, MAX_SIDE, out, MAX_LIST, err, len);
}

/* The layout of variant v: P, C and joinable. Returns the number of variants, or -EINVAL
 * with err set. */
static int layout(const struct ipcb_config *cfg, int v, int *P, int *C, int *joinable,
		  char *err, size_t len)
{
	int prod[MAX_LIST * MAX_LIST], cons[MAX_LIST * MAX_LIST], pl[MAX_LIST], cl[MAX_LIST];
	int np = 0, nkinds, kind0;

	if (pc_set.producers && (np = parse_counts(pc_set.producers, "prodcons-producers", pl,
						   err, len)) < 0)
		return -EINVAL;
	int nc = 0;
	if (pc_set.consumers && (nc = parse_counts(pc_set.consumers, "prodcons-consumers", cl,
						   err, len)) < 0)
		return -EINVAL;
	int n = 0;
	if (np && nc) {
		for (int i = 0; i < np; i++)
			for (int j = 0; j < nc; j++)
				prod[n] = pl[i], cons[n++] = cl[j];
	} else if (np || nc) {
		for (int i = 0; i < (np ? np : nc); i++)
			prod[n] = cons[n] = np ? pl[i] : cl[i], n++;
	} else {
		for (int k = 1; k <= MAX_SIDE && (n == 0 || 2 * k <= cfg->budget); k *= 2)
			prod[n] = cons[n] = k, n++;
	}
	if (!pc_set.queue || strcmp(pc_set.queue, "both") == 0)
		nkinds = 2, kind0 = 0;
	else
		nkinds = 1, kind0 = strcmp(pc_set.queue, "joinable") == 0;
	if (v >= 0 && v < n * nkinds) {
		*P = prod[v / nkinds];
		*C = cons[v / nkinds];
		*joinable = nkinds == 2 ? v % 2 : kind0;
	}
	return n * nkinds;
}

static int prodcons_variants(const struct ipcb_config *cfg)
{
	char err[160];
	int P, C, J;
	int n = layout(cfg, -1, &P, &C, &J, err, sizeof(err));
	return n > 0 ? n : 1;    /* bad input (refused by check() first): one SKIPPED case */
}

static int prodcons_check(const struct ipcb_config *cfg, char *err, size_t len)
{
	char why[160];
	int P, C, J;

	if (layout(cfg, -1, &P, &C, &J, why, sizeof(why)) < 0) {
		snprintf(err, len, "%s", why);
		return -EINVAL;
	}
	return 0;
}

static int prodcons_plan(struct ipcb_case *c, char *why, size_t len)
{
	int P = 0, C = 0, J = 0;
	int n = layout(c->cfg, c->variant, &P, &C, &J, why, len);

	if (n < 0)
		return -ENOTSUP;
	if (c->variant >= n) {
		snprintf(why, len, "prodcons: no variant %d", c->variant);
		return -ENOTSUP;
	}
	if (P + C > IPCB_MAX_WORKERS) {
		snprintf(why, len, "prodcons %d:%d needs more than %d workers", P, C, IPCB_MAX_WORKERS);
		return -ENOTSUP;
	}
	c->nworkers = P + C;
	for (int i = 0; i < c->nworkers; i++)
		c->roles[i] = i < P ? IPCB_ROLE_A : IPCB_ROLE_B;
	size_t l = strlen(c->label);
	snprintf(c->label + l, sizeof(c->label) - l, " %d:%d%s", P, C, J ? " joinable" : "");
	l = strlen(c->params);
	snprintf(c->params + l, sizeof(c->params) - l, ";producers=%d;consumers=%d;queue=%s", P, C,
		 J ? "joinable" : "plain");
	return 0;
}

/* ---- workers ---- */

static struct ipcb_shm_join *join_of(struct ipcb_ctl *ctl)
{
	/* The last shared words hold the counter; nothing else touches them (zeroed memory is
	 * an empty counter). */
	return (struct ipcb_shm_join *)(void *)&ctl->shared[SH_JOIN];
}

static uint64_t seq_hash(uint16_t prod, uint64_t seq)
{
	return ipcb_mix64((seq << 16) ^ prod ^ 0x5bd1e9955bd1e995ull);
}

/* Move the phase from `from` to the next one at time now; the winner records the time.
 * Returns the phase now in force. */
static uint64_t advance(struct ipcb_ctl *ctl, uint64_t from, uint64_t now)
{
	uint64_t expect = from;

	if (atomic_compare_exchange_strong(&ctl->shared[SH_PHASE], &expect, from + 1)) {
		atomic_store(&ctl->shared[from == PHASE_WARMUP ? SH_T_WIN : SH_T_END], now);
		return from + 1;
	}
	return expect;
}

static int produce(struct ipcb_wctx *w, struct ipcb_end *e, unsigned char *buf, int P, int C,
		   int joinable)
{
	const struct ipcb_config *cfg = w->c->cfg;
	struct ipcb_ctl *ctl = w->ctl;
	struct ipcb_slot *s = w->slot;
	struct ipcb_shm_join *j = join_of(ctl);
	size_t size = w->c->size;
	int full = cfg->verify_full, ts_ok = size >= TS_MIN_SIZE, rc;
	uint16_t id = (uint16_t)w->id;
	uint64_t t_win = ctl->t_go_ns + cfg->warmup_ns, t_end = t_win + cfg->duration_ns;
	uint64_t seq = 0;

	ipcb_worker_begin(w);
	for (;;) {
		uint64_t now = ipcb_now_ns();
		uint64_t ph = atomic_load_explicit(&ctl->shared[SH_PHASE], memory_order_acquire);
		if (ph == PHASE_WARMUP && now >= t_win)
			ph = advance(ctl, PHASE_WARMUP, now);
		if (ph == PHASE_MEASURE && now >= t_end)
			ph = advance(ctl, PHASE_MEASURE, now);
		if (ph == PHASE_STOP)
			break;
		for (int i = 0; i < STRIDE; i++) {
			ipcb_msg_stamp(buf, size, seq, id, 0, full);
			if (ts_ok) {
				uint64_t ts = i == 0 ? now : 0;
				memcpy(buf + TS_OFF, &ts, 8);
			}
			if (joinable)
				ipcb_shm_join_add(j, 1);
			rc = ipcb_send_msg(e, buf, size);
			if (rc < 0)
				return ipcb_worker_fail(w, rc, "producer %u: send of message %llu", id,
							(unsigned long long)seq);
			seq++;
		}
		if ((seq / STRIDE) % 64 == 0)
			ipcb_worker_sample_cpu(w);
	}
	ipcb_worker_end(w);
	s->u[UP_SENT] = seq;
	s->msgs = seq;
	s->bytes = seq * size;

	if (joinable) {
		/* Give back the task held while producing. */
		uint64_t t = ipcb_now_ns();
		int64_t left = ipcb_shm_join_done(j);
		if (left == 0)
			s->u[UP_T_ZERO] = t;
		else if (left < 0)
			return ipcb_worker_fail(w, (int)left, "producer %u: task_done of its own "
						"production token was refused", id);
	}
	if ((int)atomic_fetch_add(&ctl->shared[SH_PROD_DONE], 1) + 1 == P) {
		/* The last producer out: one sentinel per consumer. */
		for (int k = 0; k < C; k++) {
			ipcb_msg_stamp(buf, size, (uint64_t)k, SENTINEL_PROD, 1, full);
			if (ts_ok)
				memset(buf + TS_OFF, 0, 8);
			rc = ipcb_send_msg(e, buf, size);
			if (rc < 0)
				return ipcb_worker_fail(w, rc, "producer %u: send of sentinel %d", id, k);
		}
	}
	if (joinable) {
		for (;;) {
			rc = ipcb_shm_join_wait(j, JOIN_POLL_NS);
			if (rc == 0)
				break;
			if (rc != -ETIMEDOUT)
				return ipcb_worker_fail(w, rc, "producer %u: join", id);
			/* Every consumer has stopped and tasks are still open: they were lost. */
			if ((int)atomic_load(&ctl->shared[SH_CONS_DONE]) == C &&
			    atomic_load(&j->unfinished) != 0) {
				s->u[UP_JOIN_GAVE_UP] = 1;
				break;
			}
		}
		s->u[UP_T_JOIN] = ipcb_now_ns();
		s->u[UP_LEFT_AT_JOIN] = atomic_load(&j->unfinished);
	}
	return 0;
}

struct tally {
	uint64_t n, next, sum, hsum;   /* next: last sequence number seen + 1 */
};

static int consume(struct ipcb_wctx *w, struct ipcb_end *e, unsigned char *buf, int P, int C,
		   int joinable)
{
	const struct ipcb_config *cfg = w->c->cfg;
	struct ipcb_ctl *ctl = w->ctl;
	struct ipcb_slot *s = w->slot;
	struct ipcb_shm_join *j = join_of(ctl);
	size_t size = w->c->size;
	int full = cfg->verify_full, ts_ok = size >= TS_MIN_SIZE;
	uint64_t got = 0, win = 0, ph = PHASE_WARMUP;
	struct tally *t = calloc((size_t)P, sizeof(*t));

	if (!t)
		return ipcb_worker_fail(w, -ENOMEM, "consumer tallies for %d producers", P);
	ipcb_worker_begin(w);
	for (;;) {
		uint64_t ts = 0;
		uint32_t seq32;
		uint16_t prod;
		int rc = ipcb_recv_msg(e, buf, size);
		if (rc < 0) {
			free(t);
			return ipcb_worker_fail(w, rc, "consumer %d: receive after %llu messages",
						w->id - P, (unsigned long long)got);
		}
		if (ts_ok) {
			memcpy(&ts, buf + TS_OFF, 8);
			if (full) {
				/* The timestamp word is not part of the check: put back the word
				 * the stamp derived for it. */
				memcpy(&seq32, buf, 4);
				memcpy(&prod, buf + 4, 2);
				uint64_t word = ipcb_msg_word(seq32, prod, TS_OFF);
				memcpy(buf + TS_OFF, &word, 8);
			}
		}
		int k = ipcb_msg_check(buf, size, full, &seq32, &prod);
		if (k == IPCB_MSG_IS_STOP && prod == SENTINEL_PROD && seq32 < (uint32_t)C) {
			s->u[UC_SENTINEL] = seq32 + 1u;
			break;
		}
		if (k != IPCB_MSG_OK || prod >= P) {
			s->corrupt++;
		} else {
			struct tally *tp = &t[prod];
			uint64_t seq = seq32;
			if (tp->n) {
				/* widen against the last number seen from this producer */
				uint64_t last = tp->next - 1;
				seq = last + (uint64_t)(int64_t)(int32_t)(seq32 - (uint32_t)last);
				if (seq <= last)
					s->reorder++;     /* not increasing: duplicated or reordered */
			}
			if (seq + 1 > tp->next)
				tp->next = seq + 1;
			tp->n++;
			tp->sum += seq;
			tp->hsum += seq_hash(prod, seq);
			got++;
			/* The phase word shares its line with the join counter: read it
			 * every STRIDE messages and on stamped ones, not on every one. */
			if ((got & (STRIDE - 1)) == 1 || ts)
				ph = atomic_load_explicit(&ctl->shared[SH_PHASE],
							  memory_order_relaxed);
			if (ph == PHASE_MEASURE) {
				win++;
				if (ts) {
					uint64_t now = ipcb_now_ns();
					ipcb_hist_record(&s->hist, now > ts ? now - ts : 0);
				}
			}
		}
		if (joinable) {
			uint64_t tnow = ipcb_now_ns();
			int64_t left = ipcb_shm_join_done(j);
			if (left == 0)
				s->u[UC_T_ZERO] = tnow;
			else if (left < 0)
				s->u[UC_REFUSED]++;
			s->u[UC_DONE]++;
		}
	}
	ipcb_worker_end(w);
	/* The window is the producers' (recorded at the phase flips). */
	s->t_begin_ns = atomic_load(&ctl->shared[SH_T_WIN]);
	s->t_end_ns = atomic_load(&ctl->shared[SH_T_END]);
	for (int p = 0; p < P; p++) {
		if (!t[p].n)
			continue;
		uint64_t *u = ctl->slots[p].u;
		__atomic_fetch_add(&u[UP_GOT], t[p].n, __ATOMIC_RELAXED);
		__atomic_fetch_add(&u[UP_SEQ_SUM], t[p].sum, __ATOMIC_RELAXED);
		__atomic_fetch_add(&u[UP_HASH_SUM], t[p].hsum, __ATOMIC_RELAXED);
	}
	free(t);
	s->u[UC_GOT] = got;
	s->msgs = win;
	s->bytes = win * size;
	s->ops_per_sample = 1;
	atomic_fetch_add(&ctl->shared[SH_CONS_DONE], 1);
	return 0;
}

static int count_producers(const struct ipcb_case *c)
{
	int P = 0;
	for (int i = 0; i < c->nworkers; i++)
		P += c->roles[i] == IPCB_ROLE_A;
	return P;
}

static int prodcons_worker(struct ipcb_wctx *w)
{
	const struct ipcb_case *c = w->c;
	int P = count_producers(c), C = c->nworkers - P, J = 0, Pv, Cv;
	char err[160];
	struct ipcb_end e;
	size_t alloc = (c->size + IPCB_CACHELINE - 1) & ~(size_t)(IPCB_CACHELINE - 1);
	unsigned char *buf;
	int rc;

	if (layout(c->cfg, c->variant, &Pv, &Cv, &J, err, sizeof(err)) < 0)
		return ipcb_worker_fail(w, -EINVAL, "prodcons: %s", err);
	buf = aligned_alloc(IPCB_CACHELINE, alloc);
	if (!buf)
		return ipcb_worker_fail(w, -ENOMEM, "message buffer of %zu bytes", c->size);
	memset(buf, 0, alloc);
	memset(&e, 0, sizeof(e));
	rc = c->tr->attach(w->ch, &e, w->role);
	if (rc < 0) {
		free(buf);
		return ipcb_worker_fail(w, rc, "attach to %s", c->tr->name);
	}
	if (J && w->role == IPCB_ROLE_A)
		ipcb_shm_join_add(join_of(w->ctl), 1);   /* the production token, before the gate */
	rc = ipcb_worker_gate(w);
	if (rc == 0)
		rc = w->role == IPCB_ROLE_A ? produce(w, &e, buf, P, C, J)
					    : consume(w, &e, buf, P, C, J);
	if (c->tr->detach)
		c->tr->detach(&e);
	free(buf);
	return rc == -ECANCELED ? 0 : rc;
}

/* ---- integrity and metrics ---- */

static int check_integrity(int P, int C, struct ipcb_slot *slots, char *why, size_t len)
{
	struct ipcb_slot *cons = slots + P;
	unsigned char seen[MAX_SIDE] = { 0 };

	for (int i = 0; i < C; i++) {
		if (cons[i].corrupt || cons[i].reorder) {
			snprintf(why, len, "integrity: consumer %d received %llu corrupt messages and "
				 "%llu out of order (a producer's numbers went back)", i,
				 (unsigned long long)cons[i].corrupt, (unsigned long long)cons[i].reorder);
			return -EPROTO;
		}
		uint64_t sn = cons[i].u[UC_SENTINEL];    /* sentinel number + 1 */
		if (sn < 1 || sn > (uint64_t)C || sn > MAX_SIDE || seen[sn - 1]++) {
			snprintf(why, len, "integrity: consumer %d ended on sentinel %lld (want each of "
				 "0..%d once)", i, (long long)sn - 1, C - 1);
			return -EPROTO;
		}
	}
	for (int p = 0; p < P; p++) {
		const uint64_t *u = slots[p].u;
		uint64_t n = u[UP_SENT];
		uint64_t want_sum = (n % 2 == 0) ? (n / 2) * (n ? n - 1 : 0) : n * ((n - 1) / 2);
		uint64_t want_hash = 0;
		for (uint64_t q = 0; q < n; q++)
			want_hash += seq_hash((uint16_t)p, q);
		if (u[UP_GOT] != n || u[UP_SEQ_SUM] != want_sum || u[UP_HASH_SUM] != want_hash) {
			snprintf(why, len, "integrity: producer %d sent messages 0..%lld, consumers "
				 "received %llu (%s)", p, (long long)n - 1,
				 (unsigned long long)u[UP_GOT],
				 u[UP_GOT] < n ? "lost" : u[UP_GOT] > n ? "duplicated" :
				 "as many, but not each number once");
			return -EPROTO;
		}
	}
	return 0;
}

static int check_join(int P, int C, struct ipcb_slot *slots, uint64_t *t_zero, char *why,
		      size_t len)
{
	struct ipcb_slot *cons = slots + P;
	uint64_t sent = 0, done = 0;
	int zeros = 0;

	*t_zero = 0;
	for (int i = 0; i < P + C; i++) {
		uint64_t tz = slots[i].u[i < P ? UP_T_ZERO : UC_T_ZERO];
		if (tz) {
			zeros++;
			*t_zero = tz;
		}
	}
	for (int p = 0; p < P; p++)
		sent += slots[p].u[UP_SENT];
	for (int i = 0; i < C; i++) {
		done += cons[i].u[UC_DONE];
		if (cons[i].u[UC_REFUSED]) {
			snprintf(why, len, "join: consumer %d had %llu task_done calls refused (more "
				 "than were put)", i, (unsigned long long)cons[i].u[UC_REFUSED]);
			return -EPROTO;
		}
	}
	if (done != sent) {
		snprintf(why, len, "join: %llu messages put, %llu task_done calls", 
			 (unsigned long long)sent, (unsigned long long)done);
		return -EPROTO;
	}
	if (zeros != 1) {
		snprintf(why, len, "join: %d task_done calls brought the count to zero (want 1)",
			 zeros);
		return -EPROTO;
	}
	for (int p = 0; p < P; p++) {
		const uint64_t *u = slots[p].u;
		if (u[UP_JOIN_GAVE_UP] || u[UP_LEFT_AT_JOIN]) {
			snprintf(why, len, "join: producer %d's join %s with %llu tasks unfinished", p,
				 u[UP_JOIN_GAVE_UP] ? "gave up after every consumer stopped" :
				 "returned", (unsigned long long)u[UP_LEFT_AT_JOIN]);
			return -EPROTO;
		}
		if (u[UP_T_JOIN] < *t_zero) {
			snprintf(why, len, "join: producer %d's join returned %llu ns before the last "
				 "task_done", p, (unsigned long long)(*t_zero - u[UP_T_JOIN]));
			return -EPROTO;
		}
	}
	return 0;
}

static int prodcons_finish(const struct ipcb_case *c, struct ipcb_slot *slots,
			   struct ipcb_metrics *m, char *why, size_t len)
{
	int P = count_producers(c), C = c->nworkers - P, J = 0, Pv, Cv;
	struct ipcb_slot *cons = slots + P;
	uint64_t win = 0, got = 0, cpu = 0, migr = 0, t_zero = 0;
	double sx = 0, sxx = 0, smin = 1, smax = 0;
	int rc;

	if (layout(c->cfg, c->variant, &Pv, &Cv, &J, why, len) < 0)
		return -EPROTO;
	if ((rc = check_integrity(P, C, slots, why, len)) < 0)
		return rc;
	if (J && (rc = check_join(P, C, slots, &t_zero, why, len)) < 0)
		return rc;

	double win_ns = (double)(cons[0].t_end_ns - cons[0].t_begin_ns);
	for (int i = 0; i < C; i++) {
		win += cons[i].msgs;
		got += cons[i].u[UC_GOT];
	}
	if (win == 0 || !(win_ns > 0) || cons[0].t_end_ns < cons[0].t_begin_ns) {
		snprintf(why, len, "no message arrived inside the measured window");
		return -EPROTO;
	}
	for (int i = 0; i < C; i++) {
		double x = (double)cons[i].msgs / (double)win;
		sx += x;
		sxx += x * x;
		smin = x < smin ? x : smin;
		smax = x > smax ? x : smax;
	}
	for (int i = 0; i < P + C; i++) {
		cpu += slots[i].utime_ns + slots[i].stime_ns;
		migr += slots[i].migrations;
	}

	ipcb_metrics_add(m, "msgs_per_s", "msgs/s", (double)win * 1e9 / win_ns, 1, 1, 0);
	ipcb_metrics_add(m, "bytes_per_s", "B/s", (double)win * (double)c->size * 1e9 / win_ns, 1,
			 1, 0);
	ipcb_metrics_add(m, "msgs", "count", (double)win, 1, 1, 0);
	ipcb_metrics_add(m, "share_min", "ratio", smin, (uint64_t)C, 1, 0);
	ipcb_metrics_add(m, "share_max", "ratio", smax, (uint64_t)C, 1, 1);
	ipcb_metrics_add(m, "jain_fairness", "ratio", sx * sx / ((double)C * sxx), (uint64_t)C, 1, 0);
	if (c->size >= TS_MIN_SIZE) {
		struct ipcb_hist *h = malloc(sizeof(*h));
		if (!h) {
			snprintf(why, len, "out of memory merging latency histograms");
			return -ENOMEM;
		}
		ipcb_hist_init(h);
		for (int i = 0; i < C; i++)
			ipcb_hist_merge(h, &cons[i].hist);
		ipcb_metrics_add_hist(m, "lat", h, 1);
		free(h);
	}
	if (J) {
		uint64_t worst = 0;
		for (int p = 0; p < P; p++)
			if (slots[p].u[UP_T_JOIN] - t_zero > worst)
				worst = slots[p].u[UP_T_JOIN] - t_zero;
		ipcb_metrics_add(m, "join_return_ns", "ns", (double)worst, (uint64_t)P, 1, 1);
	}
	ipcb_metrics_add(m, "cpu_ns_per_msg", "ns", (double)cpu / (double)(got ? got : 1), 1, 1, 1);
	ipcb_metrics_add_cost(m, slots, P, "prod", "msg", got);   /* each side's share */
	ipcb_metrics_add_cost(m, cons, C, "cons", "msg", got);
	ipcb_metrics_add(m, "migrations", "count", (double)migr, 1, 1, 1);
	return 0;
}

const struct ipcb_pattern ipcb_pattern_prodcons = {
	.name = "prodcons",
	.summary = "N:M producers/consumers over one queue, Queue and JoinableQueue "
		   "(msgs/s, latency, fairness)",
	.uses_transport = 1,
	.needs = IPCB_CAP_MULTI_PROD | IPCB_CAP_MULTI_CONS,
	.excludes = IPCB_CAP_STREAM | IPCB_CAP_LOSSY | IPCB_CAP_ONE_IN_FLIGHT,
	.sized = 1,
	.headline = { "msgs_per_s", "lat_p50_ns", "jain_fairness" },
	.opts = prodcons_opts,
	.variants = prodcons_variants,
	.check = prodcons_check,
	.plan = prodcons_plan,
	.worker = prodcons_worker,
	.finish = prodcons_finish,
};
