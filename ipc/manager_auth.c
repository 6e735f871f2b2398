// SPDX-License-Identifier: MIT
/*
 * The connect-time handshake of the manager over TCP: an HMAC challenge-response in both
 * directions, the way multiprocessing.connection does it (deliver_challenge on one side,
 * answer_challenge on the other, then the roles swap), so each side proves it holds the
 * authkey without sending it:
 *   challenger -> "#CHALLENGE#{sha256}" + 32 random bytes (RAND_bytes)
 *   answerer   -> "{sha256}" + HMAC-SHA256(key, "{sha256}" + the random bytes)
 *   challenger -> "#WELCOME#" or "#FAILURE#" (then closes)
 * The digest is compared in constant time (CRYPTO_memcmp). Messages are framed with a u32
 * little-endian length, at most AUTH_MAX bytes: a peer cannot make us allocate or wait for
 * more, and each receive gives up after IPCB_MGR_AUTH_TIMEOUT_MS.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "../harness/clock.h"
#include "manager.h"

#define AUTH_MAX 256
#define NONCE_BYTES 32
#define CHALLENGE "#CHALLENGE#"
#define DIGEST_TAG "{sha256}"
#define WELCOME "#WELCOME#"
#define FAILURE "#FAILURE#"

/* Wait until fd is readable or the deadline passes. */
static int wait_readable(int fd, uint64_t deadline)
{
	for (;;) {
		uint64_t now = ipcb_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len, uint64_t deadline)
{
	uint8_t *p = buf;

	while (len) {
		int rc = wait_readable(fd, deadline);
		if (rc < 0)
			return rc;
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_msg(int fd, const void *msg, size_t len)
{
	uint8_t hdr[4] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
			   (uint8_t)(len >> 24) };
	int rc = send_all(fd, hdr, 4);

	return rc < 0 ? rc : send_all(fd, msg, len);
}

/* Receive one message of at most AUTH_MAX bytes into buf; its length, or -errno (-EPROTO
 * for an oversized one). */
static int recv_msg(int fd, uint8_t *buf)
{
	uint64_t deadline = ipcb_now_ns() + (uint64_t)IPCB_MGR_AUTH_TIMEOUT_MS * 1000000u;
	uint8_t hdr[4];
	int rc = recv_all(fd, hdr, 4, deadline);
	uint32_t len;

	if (rc < 0)
		return rc;
	len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
	      (uint32_t)hdr[3] << 24;
	if (len > AUTH_MAX)
		return -EPROTO;
	rc = recv_all(fd, buf, len, deadline);
	return rc < 0 ? rc : (int)len;
}

/* "{sha256}" + HMAC-SHA256(key, msg) into out; its length, or -EINVAL. */
static int digest(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
		  uint8_t *out)
{
	unsigned int dlen = 0;
	size_t tag = strlen(DIGEST_TAG);

	memcpy(out, DIGEST_TAG, tag);
	if (!HMAC(EVP_sha256(), key, (int)keylen, msg, len, out + tag, &dlen))
		return -EINVAL;
	return (int)(tag + dlen);
}

static int deliver_challenge(int fd, const uint8_t *key, size_t keylen)
{
	uint8_t msg[AUTH_MAX], want[AUTH_MAX], got[AUTH_MAX];
	size_t cl = strlen(CHALLENGE), tl = strlen(DIGEST_TAG);
	int rc, wl;

	memcpy(msg, CHALLENGE DIGEST_TAG, cl + tl);
	if (RAND_bytes(msg + cl + tl, NONCE_BYTES) != 1)
		return -EIO;
	if ((rc = send_msg(fd, msg, cl + tl + NONCE_BYTES)) < 0)
		return rc;
	if ((wl = digest(key, keylen, msg + cl, tl + NONCE_BYTES, want)) < 0)
		return wl;
	if ((rc = recv_msg(fd, got)) < 0)
		return rc;
	if (rc != wl || CRYPTO_memcmp(got, want, (size_t)wl) != 0) {
		(void)send_msg(fd, FAILURE, strlen(FAILURE));
		return -EACCES;
	}
	return send_msg(fd, WELCOME, strlen(WELCOME));
}

static int answer_challenge(int fd, const uint8_t *key, size_t keylen)
{
	uint8_t msg[AUTH_MAX], resp[AUTH_MAX];
	size_t cl = strlen(CHALLENGE), tl = strlen(DIGEST_TAG);
	int rc, n;

	if ((n = recv_msg(fd, msg)) < 0)
		return n;
	if ((size_t)n < cl + tl || memcmp(msg, CHALLENGE, cl) != 0 ||
	    memcmp(msg + cl, DIGEST_TAG, tl) != 0)
		return -EPROTO;
	if ((rc = digest(key, keylen, msg + cl, (size_t)n - cl, resp)) < 0)
		return rc;
	if ((rc = send_msg(fd, resp, (size_t)rc)) < 0)
		return rc;
	if ((n = recv_msg(fd, msg)) < 0)
		return n;
	if ((size_t)n == strlen(WELCOME) && memcmp(msg, WELCOME, (size_t)n) == 0)
		return 0;
	if ((size_t)n == strlen(FAILURE) && memcmp(msg, FAILURE, (size_t)n) == 0)
		return -EACCES;
	return -EPROTO;
}

int ipcb_mgr_auth_server(int fd, const uint8_t *key, size_t keylen)
{
	int rc;

	if (!key || keylen == 0 || keylen > IPCB_MGR_KEY_MAX)
		return -EINVAL;
	rc = deliver_challenge(fd, key, keylen);
	return rc < 0 ? rc : answer_challenge(fd, key, keylen);
}

int ipcb_mgr_auth_client(int fd, const uint8_t *key, size_t keylen)
{
	int rc;

	if (!key || keylen == 0 || keylen > IPCB_MGR_KEY_MAX)
		return -EINVAL;
	rc = answer_challenge(fd, key, keylen);
	return rc < 0 ? rc : deliver_challenge(fd, key, keylen);
}
