// SPDX-License-Identifier: MIT
/*
 * The TCP transport's frame parser, on any byte stream. Input:
 *   byte 0: the largest frame allowed (1..2048, or 65535 when it is 0xff);
 *   byte 1: seed of the read sizes (how the stream is cut, as recv would)
 *           and of the buffer's first size (2..201 bytes);
 *   the rest: the stream.
 * The stream is parsed twice: whole, frame by frame with tcp_frame_parse
 * (the reference), and in pieces through struct tcp_rx, which starts with a
 * buffer that may be smaller than a frame and is resized whenever a frame
 * does not fit (to what tcp_rx_need says, or a little more), as tcp.c does
 * for a connection that has not authenticated yet. Invariants: the same
 * frames, in the same order, with the same bytes; the same verdict at the
 * end (complete, partial, or the same error); every frame 1..max bytes; a
 * buffer never grows past one largest frame; it never overflows (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_rx rx;
	size_t max_frame, off = 0, ref = 0, pieces_seed;
	enum tcp_frame_status ref_end = TCP_FRAME_PARTIAL, end = TCP_FRAME_PARTIAL;

	if (size < 2)
		return 0;
	max_frame = data[0] == 0xff ? TCP_FRAME_MAX : 1 + (size_t)data[0] * 8;
	pieces_seed = data[1];
	data += 2;
	size -= 2;
	if (tcp_rx_init(&rx, TCP_FRAME_HEADER_LEN + (pieces_seed * 7) % 200, max_frame) < 0)
		abort();

	for (;;) {
		const uint8_t *frame;
		size_t len, want, room;

		/* Read sizes 1..64 (a cheap LCG), sometimes everything that fits. */
		pieces_seed = pieces_seed * 1103515245u + 12345u;
		want = (pieces_seed >> 16) % 8 == 0 ? size - off : 1 + (pieces_seed >> 8) % 64;
		if (want > size - off)
			want = size - off;
		tcp_rx_space(&rx, &room);
		if (!room) {
			/* A frame longer than the buffer: resize, as tcp.c would. */
			size_t need = tcp_rx_need(&rx);
			if (need <= rx.cap || need > max_frame + TCP_FRAME_HEADER_LEN)
				abort();
			if ((pieces_seed >> 20) % 2 && need < max_frame + TCP_FRAME_HEADER_LEN)
				need += 1 + (pieces_seed >> 21) % (max_frame + TCP_FRAME_HEADER_LEN - need);
			if (tcp_rx_resize(&rx, need) < 0)
				abort();
		}
		off += tcp_rx_feed(&rx, data + off, want);

		while ((end = tcp_rx_next(&rx, &frame, &len)) == TCP_FRAME_OK) {
			size_t ref_len = 0;
			/* The reference must find the same frame at the same place. */
			if (tcp_frame_parse(data + ref, size - ref, max_frame, &ref_len) != TCP_FRAME_OK)
				abort();
			if (len != ref_len || len == 0 || len > max_frame)
				abort();
			if (memcmp(frame, data + ref + TCP_FRAME_HEADER_LEN, len))
				abort();
			ref += TCP_FRAME_HEADER_LEN + len;
		}
		/* A bad length (the connection would be closed), or all read. */
		if (end != TCP_FRAME_PARTIAL || off == size)
			break;
	}
	/* What the reference says of the rest of the stream. */
	{
		size_t ref_len = 0;
		ref_end = tcp_frame_parse(data + ref, size - ref, max_frame, &ref_len);
	}
	if (end != ref_end)
		abort();
	/* A partial end holds exactly the unparsed rest (a truncation on EOF). */
	if (end == TCP_FRAME_PARTIAL && tcp_rx_buffered(&rx) != size - ref)
		abort();
	tcp_rx_free(&rx);
	return 0;
}
