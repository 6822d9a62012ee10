// SPDX-License-Identifier: MIT
/*
 * sluice metrics: `show --prometheus` served over HTTP, for a Prometheus
 * server to scrape (GET /metrics). It reads the daemons' control sockets as
 * `show` does, holds no secret and needs no privilege beyond those sockets.
 *
 * One request at a time, as a scraper sends them: a request is read up to
 * METRICS_REQUEST_MAX bytes and METRICS_IO_TIMEOUT_S seconds, answered, and
 * the connection closed. A client that stalls holds the next one back for
 * that long at most, and nothing it sends reaches the daemons.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd.h"
#include "netaddr.h"

#define METRICS_DEFAULT_LISTEN "127.0.0.1:9586"
#define METRICS_REQUEST_MAX 8192
#define METRICS_IO_TIMEOUT_S 5

static const char usage[] =
	"Usage: sluice metrics [--listen ADDR:PORT] [IFACE]\n"
	"Serves over HTTP at /metrics, for Prometheus to scrape, the counters `sluice\n"
	"show` gives in Prometheus' format: per-peer bytes and latest handshake, drops by cause,\n"
	"the handshake queue; of every interface, or of IFACE only. Runs in the\n"
	"foreground until SIGTERM or SIGINT.\n"
	"  --listen ADDR:PORT  where to listen (default " METRICS_DEFAULT_LISTEN
	"; an IPv6\n"
	"                      address in brackets, [::1]:9586)\n";

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static bool send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR && !stopping)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads up to the blank line that ends a request's head. The length read,
 * or -1 (closed, timed out, or longer than buf). */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	while (len < cap - 1) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR && !stopping)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return (ssize_t)len;
	}
	return -1;
}

static void reply(int fd, const char *status, const char *type, const char *extra, const char *body, size_t len,
		  bool head_only)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
			 status, type, len, extra);
	if (n > 0 && (size_t)n < sizeof(head) && send_all(fd, head, (size_t)n) && !head_only)
		send_all(fd, body, len);
}

#define TEXT "text/plain; charset=utf-8"

/* One request on fd: the exposition at /metrics, a pointer to it at /. */
static void serve(int fd, const char *only)
{
	static char req[METRICS_REQUEST_MAX];
	if (read_head(fd, req, sizeof(req)) < 0) {
		static const char msg[] = "request head too long, or not finished in time\n";
		reply(fd, "400 Bad Request", TEXT, "", msg, sizeof(msg) - 1, false);
		return;
	}
	/* The request line: METHOD SP TARGET SP VERSION. */
	char *method = req, *target = strchr(req, ' ');
	if (!target) {
		static const char msg[] = "not an HTTP request\n";
		reply(fd, "400 Bad Request", TEXT, "", msg, sizeof(msg) - 1, false);
		return;
	}
	*target++ = '\0';
	target[strcspn(target, " ?\r\n")] = '\0';
	bool head_only = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head_only) {
		static const char msg[] = "only GET and HEAD\n";
		reply(fd, "405 Method Not Allowed", TEXT, "Allow: GET, HEAD\r\n", msg, sizeof(msg) - 1, false);
		return;
	}
	if (!strcmp(target, "/")) {
		static const char msg[] = "sluice metrics: the counters are at /metrics\n";
		reply(fd, "200 OK", TEXT, "", msg, sizeof(msg) - 1, head_only);
		return;
	}
	if (strcmp(target, "/metrics")) {
		static const char msg[] = "not found; the counters are at /metrics\n";
		reply(fd, "404 Not Found", TEXT, "", msg, sizeof(msg) - 1, head_only);
		return;
	}
	char *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);
	int r = out ? cmd_show_prometheus(out, only) : EXIT_RUNTIME;
	if (out && fclose(out) != 0)
		r = EXIT_RUNTIME;
	if (r == EXIT_OK) {
		reply(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", "", body, len, head_only);
	} else {
		static const char msg[] = "the interface's daemon did not answer (see the exporter's log)\n";
		reply(fd, "503 Service Unavailable", TEXT, "", msg, sizeof(msg) - 1, head_only);
	}
	free(body);
}

static int listen_on(const struct endpoint *ep, const char *text)
{
	int one = 1, fd = socket(ep->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, &ep->addr.sa, endpoint_len(ep)) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "metrics: cannot listen on %s: %s\n", text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int cmd_metrics(int argc, char **argv)
{
	const char *listen_text = METRICS_DEFAULT_LISTEN, *only = NULL;
	char ifname[16];

	if (cmd_wants_help(argc, argv, usage))
		return EXIT_OK;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen_text = argv[++i];
		} else if (argv[i][0] != '-' && !only) {
			only = argv[i];
		} else {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (only && !cmd_ifname(ifname, only))
		return EXIT_USAGE;
	struct endpoint ep;
	if (!endpoint_parse_numeric(&ep, listen_text)) {
		fprintf(stderr, "metrics: --listen '%s' is not ADDR:PORT (192.0.2.1:9586, [::1]:9586)\n", listen_text);
		return EXIT_USAGE;
	}
	int lfd = listen_on(&ep, listen_text);
	if (lfd < 0)
		return EXIT_RUNTIME;

	/* No SA_RESTART: a signal ends a blocking accept or read at once. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "metrics: serving http://%s/metrics\n", listen_text);

	const struct timeval timeout = { .tv_sec = METRICS_IO_TIMEOUT_S };
	while (!stopping) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				if (errno != EINTR && errno != ECONNABORTED)
					sleep(1); /* out of descriptors or memory: not in a tight loop */
				continue;
			}
			fprintf(stderr, "metrics: accept: %s\n", strerror(errno));
			close(lfd);
			return EXIT_RUNTIME;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
		serve(fd, only ? ifname : NULL);
		close(fd);
	}
	close(lfd);
	return EXIT_OK;
}
