// SPDX-License-Identifier: MIT
/*
 * The ring bitmap of RFC 6479, kept as the Linux module's counter_validate
 * keeps it. Counter c owns bit c % COUNTER_BITS_TOTAL. The word holding the
 * greatest counter is only partly meaningful (its bits above the greatest are
 * for counters to come), so the ring remembers COUNTER_WINDOW_SIZE counters
 * behind the greatest, one word short of its size. A counter is accepted when
 * it is ahead of the greatest, or at most COUNTER_WINDOW_SIZE behind it and
 * unseen. Moving ahead clears only the words passed over, at most the ring.
 */
#include "replay.h"

#include <stddef.h>
#include <string.h>

#define WORD_BITS 64
#define RING_WORDS (COUNTER_BITS_TOTAL / WORD_BITS)

_Static_assert(sizeof(((struct replay_window *)0)->bitmap[0]) * 8 == WORD_BITS, "64-bit words");
_Static_assert((RING_WORDS & (RING_WORDS - 1)) == 0, "the ring is a power of two words");
_Static_assert(COUNTER_WINDOW_SIZE == COUNTER_BITS_TOTAL - WORD_BITS, "one word in flux");
/* The window test below adds COUNTER_WINDOW_SIZE to an accepted counter. */
_Static_assert(REJECT_AFTER_MESSAGES <= UINT64_MAX - COUNTER_WINDOW_SIZE, "no overflow");

void replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

static size_t ring_word(uint64_t counter)
{
	return (size_t)(counter / WORD_BITS) & (RING_WORDS - 1);
}

bool replay_check(const struct replay_window *w, uint64_t counter)
{
	if (counter >= REJECT_AFTER_MESSAGES)
		return false;
	/* Ahead of the greatest: its bit is zero or is cleared on update. */
	if (!w->any || counter > w->greatest)
		return true;
	if (counter + COUNTER_WINDOW_SIZE < w->greatest)
		return false;
	return !((w->bitmap[ring_word(counter)] >> (counter % WORD_BITS)) & 1);
}

bool replay_update(struct replay_window *w, uint64_t counter)
{
	if (!replay_check(w, counter))
		return false;

	if (!w->any) {
		/* Whatever the bitmap held before the first counter means nothing. */
		memset(w->bitmap, 0, sizeof(w->bitmap));
		w->greatest = counter;
		w->any = true;
	} else if (counter > w->greatest) {
		uint64_t from = w->greatest / WORD_BITS, to = counter / WORD_BITS;
		uint64_t words = to - from < RING_WORDS ? to - from : RING_WORDS;

		/* The words after the greatest's, up to the new one's. */
		for (uint64_t i = 1; i <= words; i++)
			w->bitmap[(from + i) & (RING_WORDS - 1)] = 0;
		w->greatest = counter;
	}
	w->bitmap[ring_word(counter)] |= 1ULL << (counter % WORD_BITS);
	return true;
}
