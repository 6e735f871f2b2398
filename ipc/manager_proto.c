// SPDX-License-Identifier: MIT
/*
 * The manager's wire format (see manager.h): an encoder and a decoder that is a pure
 * function over a byte buffer, so the fuzzer and the unit tests can call it directly. The
 * decoder reads every field through a cursor that checks what is left before each read;
 * a length is compared with the bytes present before anything is done with it, and all
 * arithmetic on lengths is in size_t on values already bounded by IPCB_MGR_MAX_FRAME, so
 * nothing can wrap.
 */
#include <errno.h>
#include <string.h>

#include "manager.h"

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int ipcb_mgr_decode(const uint8_t *buf, size_t len, size_t max_frame, struct ipcb_mgr_frame *f)
{
	size_t body, end, off;
	int32_t nargs;

	memset(f, 0, sizeof(*f));
	if (!max_frame || max_frame > IPCB_MGR_MAX_FRAME)
		max_frame = IPCB_MGR_MAX_FRAME;
	f->need = 4;
	if (len < 4)
		return 0;
	body = get_u32(buf);
	if (body > max_frame || body < IPCB_MGR_HDR_BODY)
		return -EMSGSIZE;
	f->need = 4 + body;
	if (len >= IPCB_MGR_HDR) {
		f->version = buf[4];
		f->code = buf[5];
		f->id = get_u32(buf + 8);
		f->have_header = 1;
	}
	if (len < f->need)
		return 0;
	if (f->version != IPCB_MGR_VERSION)
		return -EPROTONOSUPPORT;
	if (buf[6] || buf[7])
		return -EBADMSG;
	nargs = (int32_t)get_u32(buf + 12);
	if (nargs < 0)
		return -EINVAL;
	if (nargs > IPCB_MGR_MAX_ARGS)
		return -E2BIG;
	end = f->need;
	off = IPCB_MGR_HDR;
	for (int i = 0; i < nargs; i++) {
		if (end - off < 4)
			return -EBADMSG;
		int32_t alen = (int32_t)get_u32(buf + off);
		off += 4;
		if (alen < 0)
			return -EINVAL;
		if ((size_t)alen > end - off)
			return -EBADMSG;
		f->arg[i].p = buf + off;
		f->arg[i].len = (uint32_t)alen;
		off += (size_t)alen;
	}
	if (off != end)
		return -EBADMSG;
	f->nargs = nargs;
	return (int)end;
}

/* Arity of each op, and which argument is a key or an 8-byte integer. */
static const struct {
	uint8_t nargs;
	int8_t key;      /* index of the key argument, or -1 */
	int8_t i64;      /* index of an 8-byte integer argument, or -1 */
} op_rules[IPCB_MGR_OP_END] = {
	[IPCB_MGR_PING] = { 0, -1, -1 },
	[IPCB_MGR_DICT_GET] = { 1, 0, -1 },
	[IPCB_MGR_DICT_SET] = { 2, 0, -1 },
	[IPCB_MGR_LIST_APPEND] = { 1, -1, -1 },
	[IPCB_MGR_LIST_POP] = { 0, -1, -1 },
	[IPCB_MGR_VALUE_INCR] = { 1, -1, 0 },
	[IPCB_MGR_VALUE_GET] = { 0, -1, -1 },
	[IPCB_MGR_QUEUE_PUT] = { 1, -1, -1 },
	[IPCB_MGR_QUEUE_GET] = { 0, -1, -1 },
	[IPCB_MGR_LOCK_ACQUIRE] = { 0, -1, -1 },
	[IPCB_MGR_LOCK_RELEASE] = { 0, -1, -1 },
	[IPCB_MGR_STATS] = { 0, -1, -1 },
};

int ipcb_mgr_decode_request(const uint8_t *buf, size_t len, size_t max_frame,
			    struct ipcb_mgr_frame *f)
{
	int rc = ipcb_mgr_decode(buf, len, max_frame, f);

	if (rc <= 0)
		return rc;
	if (f->code == 0 || f->code >= IPCB_MGR_OP_END)
		return -EOPNOTSUPP;
	if (f->nargs != op_rules[f->code].nargs)
		return -EINVAL;
	int k = op_rules[f->code].key, n = op_rules[f->code].i64;
	if (k >= 0 && (f->arg[k].len == 0 || f->arg[k].len > IPCB_MGR_MAX_KEY))
		return -EINVAL;
	if (n >= 0 && f->arg[n].len != 8)
		return -EINVAL;
	return rc;
}

