/* SPDX-License-Identifier: MIT */
/*
 * The TCP transport's byte streams, without sockets: each WireGuard message
 * travels as one frame, [u16 big-endian length][message].
 *
 *   - the frame parser (tcp_frame_parse) and a connection's receive side
 *     (struct tcp_rx), which turns bytes as they come into frames;
 *   - a connection's send ring (struct tcp_tx), which keeps a reserve so
 *     handshake messages still fit when data has filled it.
 *
 * Pure functions over buffers: the unit tests and the fuzzer drive them
 * directly. tcp.c reads into tcp_rx and writes tcp_tx out to its sockets.
 */
#ifndef SLUICE_TCP_FRAME_H
#define SLUICE_TCP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define TCP_FRAME_HEADER_LEN 2
#define TCP_FRAME_MAX 65535

enum tcp_frame_status {
	TCP_FRAME_OK = 0,   /* a complete frame */
	TCP_FRAME_PARTIAL,  /* not yet: more bytes are needed */
	TCP_FRAME_EMPTY,    /* a zero length: the stream is bad */
	TCP_FRAME_OVERSIZE, /* a length above the limit: the stream is bad */
};

/* Looks at the frame at the start of buf[0..len). On TCP_FRAME_OK,
 * *frame_len is the message length (the message starts at
 * buf + TCP_FRAME_HEADER_LEN). The length is checked as soon as its two
 * bytes are there, before the message arrives. */
enum tcp_frame_status tcp_frame_parse(const uint8_t *buf, size_t len, size_t max_frame, size_t *frame_len);

/* A connection's receive side: bytes as they come, frames as they complete.
 * The buffer may be smaller than a largest frame (a connection that has not
 * authenticated yet holds a small one): a frame longer than it waits until
 * the owner resizes it (tcp_rx_space, tcp_rx_need, tcp_rx_resize). */
struct tcp_rx {
	uint8_t *buf;
	size_t cap;
	size_t start, end; /* bytes not yet parsed: buf[start..end) */
	size_t max_frame;
	enum tcp_frame_status error; /* TCP_FRAME_OK, or the error, which sticks */
};

/* cap: at least a frame header; max_frame: 1..TCP_FRAME_MAX. 0 or
 * -ENOMEM/-EINVAL. */
int tcp_rx_init(struct tcp_rx *rx, size_t cap, size_t max_frame);
void tcp_rx_free(struct tcp_rx *rx);
/* A new block of cap bytes (at least a frame header and what is buffered),
 * holding what was buffered; frames handed out before are invalid. 0, or
 * -EINVAL/-ENOMEM (the old block stays). The block only ever holds bytes
 * that crossed the network (ciphertext, handshake messages in the clear):
 * nothing to wipe. */
int tcp_rx_resize(struct tcp_rx *rx, size_t cap);
/* Where the next bytes go, and how many fit (the space is compacted first).
 * No room: the stream's error, or the frame begun does not fit the buffer:
 * tcp_rx_resize to at least tcp_rx_need. */
uint8_t *tcp_rx_space(struct tcp_rx *rx, size_t *room);
/* How large the buffer must be for the frame begun to complete: its header
 * and message, or a header while its length is not in yet. */
size_t tcp_rx_need(const struct tcp_rx *rx);
/* n bytes were written at tcp_rx_space. */
void tcp_rx_commit(struct tcp_rx *rx, size_t n);
/* Copies in as much of data as fits; returns how much (tests, fuzzing). */
size_t tcp_rx_feed(struct tcp_rx *rx, const void *data, size_t len);
/* The next complete frame, valid until the next tcp_rx_space or
 * tcp_rx_feed: TCP_FRAME_OK with *frame and *len, TCP_FRAME_PARTIAL, or the
 * stream's error (returned again on every later call). */
enum tcp_frame_status tcp_rx_next(struct tcp_rx *rx, const uint8_t **frame, size_t *len);
/* Bytes of a frame begun but not complete (a truncation if the stream ends). */
static inline size_t tcp_rx_buffered(const struct tcp_rx *rx)
{
	return rx->end - rx->start;
}

/* A connection's send side: a ring of framed messages not yet taken by the
 * kernel. Its last `reserve` bytes are for handshake messages (types 1-3)
 * only, so a socket slowed by data cannot stop a handshake. A zeroed one
 * has no block yet and takes nothing (tcp_tx_init makes it). */
struct tcp_tx {
	uint8_t *buf;
	size_t cap;
	size_t head, len; /* pending bytes: len of them from head, wrapping */
	size_t reserve;
};

int tcp_tx_init(struct tcp_tx *tx, size_t cap, size_t reserve);
void tcp_tx_free(struct tcp_tx *tx);
/* Appends msg as one frame, all or nothing. False when it does not fit
 * (for a data message: when it would eat into the reserve) or when len is
 * 0 or above TCP_FRAME_MAX; the caller drops and counts it. */
bool tcp_tx_push(struct tcp_tx *tx, const uint8_t *msg, size_t len);
/* The pending bytes, oldest first, in at most two pieces (the ring wraps):
 * returns how many pieces (0 when nothing is pending). */
int tcp_tx_peek(const struct tcp_tx *tx, struct iovec iov[2]);
/* The first n pending bytes were written: they leave the ring. */
void tcp_tx_consume(struct tcp_tx *tx, size_t n);
static inline size_t tcp_tx_pending(const struct tcp_tx *tx)
{
	return tx->len;
}

#endif
