/* SPDX-License-Identifier: MIT */
/*
 * Message integrity: every message a pattern sends is stamped so that the receiver can tell
 * a good message from a lost, duplicated, reordered or corrupted one without having a copy
 * of what was sent.
 *
 * Layout (all little-endian host order, unaligned access through memcpy):
 *   [0,4)  seq       low 32 bits of the producer's sequence number (wraps consistently)
 *   [4,6)  producer  producer id (0 for single-producer patterns)
 *   [6,8)  tag       16-bit check of (seq, producer, size), XOR IPCB_MSG_STOP for a stop
 *                    (sentinel) message
 * then, in "sparse" mode, one 64-bit stamp derived from (seq, producer, offset) at every
 * 4096-byte offset and at the last 8-byte-aligned word, so the cost stays O(size/4096) and a
 * torn or mixed-up large message is caught; in "full" mode every byte after the header is
 * derived from (seq, producer, offset) and checked. An 8-byte message has only the 16-bit
 * tag: a random corruption escapes with probability 2^-16.
 */
#ifndef IPCB_MSG_H
#define IPCB_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IPCB_MSG_MIN 8u          /* smallest message: the header */
#define IPCB_MSG_STOP 0xA5C3u
#define IPCB_MSG_STRIDE 4096u

enum { IPCB_MSG_OK = 0, IPCB_MSG_IS_STOP = 1, IPCB_MSG_CORRUPT = -1 };

static inline uint64_t ipcb_mix64(uint64_t x)
{
	/* splitmix64 finaliser: every input bit affects every output bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline uint16_t ipcb_msg_tag(uint32_t seq, uint16_t prod, size_t size)
{
	uint64_t h = ipcb_mix64(((uint64_t)seq << 32) ^ ((uint64_t)prod << 16) ^ (uint64_t)size ^
				0x9e3779b97f4a7c15ull);
	return (uint16_t)(h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48));
}

static inline uint64_t ipcb_msg_word(uint32_t seq, uint16_t prod, size_t off)
{
	return ipcb_mix64(((uint64_t)seq << 32) ^ ((uint64_t)prod << 16) ^ ((uint64_t)off << 1) ^ 1u);
}

/* Stamp buf[0..size) (size >= IPCB_MSG_MIN) as message seq of producer prod. */
static inline void ipcb_msg_stamp(void *buf, size_t size, uint64_t seq, uint16_t prod, int stop,
				  int full)
{
	unsigned char *p = buf;
	uint32_t s = (uint32_t)seq;
	uint16_t tag = ipcb_msg_tag(s, prod, size) ^ (stop ? IPCB_MSG_STOP : 0);

	memcpy(p, &s, 4);
	memcpy(p + 4, &prod, 2);
	memcpy(p + 6, &tag, 2);
	if (full) {
		size_t off = 8;
		for (; off + 8 <= size; off += 8) {
			uint64_t w = ipcb_msg_word(s, prod, off);
			memcpy(p + off, &w, 8);
		}
		for (; off < size; off++)
			p[off] = (unsigned char)ipcb_msg_word(s, prod, off);
		return;
	}
	for (size_t off = IPCB_MSG_STRIDE; off + 8 <= size; off += IPCB_MSG_STRIDE) {
		uint64_t w = ipcb_msg_word(s, prod, off);
		memcpy(p + off, &w, 8);
	}
	if (size >= 16) {
		size_t last = (size - 8) & ~(size_t)7;
		uint64_t w = ipcb_msg_word(s, prod, last);
		memcpy(p + last, &w, 8);
	}
}

/* Check buf as a message of size bytes. Returns IPCB_MSG_OK or IPCB_MSG_IS_STOP and sets
 * *seq (low 32 bits) and *prod, or IPCB_MSG_CORRUPT. The caller compares *seq with what it
 * expected to count lost, duplicated and reordered messages. */
static inline int ipcb_msg_check(const void *buf, size_t size, int full, uint32_t *seq,
				 uint16_t *prod)
{
	const unsigned char *p = buf;
	uint32_t s;
	uint16_t pr, tag, want;
	int kind;

	memcpy(&s, p, 4);
	memcpy(&pr, p + 4, 2);
	memcpy(&tag, p + 6, 2);
	want = ipcb_msg_tag(s, pr, size);
	if (tag == want)
		kind = IPCB_MSG_OK;
	else if (tag == (uint16_t)(want ^ IPCB_MSG_STOP))
		kind = IPCB_MSG_IS_STOP;
	else
		return IPCB_MSG_CORRUPT;
	if (full) {
		size_t off = 8;
		for (; off + 8 <= size; off += 8) {
			uint64_t w;
			memcpy(&w, p + off, 8);
			if (w != ipcb_msg_word(s, pr, off))
				return IPCB_MSG_CORRUPT;
		}
		for (; off < size; off++)
			if (p[off] != (unsigned char)ipcb_msg_word(s, pr, off))
				return IPCB_MSG_CORRUPT;
	} else {
		for (size_t off = IPCB_MSG_STRIDE; off + 8 <= size; off += IPCB_MSG_STRIDE) {
			uint64_t w;
			memcpy(&w, p + off, 8);
			if (w != ipcb_msg_word(s, pr, off))
				return IPCB_MSG_CORRUPT;
		}
		if (size >= 16) {
			size_t last = (size - 8) & ~(size_t)7;
			uint64_t w;
			memcpy(&w, p + last, 8);
			if (w != ipcb_msg_word(s, pr, last))
				return IPCB_MSG_CORRUPT;
		}
	}
	*seq = s;
	*prod = pr;
	return kind;
}

#endif
