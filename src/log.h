/* SPDX-License-Identifier: MIT */
/*
 * Levelled logging to stderr (foreground) or syslog (daemon). Never log keys.
 * On stderr, lines carry a timestamp for a terminal; when stderr is the
 * journal (systemd's JOURNAL_STREAM names it), they carry sd-daemon's "<N>"
 * priority prefix instead and no timestamp, so `journalctl -p err` filters
 * them.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern enum log_level log_level;

/* After this call messages go to syslog with `ident` instead of stderr.
 * False, and nothing changed, where no syslog daemon listens (/dev/log). */
bool log_to_syslog(const char *ident);
/* Where a daemon with no syslog writes its messages: DIR/IFACE.log. */
#define LOG_FALLBACK_DIR "/run/sluice"
/* Prefix for every message, e.g. the interface name. */
void log_set_prefix(const char *prefix);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                       \
	do {                                                 \
		if (log_level >= LOG_LVL_DEBUG)              \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