size_t ipcb_mgr_frame_size(const struct ipcb_mgr_arg *args, int nargs)
{
	size_t n = IPCB_MGR_HDR;

	for (int i = 0; i < nargs; i++)
		n += 4 + (size_t)args[i].len;
	return n;
}

int ipcb_mgr_encode(uint8_t *buf, size_t cap, uint8_t code, uint32_t id,
		    const struct ipcb_mgr_arg *args, int nargs)
{
	size_t n, off = IPCB_MGR_HDR;

	if (nargs < 0 || nargs > IPCB_MGR_MAX_ARGS)
		return -E2BIG;
	n = ipcb_mgr_frame_size(args, nargs);
	if (n > cap || n - 4 > IPCB_MGR_MAX_FRAME)
		return -EMSGSIZE;
	put_u32(buf, (uint32_t)(n - 4));
	buf[4] = IPCB_MGR_VERSION;
	buf[5] = code;
	buf[6] = buf[7] = 0;
	put_u32(buf + 8, id);
	put_u32(buf + 12, (uint32_t)nargs);
	for (int i = 0; i < nargs; i++) {
		put_u32(buf + off, args[i].len);
		off += 4;
		if (args[i].len)
			memcpy(buf + off, args[i].p, args[i].len);
		off += args[i].len;
	}
	return (int)n;
}

enum ipcb_mgr_status ipcb_mgr_status_of(int err)
{
	switch (err) {
	case -EMSGSIZE:
		return IPCB_MGR_ETOOBIG;
	case -EPROTONOSUPPORT:
		return IPCB_MGR_EVERSION;
	case -EOPNOTSUPP:
		return IPCB_MGR_EUNKNOWN;
	case -EINVAL:
	case -E2BIG:
		return IPCB_MGR_EARGS;
	case -ENOMEM:
		return IPCB_MGR_ENOMEM;
	default:
		return IPCB_MGR_EBADMSG;
	}
}

int ipcb_mgr_status_errno(int status)
{
	static const int map[IPCB_MGR_STATUS_END] = {
		[IPCB_MGR_OK] = 0, [IPCB_MGR_ENOTFOUND] = -ENOENT, [IPCB_MGR_EEMPTY] = -ENODATA,
		[IPCB_MGR_EFULL] = -ENOSPC, [IPCB_MGR_ENOTOWNER] = -EPERM,
		[IPCB_MGR_EBADMSG] = -EBADMSG, [IPCB_MGR_EVERSION] = -EPROTONOSUPPORT,
		[IPCB_MGR_ETOOBIG] = -EMSGSIZE, [IPCB_MGR_EUNKNOWN] = -EOPNOTSUPP,
		[IPCB_MGR_EARGS] = -EINVAL, [IPCB_MGR_ENOMEM] = -ENOMEM,
	};
	if (status < 0 || status >= IPCB_MGR_STATUS_END)
		return -EPROTO;
	return map[status];
}

const char *ipcb_mgr_op_name(int op)
{
	static const char *const names[IPCB_MGR_OP_END] = {
		[IPCB_MGR_PING] = "ping", [IPCB_MGR_DICT_GET] = "dict_get",
		[IPCB_MGR_DICT_SET] = "dict_set", [IPCB_MGR_LIST_APPEND] = "list_append",
		[IPCB_MGR_LIST_POP] = "list_pop", [IPCB_MGR_VALUE_INCR] = "value_incr",
		[IPCB_MGR_VALUE_GET] = "value_get", [IPCB_MGR_QUEUE_PUT] = "queue_put",
		[IPCB_MGR_QUEUE_GET] = "queue_get", [IPCB_MGR_LOCK_ACQUIRE] = "lock_acquire",
		[IPCB_MGR_LOCK_RELEASE] = "lock_release", [IPCB_MGR_STATS] = "stats",
	};
	return op > 0 && op < IPCB_MGR_OP_END ? names[op] : "unknown";
}

const char *ipcb_mgr_status_name(int status)
{
	static const char *const names[IPCB_MGR_STATUS_END] = {
		"ok", "not found", "empty", "store full", "not the lock's owner", "malformed frame",
		"unsupported version", "frame too large", "unknown op", "bad arguments",
		"out of memory",
	};
	return status >= 0 && status < IPCB_MGR_STATUS_END ? names[status] : "unknown status";
}
