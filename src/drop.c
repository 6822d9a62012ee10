// SPDX-License-Identifier: MIT
#include "drop.h"

static const char *const drop_cause_names[] = {
	[DROP_NO_KEYPAIR] = "no_session",
	[DROP_REPLAY] = "replay",
	[DROP_DECRYPT] = "decrypt",
	[DROP_ALLOWEDIPS] = "allowed_ips",
	[DROP_MALFORMED] = "malformed",
	[DROP_NO_PEER] = "no_peer",
	[DROP_NO_BUFFER] = "no_buffer",
	[DROP_SEND_FAILED] = "send_failed",
	[DROP_HANDSHAKE] = "handshake",
	[DROP_HANDSHAKE_MAC1] = "handshake_mac1",
	[DROP_HANDSHAKE_QUEUE_FULL] = "handshake_queue_full",
	[DROP_HANDSHAKE_RATELIMIT] = "handshake_ratelimit",
	[DROP_HANDSHAKE_COOKIE] = "handshake_cookie",
	[DROP_COOKIE_RATELIMIT] = "cookie_ratelimit",
	[DROP_HANDSHAKE_REPLAY] = "handshake_replay",
	[DROP_TCP_NO_CONN] = "tcp_no_conn",
	[DROP_TCP_TX_FULL] = "tcp_tx_full",
	[DROP_TCP_FRAMING] = "tcp_framing",
	[DROP_TCP_TRUNCATED] = "tcp_truncated",
	[DROP_TCP_CONN_LIMIT] = "tcp_conn_limit",
	[DROP_TCP_AUTH_TIMEOUT] = "tcp_auth_timeout",
	[DROP_MODE_MISMATCH] = "mode_mismatch",
	[DROP_ALLOWEDMACS] = "allowed_macs",
	[DROP_MAC_HELD] = "mac_held",
};
_Static_assert(sizeof(drop_cause_names) / sizeof(drop_cause_names[0]) == DROP_CAUSE_COUNT,
	       "every drop cause needs a name");

const char *drop_cause_name(enum drop_cause cause)
{
	return (unsigned)cause < DROP_CAUSE_COUNT && drop_cause_names[cause] ? drop_cause_names[cause] : "unknown";
}
