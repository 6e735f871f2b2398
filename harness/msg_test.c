// SPDX-License-Identifier: MIT
/* Message stamps: good messages pass, stop messages are told apart, and corruption,
 * truncation and mix-ups are caught where the mode promises to catch them. */
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "testutil.h"

static const size_t sizes[] = { 8, 9, 15, 16, 17, 64, 4095, 4096, 4097, 8200, 65536, 1 << 20 };

int main(void)
{
	unsigned char *buf = malloc(1 << 20), *copy = malloc(1 << 20);
	uint32_t seq = 0;
	uint16_t prod = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		for (int full = 0; full <= 1; full++) {
			memset(buf, 0x5a, n);
			ipcb_msg_stamp(buf, n, 0x123456789ull, 7, 0, full);
			CHECKF(ipcb_msg_check(buf, n, full, &seq, &prod) == IPCB_MSG_OK, "size %zu", n);
			CHECK(seq == 0x23456789u && prod == 7);
			ipcb_msg_stamp(buf, n, 42, 3, 1, full);
			CHECKF(ipcb_msg_check(buf, n, full, &seq, &prod) == IPCB_MSG_IS_STOP, "size %zu", n);
			CHECK(seq == 42 && prod == 3);

			/* a header bit flipped is always caught */
			ipcb_msg_stamp(buf, n, 99, 1, 0, full);
			for (int bit = 0; bit < 64; bit++) {
				memcpy(copy, buf, n);
				copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
				int k = ipcb_msg_check(copy, n, full, &seq, &prod);
				CHECKF(k == IPCB_MSG_CORRUPT || (k == IPCB_MSG_OK && seq != 99) ||
				       (k == IPCB_MSG_OK && prod != 1), "size %zu bit %d", n, bit);
			}
			/* the last word (a torn tail) is caught in both modes */
			if (n >= 16) {
				memcpy(copy, buf, n);
				copy[(n - 8) & ~(size_t)7] ^= 1;
				CHECKF(ipcb_msg_check(copy, n, full, &seq, &prod) == IPCB_MSG_CORRUPT,
				       "tail, size %zu full %d", n, full);
			}
			/* every byte is caught in full mode */
			if (full && n <= 8200) {
				int missed = 0;
				for (size_t b = 8; b < n; b++) {
					memcpy(copy, buf, n);
					copy[b] ^= 0x10;
					missed += ipcb_msg_check(copy, n, 1, &seq, &prod) != IPCB_MSG_CORRUPT;
				}
				CHECKF(missed == 0, "full mode missed %d corrupt bytes at size %zu", missed, n);
			}
			/* a message of one size read as another is caught */
			if (n >= 16) {
				CHECKF(ipcb_msg_check(buf, n - 8, full, &seq, &prod) == IPCB_MSG_CORRUPT,
				       "size mix-up %zu", n);
			}
		}
	}
	/* two different messages of the same size differ in their stamps */
	ipcb_msg_stamp(buf, 64, 1, 0, 0, 0);
	ipcb_msg_stamp(copy, 64, 2, 0, 0, 0);
	CHECK(memcmp(buf, copy, 64) != 0);
	free(buf);
	free(copy);
	return TEST_END();
}
