// SPDX-License-Identifier: MIT
#include "tcp_frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"

/* ---- frames ---- */

enum tcp_frame_status tcp_frame_parse(const uint8_t *buf, size_t len, size_t max_frame, size_t *frame_len)
{
	size_t n;

	if (len < TCP_FRAME_HEADER_LEN)
		return TCP_FRAME_PARTIAL;
	n = (size_t)buf[0] << 8 | buf[1];
	if (n == 0)
		return TCP_FRAME_EMPTY;
	if (n > max_frame)
		return TCP_FRAME_OVERSIZE;
	if (len - TCP_FRAME_HEADER_LEN < n)
		return TCP_FRAME_PARTIAL;
	*frame_len = n;
	return TCP_FRAME_OK;
}

int tcp_rx_init(struct tcp_rx *rx, size_t cap, size_t max_frame)
{
	memset(rx, 0, sizeof(*rx));
	if (max_frame == 0 || max_frame > TCP_FRAME_MAX || cap < TCP_FRAME_HEADER_LEN)
		return -EINVAL;
	rx->buf = malloc(cap);
	if (!rx->buf)
		return -ENOMEM;
	rx->cap = cap;
	rx->max_frame = max_frame;
	return 0;
}

void tcp_rx_free(struct tcp_rx *rx)
{
	free(rx->buf);
	memset(rx, 0, sizeof(*rx));
}

int tcp_rx_resize(struct tcp_rx *rx, size_t cap)
{
	size_t held = rx->end - rx->start;
	uint8_t *b;

	if (cap < TCP_FRAME_HEADER_LEN || cap < held)
		return -EINVAL;
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	memcpy(b, rx->buf + rx->start, held);
	free(rx->buf);
	rx->buf = b;
	rx->cap = cap;
	rx->start = 0;
	rx->end = held;
	return 0;
}

uint8_t *tcp_rx_space(struct tcp_rx *rx, size_t *room)
{
	if (rx->error) {
		*room = 0;
		return rx->buf;
	}
	/* What is left is less than one frame: moving it is cheap. */
	if (rx->start) {
		memmove(rx->buf, rx->buf + rx->start, rx->end - rx->start);
		rx->end -= rx->start;
		rx->start = 0;
	}
	*room = rx->cap - rx->end;
	return rx->buf + rx->end;
}

size_t tcp_rx_need(const struct tcp_rx *rx)
{
	const uint8_t *p = rx->buf + rx->start;

	if (rx->end - rx->start < TCP_FRAME_HEADER_LEN)
		return TCP_FRAME_HEADER_LEN;
	return TCP_FRAME_HEADER_LEN + ((size_t)p[0] << 8 | p[1]);
}

void tcp_rx_commit(struct tcp_rx *rx, size_t n)
{
	rx->end += n;
}

size_t tcp_rx_feed(struct tcp_rx *rx, const void *data, size_t len)
{
	size_t room;
	uint8_t *p = tcp_rx_space(rx, &room);

	if (len > room)
		len = room;
	memcpy(p, data, len);
	tcp_rx_commit(rx, len);
	return len;
}

enum tcp_frame_status tcp_rx_next(struct tcp_rx *rx, const uint8_t **frame, size_t *len)
{
	enum tcp_frame_status st;
	size_t n = 0;

	if (rx->error)
		return rx->error;
	st = tcp_frame_parse(rx->buf + rx->start, rx->end - rx->start, rx->max_frame, &n);
	if (st == TCP_FRAME_OK) {
		*frame = rx->buf + rx->start + TCP_FRAME_HEADER_LEN;
		*len = n;
		rx->start += TCP_FRAME_HEADER_LEN + n;
		/* Nothing moves: the frame stays where it is until new bytes come. */
		if (rx->start == rx->end)
			rx->start = rx->end = 0;
	} else if (st != TCP_FRAME_PARTIAL) {
		rx->error = st;
	}
	return st;
}

/* ---- the send ring ---- */

int tcp_tx_init(struct tcp_tx *tx, size_t cap, size_t reserve)
{
	memset(tx, 0, sizeof(*tx));
	if (reserve >= cap)
		return -EINVAL;
	tx->buf = malloc(cap);
	if (!tx->buf)
		return -ENOMEM;
	tx->cap = cap;
	tx->reserve = reserve;
	return 0;
}

void tcp_tx_free(struct tcp_tx *tx)
{
	free(tx->buf);
	memset(tx, 0, sizeof(*tx));
}

static void tx_put(struct tcp_tx *tx, const uint8_t *p, size_t n)
{
	size_t tail = tx->head + tx->len;
	size_t first;

	if (tail >= tx->cap)
		tail -= tx->cap;
	first = tx->cap - tail < n ? tx->cap - tail : n;
	memcpy(tx->buf + tail, p, first);
	memcpy(tx->buf, p + first, n - first);
	tx->len += n;
}

static bool is_handshake(const uint8_t *msg)
{
	return msg[0] == MESSAGE_HANDSHAKE_INITIATION || msg[0] == MESSAGE_HANDSHAKE_RESPONSE ||
	       msg[0] == MESSAGE_HANDSHAKE_COOKIE;
}

bool tcp_tx_push(struct tcp_tx *tx, const uint8_t *msg, size_t len)
{
	size_t need = TCP_FRAME_HEADER_LEN + len;
	size_t room = tx->cap - tx->len;
	uint8_t hdr[TCP_FRAME_HEADER_LEN];

	if (len == 0 || len > TCP_FRAME_MAX || need > room)
		return false;
	if (!is_handshake(msg) && room - need < tx->reserve)
		return false;
	hdr[0] = (uint8_t)(len >> 8);
	hdr[1] = (uint8_t)len;
	tx_put(tx, hdr, sizeof(hdr));
	tx_put(tx, msg, len);
	return true;
}

int tcp_tx_peek(const struct tcp_tx *tx, struct iovec iov[2])
{
	size_t first = tx->cap - tx->head < tx->len ? tx->cap - tx->head : tx->len;

	if (!tx->len)
		return 0;
	iov[0].iov_base = tx->buf + tx->head;
	iov[0].iov_len = first;
	if (first == tx->len)
		return 1;
	iov[1].iov_base = tx->buf;
	iov[1].iov_len = tx->len - first;
	return 2;
}

void tcp_tx_consume(struct tcp_tx *tx, size_t n)
{
	tx->head += n;
	if (tx->head >= tx->cap)
		tx->head -= tx->cap;
	tx->len -= n;
	if (!tx->len)
		tx->head = 0; /* empty: the next frames go in one piece */
}
