/* SPDX-License-Identifier: MIT */
/* The configuration file's keys, shared by its parser (config.c) and its
 * writer (config_format.c). */
#ifndef SLUICE_CONFIG_KEYS_H
#define SLUICE_CONFIG_KEYS_H

enum key_id {
	K_PRIVATE_KEY,
	K_LISTEN_PORT,
	K_ADDRESS,
	K_MTU,
	K_TABLE,
	K_FWMARK,
	K_TRANSPORT,
	K_REPLY_PING,
	K_FORWARD,
	K_SAVE_STATE,
	K_USER,
	K_MODE,
	K_BRIDGE,
	K_DNS,
	K_PRE_UP,
	K_POST_UP,
	K_PRE_DOWN,
	K_POST_DOWN,
	K_SAVE_CONFIG,
	K_PUBLIC_KEY,
	K_PRESHARED_KEY,
	K_ALLOWED_IPS,
	K_ENDPOINT,
	K_PERSISTENT_KEEPALIVE,
	K_CIPHER,
	K_ALLOWED_MACS,
	K_COUNT,
};

/* "PrivateKey", "AllowedIPs": as a file spells them. */
const char *config_key_name(enum key_id k);

#endif
