// SPDX-License-Identifier: MIT
/*
 * The manager's objects and the execution of one decoded request against them.
 *
 * One store per server: a dict (string key -> bytes, chained hash table, FNV-1a), a list
 * (append and pop at the end, like Python's list), a FIFO queue (put at the tail, get from
 * the head), a counter Value (int64, wrapping) and a lock owned by a connection, with a
 * FIFO of waiting connections. Every object is behind one mutex: the thread-per-client
 * server needs it, and the event loop pays an uncontended lock per call, which is noise
 * next to the two system calls of a call. Limits bound what a client can make the server
 * hold (STORE_MAX_BYTES of payload, STORE_MAX_KEYS keys, STORE_MAX_ITEMS per list or
 * queue, STORE_MAX_WAITERS waiters): past them the reply is EFULL, never an allocation.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manager.h"

#define STORE_MAX_BYTES ((size_t)256 << 20)
#define STORE_MAX_KEYS 65536u
#define STORE_MAX_ITEMS ((size_t)1 << 20)
#define STORE_MAX_WAITERS 65536u
#define DICT_MIN_BUCKETS 64u

struct item {
	uint32_t len;
	uint8_t data[];
};

struct dent {
	struct dent *next;
	uint64_t hash;
	struct item *val;
	uint32_t klen;
	uint8_t key[];
};

/* A ring of items: the list uses its tail end, the queue both. */
struct ring {
	struct item **v;
	size_t head, n, cap;
};

struct ipcb_mgr_store {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dent **tab;
	size_t nbuckets, nkeys;
	struct ring list, queue;
	int64_t value;
	uint64_t owner;            /* connection holding the lock, 0 = free */
	uint64_t *waiters;         /* FIFO of connections waiting for the lock */
	size_t nwait, wcap;
	size_t bytes;              /* payload held: keys and values */
	uint64_t stats[IPCB_MGR_NSTATS];
};

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

struct ipcb_mgr_store *ipcb_mgr_store_new(void)
{
	struct ipcb_mgr_store *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (!s)
		return NULL;
	s->tab = calloc(DICT_MIN_BUCKETS, sizeof(*s->tab));
	if (!s->tab) {
		free(s);
		return NULL;
	}
	s->nbuckets = DICT_MIN_BUCKETS;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	return s;
}

