// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the manager's request decoder (manager_proto.c) and what the server
 * does with a request it accepts (manager_store.c). The input is a byte stream as a
 * connection would deliver it: frames are decoded one after another, as the server does,
 * until the decoder wants more bytes or refuses one; each accepted request runs on a store
 * (reset every few thousand inputs, so the store's own limits are not what the fuzzer
 * spends its time on), and the reply is decoded again.
 *
 * Nothing may crash, hang, leak or read out of bounds, and:
 *   - a decoded frame lies inside the input, and its arguments inside the frame;
 *   - "need more" asks for more than is there, and never for more than a frame can be;
 *   - a frame the decoder accepts, encoded again from its fields, is the same bytes;
 *   - every prefix of an accepted frame asks for more (a truncated frame is never taken
 *     for a shorter one);
 *   - every reply the store makes decodes, and echoes the request's id.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ipcb_mgr_store *store;
static unsigned runs;
static uint8_t out[IPCB_MGR_MAX_FRAME + 4];

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void check_frame(const uint8_t *p, size_t len, int n, const struct ipcb_mgr_frame *f)
{
	uint8_t *again = malloc((size_t)n);

	CHECK((size_t)n <= len && (size_t)n == f->need);
	CHECK(f->nargs >= 0 && f->nargs <= IPCB_MGR_MAX_ARGS);
	for (int i = 0; i < f->nargs; i++)
		CHECK(f->arg[i].p >= p + IPCB_MGR_HDR &&
		      f->arg[i].p + f->arg[i].len <= p + n);
	CHECK(again != NULL);
	CHECK(ipcb_mgr_encode(again, (size_t)n, f->code, f->id, f->arg, f->nargs) == n);
	CHECK(memcmp(again, p, (size_t)n) == 0);
	free(again);
	/* a few prefixes (all of them would make the run quadratic) */
	for (size_t k = 0; k < (size_t)n; k += 1 + (size_t)n / 8) {
		struct ipcb_mgr_frame g;
		CHECK(ipcb_mgr_decode(p, k, 0, &g) == 0);
		CHECK(g.need > k);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	uint64_t conn = 1 + (size ? data[0] % 4 : 0);

	if (!store || ++runs % 4096 == 0) {
		ipcb_mgr_store_free(store);
		store = ipcb_mgr_store_new();
		if (!store)
			return 0;
	}
	while (off < size) {
		struct ipcb_mgr_frame f;
		int n = ipcb_mgr_decode_request(data + off, size - off, 0, &f);
		if (n == 0) {
			CHECK(f.need > size - off && f.need <= IPCB_MGR_MAX_FRAME + 4);
			break;
		}
		if (n < 0) {
			CHECK(n == -EMSGSIZE || n == -EPROTONOSUPPORT || n == -EBADMSG ||
			      n == -EINVAL || n == -E2BIG || n == -EOPNOTSUPP);
			CHECK(ipcb_mgr_status_of(n) != IPCB_MGR_OK);
			break;
		}
		check_frame(data + off, size - off, n, &f);
		uint64_t granted;
		int r = ipcb_mgr_store_exec(store, conn, &f, out, sizeof(out), &granted);
		if (r > 0) {
			struct ipcb_mgr_frame rep;
			CHECK(ipcb_mgr_decode(out, (size_t)r, 0, &rep) == r);
			CHECK(rep.id == f.id && rep.code < IPCB_MGR_STATUS_END);
		} else {
			CHECK(r == 0 && f.code == IPCB_MGR_LOCK_ACQUIRE);
		}
		off += (size_t)n;
		conn = conn % 4 + 1;   /* the next request from another connection */
	}
	/* every connection goes away: the lock and its queue end empty */
	for (uint64_t c = 1; c <= 4; c++) {
		uint64_t g;
		(void)ipcb_mgr_store_drop(store, c, &g);
	}
	return 0;
}
