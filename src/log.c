// SPDX-License-Identifier: MIT
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "encoding.h"

enum log_level log_level = LOG_LVL_INFO;
static bool use_syslog;
static char log_prefix[32];

bool log_to_syslog(const char *ident)
{
	struct stat st;

	if (stat("/dev/log", &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	openlog(ident, LOG_PID, LOG_DAEMON);
	use_syslog = true;
	return true;
}

/* Whether stderr is the stream systemd's journal reads (JOURNAL_STREAM is
 * "DEV:INO" of it; a child whose stderr was redirected inherits the
 * variable, so the descriptor itself is compared). */
static bool stderr_is_journal(void)
{
	static int known = -1;
	if (known < 0) {
		const char *env = getenv("JOURNAL_STREAM"), *colon = env ? strchr(env, ':') : NULL;
		uint64_t dev, ino;
		struct stat st;
		known = colon && parse_u64(env, (size_t)(colon - env), false, UINT64_MAX, &dev) &&
			parse_u64(colon + 1, strlen(colon + 1), false, UINT64_MAX, &ino) &&
			fstat(STDERR_FILENO, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
	}
	return known;
}

void log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix ? prefix : "");
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[512];
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (use_syslog) {
		syslog(prio[lvl], "%s%s%s", log_prefix, log_prefix[0] ? ": " : "", msg);
		return;
	}
	if (stderr_is_journal()) {
		fprintf(stderr, "<%d>%s%s%s\n", prio[lvl], log_prefix, log_prefix[0] ? ": " : "", msg);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s%s%s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / (long)NS_PER_MS, log_prefix, log_prefix[0] ? " " : "", names[lvl], msg);
}