static void ring_free(struct ring *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[(r->head + i) % r->cap]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void ipcb_mgr_store_free(struct ipcb_mgr_store *s)
{
	if (!s)
		return;
	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct dent *d = s->tab[b], *nx; d; d = nx) {
			nx = d->next;
			free(d->val);
			free(d);
		}
	free(s->tab);
	ring_free(&s->list);
	ring_free(&s->queue);
	free(s->waiters);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static struct item *item_new(struct ipcb_mgr_store *s, const struct ipcb_mgr_arg *a)
{
	struct item *it;

	if (a->len > STORE_MAX_BYTES - s->bytes)
		return NULL;
	it = malloc(sizeof(*it) + a->len);
	if (!it)
		return NULL;
	it->len = a->len;
	if (a->len)
		memcpy(it->data, a->p, a->len);
	s->bytes += a->len;
	return it;
}

static void item_free(struct ipcb_mgr_store *s, struct item *it)
{
	if (it) {
		s->bytes -= it->len;
		free(it);
	}
}

/* 0, or -ENOSPC (limit) / -ENOMEM. */
static int ring_reserve(struct ring *r)
{
	if (r->n < r->cap)
		return 0;
	if (r->n >= STORE_MAX_ITEMS)
		return -ENOSPC;
	size_t cap = r->cap ? 2 * r->cap : 16;
	struct item **v = malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		v[i] = r->v[(r->head + i) % r->cap];
	free(r->v);
	r->v = v;
	r->head = 0;
	r->cap = cap;
	return 0;
}

static void ring_push(struct ring *r, struct item *it)
{
	r->v[(r->head + r->n) % r->cap] = it;
	r->n++;
}

static struct item *ring_pop_tail(struct ring *r)
{
	if (!r->n)
		return NULL;
	r->n--;
	return r->v[(r->head + r->n) % r->cap];
}

static struct item *ring_pop_head(struct ring *r)
{
	struct item *it;

	if (!r->n)
		return NULL;
	it = r->v[r->head];
	r->head = (r->head + 1) % r->cap;
	r->n--;
	return it;
}

static struct dent **dict_find(struct ipcb_mgr_store *s, const struct ipcb_mgr_arg *k,
			       uint64_t h)
{
	struct dent **pp = &s->tab[h & (s->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == k->len && memcmp((*pp)->key, k->p, k->len) == 0)
			return pp;
	return pp;
}

static void dict_grow(struct ipcb_mgr_store *s)
{
	size_t nb = s->nbuckets * 2;
	struct dent **t = calloc(nb, sizeof(*t));

	if (!t)
		return;   /* keep the longer chains: still correct */
	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct dent *d = s->tab[b], *nx; d; d = nx) {
			nx = d->next;
			d->next = t[d->hash & (nb - 1)];
			t[d->hash & (nb - 1)] = d;
		}
	free(s->tab);
	s->tab = t;
	s->nbuckets = nb;
}

/* Status of a DICT_SET. */
static int dict_set(struct ipcb_mgr_store *s, const struct ipcb_mgr_arg *k,
		    const struct ipcb_mgr_arg *v)
{
	uint64_t h = fnv1a(k->p, k->len);
	struct dent **pp = dict_find(s, k, h);
	struct item *it = item_new(s, v);

	if (!it)
		return IPCB_MGR_EFULL;
	if (*pp) {
		item_free(s, (*pp)->val);
		(*pp)->val = it;
		return IPCB_MGR_OK;
	}
	if (s->nkeys >= STORE_MAX_KEYS || k->len > STORE_MAX_BYTES - s->bytes) {
		item_free(s, it);
		return IPCB_MGR_EFULL;
	}
	struct dent *d = malloc(sizeof(*d) + k->len);
	if (!d) {
		item_free(s, it);
		return IPCB_MGR_ENOMEM;
	}
	d->hash = h;
	d->klen = k->len;
	memcpy(d->key, k->p, k->len);
	d->val = it;
	d->next = NULL;
	*pp = d;
	s->bytes += k->len;
	if (++s->nkeys > s->nbuckets)
		dict_grow(s);
	return IPCB_MGR_OK;
}

/* Hand the lock to the next waiter (or free it); returns the new owner, 0 if none. */
static uint64_t lock_handoff(struct ipcb_mgr_store *s)
{
	s->owner = 0;
	if (s->nwait) {
		s->owner = s->waiters[0];
		memmove(s->waiters, s->waiters + 1, (s->nwait - 1) * sizeof(*s->waiters));
		s->nwait--;
	}
	pthread_cond_broadcast(&s->cv);
	return s->owner;
}

/* Status of a LOCK_ACQUIRE, or -1 when queued (deferred). */
static int lock_acquire(struct ipcb_mgr_store *s, uint64_t conn)
{
	if (!s->owner) {
		s->owner = conn;
		return IPCB_MGR_OK;
	}
	if (s->owner == conn)
		return IPCB_MGR_EARGS;   /* not recursive: waiting for ourselves would deadlock */
	if (s->nwait == s->wcap) {
		if (s->wcap >= STORE_MAX_WAITERS)
			return IPCB_MGR_EFULL;
		size_t cap = s->wcap ? 2 * s->wcap : 16;
		uint64_t *w = realloc(s->waiters, cap * sizeof(*w));
		if (!w)
			return IPCB_MGR_ENOMEM;
		s->waiters = w;
		s->wcap = cap;
	}
	s->waiters[s->nwait++] = conn;
	return -1;
}

static void stats_words(struct ipcb_mgr_store *s, uint64_t *w)
{
	memcpy(w, s->stats, sizeof(s->stats));
	w[IPCB_MGR_NSTATS - 1] = (uint64_t)s->value;
}

int ipcb_mgr_store_exec(struct ipcb_mgr_store *s, uint64_t conn, const struct ipcb_mgr_frame *f,
			uint8_t *out, size_t cap, uint64_t *granted)
{
	struct ipcb_mgr_arg r[1];
	uint8_t word[8 * IPCB_MGR_NSTATS];
	struct item *it = NULL;
	int status = IPCB_MGR_OK, nr = 0, rc;

	*granted = 0;
	pthread_mutex_lock(&s->mu);
	s->stats[IPCB_MGR_ST_CALLS]++;
	switch (f->code) {
	case IPCB_MGR_PING:
		break;
	case IPCB_MGR_DICT_GET: {
		struct dent *d = *dict_find(s, &f->arg[0], fnv1a(f->arg[0].p, f->arg[0].len));
		if (!d) {
			status = IPCB_MGR_ENOTFOUND;
			break;
		}
		r[0].p = d->val->data;
		r[0].len = d->val->len;
		nr = 1;
		break;
	}
	case IPCB_MGR_DICT_SET:
		status = dict_set(s, &f->arg[0], &f->arg[1]);
		break;
	case IPCB_MGR_LIST_APPEND:
	case IPCB_MGR_QUEUE_PUT: {
		struct ring *q = f->code == IPCB_MGR_LIST_APPEND ? &s->list : &s->queue;
		if ((rc = ring_reserve(q)) < 0) {
			status = rc == -ENOSPC ? IPCB_MGR_EFULL : IPCB_MGR_ENOMEM;
			break;
		}
		struct item *ni = item_new(s, &f->arg[0]);
		if (!ni) {
			status = IPCB_MGR_EFULL;
			break;
		}
		ring_push(q, ni);
		ipcb_mgr_put_u64(word, q->n);
		r[0].p = word;
		r[0].len = 8;
		nr = 1;
		break;
	}
	case IPCB_MGR_LIST_POP:
	case IPCB_MGR_QUEUE_GET:
		it = f->code == IPCB_MGR_LIST_POP ? ring_pop_tail(&s->list) : ring_pop_head(&s->queue);
		if (!it) {
			status = IPCB_MGR_EEMPTY;
			break;
		}
		r[0].p = it->data;
		r[0].len = it->len;
		nr = 1;
		break;
	case IPCB_MGR_VALUE_INCR:
		s->value = (int64_t)((uint64_t)s->value + ipcb_mgr_get_u64(f->arg[0].p));
		/* fall through */
	case IPCB_MGR_VALUE_GET:
		ipcb_mgr_put_u64(word, (uint64_t)s->value);
		r[0].p = word;
		r[0].len = 8;
		nr = 1;
		break;
	case IPCB_MGR_LOCK_ACQUIRE:
		status = lock_acquire(s, conn);
		if (status < 0) {
			pthread_mutex_unlock(&s->mu);
			return 0;   /* queued: the reply comes with the grant */
		}
		break;
	case IPCB_MGR_LOCK_RELEASE:
		if (s->owner != conn) {
			status = IPCB_MGR_ENOTOWNER;
			break;
		}
		*granted = lock_handoff(s);
		break;
	case IPCB_MGR_STATS: {
		uint64_t w[IPCB_MGR_NSTATS];
		stats_words(s, w);
		for (int i = 0; i < IPCB_MGR_NSTATS; i++)
			ipcb_mgr_put_u64(word + 8 * i, w[i]);
		r[0].p = word;
		r[0].len = sizeof(word);
		nr = 1;
		break;
	}
	default:
		status = IPCB_MGR_EUNKNOWN;   /* not reached after ipcb_mgr_decode_request */
		break;
	}
	rc = ipcb_mgr_encode(out, cap, (uint8_t)status, f->id, r, status == IPCB_MGR_OK ? nr : 0);
	pthread_mutex_unlock(&s->mu);
	if (it) {
		pthread_mutex_lock(&s->mu);
		item_free(s, it);
		pthread_mutex_unlock(&s->mu);
	}
	return rc;
}

int ipcb_mgr_store_drop(struct ipcb_mgr_store *s, uint64_t conn, uint64_t *granted)
{
	int held = 0;

	*granted = 0;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nwait; i++)
		if (s->waiters[i] == conn) {
			memmove(s->waiters + i, s->waiters + i + 1,
				(s->nwait - i - 1) * sizeof(*s->waiters));
			s->nwait--;
			break;
		}
	if (s->owner == conn) {
		held = 1;
		s->stats[IPCB_MGR_ST_LOCKS]++;
		*granted = lock_handoff(s);
	}
	pthread_mutex_unlock(&s->mu);
	return held;
}

int ipcb_mgr_store_wait_owner(struct ipcb_mgr_store *s, uint64_t conn,
			      const _Atomic int *closing, _Atomic uint32_t *stop)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	while (s->owner != conn) {
		if (atomic_load(closing) || (stop && atomic_load(stop))) {
			rc = -ECANCELED;
			break;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		(void)pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void ipcb_mgr_store_wake(struct ipcb_mgr_store *s)
{
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void ipcb_mgr_store_count(struct ipcb_mgr_store *s, int which, uint64_t n)
{
	if (which < 0 || which >= IPCB_MGR_NSTATS - 1)
		return;
	pthread_mutex_lock(&s->mu);
	s->stats[which] += n;
	pthread_mutex_unlock(&s->mu);
}

void ipcb_mgr_store_stats(struct ipcb_mgr_store *s, struct ipcb_mgr_stats *out)
{
	uint64_t w[IPCB_MGR_NSTATS];

	pthread_mutex_lock(&s->mu);
	stats_words(s, w);
	pthread_mutex_unlock(&s->mu);
	out->calls = w[0];
	out->conns = w[1];
	out->auth_ok = w[2];
	out->auth_refused = w[3];
	out->proto_errors = w[4];
	out->truncated = w[5];
	out->locks_recovered = w[6];
	out->value = (int64_t)w[7];
}
