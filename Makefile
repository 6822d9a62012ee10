# sluice: a user-space WireGuard-protocol VPN.
# `make` builds build/sluice; `sudo make check` runs every test; `sudo make demo`.

CC      ?= cc
CLANG   ?= clang
PREFIX  ?= /usr/local
B       := build

# `make install` puts each file under $(DESTDIR)$(...DIR); `make uninstall`
# removes exactly those files. A Debian package would use PREFIX=/usr, so the
# unit lands in /usr/lib/systemd/system (/lib/systemd/system: the same
# directory on merged-/usr Debian); a local install goes to /usr/local.
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -fno-strict-aliasing -MMD -MP
LDLIBS  := -lcrypto -lmnl -lseccomp

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
# Only main.c knows the version, so a new commit rebuilds one file.
$(B)/obj/main.o: CFLAGS += -DSLUICE_VERSION='"$(VERSION)"'
$(B)/obj/main.o: $(B)/version
$(B)/version: FORCE | $(B)/obj
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
FORCE:

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
ASAN_OBJ := $(LIB_SRC:src/%.c=$(B)/asan/obj/%.o)
ASAN_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_OBJ := $(LIB_SRC:src/%.c=$(B)/fuzz/obj/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
# The daemon built with ThreadSanitizer, for the tests whose daemons run
# threads (tests/tsan/run.sh).
TSAN_OBJ := $(LIB_SRC:src/%.c=$(B)/tsan/obj/%.o)
TSAN     := -fsanitize=thread -fno-omit-frame-pointer
# Tools the network-namespace tests and the benchmarks run (hsload:
# test_flood.sh's flooder; faultrelay: the bad network of test_faults.sh;
# fwdbare: make bench's ceiling rows, sluice's data path with no engine).
TOOL_BIN := $(B)/tools/hsload $(B)/tools/faultrelay $(B)/tools/fwdbare

SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZFLAGS:= -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -DFUZZING

.DEFAULT_GOAL := all
.PHONY: all deps check check-run unit asan fuzz fuzz-seeds fuzz-short netns clang-check demo bench clean install
.PHONY: bench-peers bench-handshake bench-deps soak soak-deps
.PHONY: uninstall man format
all: $(B)/sluice

$(B)/sluice: $(B)/obj/main.o $(B)/libsluice.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread

$(B)/libsluice.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/obj/%.o: src/%.c | $(B)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(B)/libsluice.a | $(B)/tests
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(B)/libsluice.a -lcmocka $(LDLIBS)

$(B)/asan/obj/%.o: src/%.c | $(B)/asan/obj
	$(CC) $(CFLAGS) $(SAN) -c -o $@ $<

$(B)/asan/libsluice.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/asan/%: tests/unit/%.c tests/unit/unit.h $(B)/asan/libsluice.a | $(B)/asan
	$(CC) $(CFLAGS) $(SAN) -Isrc -o $@ $< $(B)/asan/libsluice.a -lcmocka $(LDLIBS)

$(B)/tsan/obj/%.o: src/%.c | $(B)/tsan/obj
	$(CC) $(CFLAGS) $(TSAN) -c -o $@ $<

$(B)/tsan/obj/main.o: CFLAGS += -DSLUICE_VERSION='"$(VERSION)"'
$(B)/tsan/obj/main.o: $(B)/version

$(B)/tsan/sluice: $(B)/tsan/obj/main.o $(TSAN_OBJ)
	$(CC) $(LDFLAGS) $(TSAN) -o $@ $^ $(LDLIBS) -lpthread

$(B)/fuzz/obj/%.o: src/%.c | $(B)/fuzz/obj
	$(CLANG) $(CFLAGS) $(FUZZFLAGS) -c -o $@ $<

$(B)/fuzz/libsluice.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/fuzz/%: tests/fuzz/%.c $(B)/fuzz/libsluice.a
	$(CLANG) $(CFLAGS) -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -DFUZZING -Isrc \
		-o $@ $< $(B)/fuzz/libsluice.a $(LDLIBS)

$(B)/obj $(B)/tests $(B)/asan/obj $(B)/asan $(B)/fuzz/obj $(B)/tsan/obj:
	mkdir -p $@

deps:
	@scripts/deps.sh

unit: $(UNIT_BIN)
asan: $(ASAN_BIN)
fuzz-bins: $(FUZZ_BIN)

# Every source compiles warning-free with clang as well as gcc.
clang-check:
	@for f in src/*.c tests/unit/*.c tests/fuzz/*.c tests/tools/*.c; do \
		$(CLANG) -std=gnu11 $(WARN) -D_GNU_SOURCE -DSLUICE_VERSION='"check"' -Isrc -fsyntax-only $$f || exit 1; done
	@echo "clang: no warnings"

# The whole suite: build with both compilers, unit tests (plain and
# ASan+UBSan), each fuzz harness for a short while, then the network
# namespace tests. Prints "N passed, N failed" last.
# deps first, even under -j: nothing compiles before the headers are there.
check: deps
	@$(MAKE) --no-print-directory check-run
check-run: all clang-check $(UNIT_BIN) $(ASAN_BIN) $(FUZZ_BIN) $(TOOL_BIN) $(B)/tsan/sluice
	@tests/run.sh

fuzz: deps $(FUZZ_BIN)
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-600} tests/fuzz/run.sh $(FUZZ_BIN)

# Writes the seed corpus of fuzz_packet (real handshake, cookie and data
# messages from two engines, and broken ones) into tests/fuzz/corpus.
fuzz-seeds: $(B)/libsluice.a
	@mkdir -p $(B)/tools tests/fuzz/corpus/fuzz_packet
	$(CC) $(CFLAGS) -DFUZZ_PACKET_SEEDS -Isrc -o $(B)/tools/fuzz_packet_seeds tests/fuzz/fuzz_packet.c \
		$(B)/libsluice.a $(LDLIBS)
	$(B)/tools/fuzz_packet_seeds tests/fuzz/corpus/fuzz_packet

demo: deps all
	@scripts/demo.sh

# The benchmarks (root, network namespaces; see README, "Benchmarks").
# Never part of `make check`: they install what only they need (OpenVPN,
# gnuplot, python3) and assert nothing. BENCH_SECONDS=N per measurement.
bench-deps:
	@scripts/deps.sh bench
bench: bench-deps
	@$(MAKE) --no-print-directory all $(B)/tools/fwdbare >&2
	@tests/bench/bench.sh
bench-peers: bench-deps
	@$(MAKE) --no-print-directory all >&2
	@tests/bench/peers.sh
bench-handshake: bench-deps
	@$(MAKE) --no-print-directory all $(B)/tools/hsload >&2
	@tests/bench/handshake.sh

# The soak (root, network namespaces; never part of `make check`): two
# daemons with SLUICE_TIMER_SCALE'd timers for SOAK_SECONDS (600) of traffic,
# rekeys every few seconds: no ping lost to a rekey, RSS and descriptors flat;
# then SOAK_VALGRIND_SECONDS (60) under valgrind: no error, no leak.
soak-deps:
	@scripts/deps.sh soak
soak: soak-deps
	@$(MAKE) --no-print-directory all >&2
	@tests/soak/soak.sh

# The handshake load generator of bench-handshake and the flooder of
# test_flood.sh (tests/tools/hsload.c).
$(B)/tools/%: tests/tools/%.c $(B)/libsluice.a
	@mkdir -p $(B)/tools
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(B)/libsluice.a $(LDLIBS)

# Lays the C sources out as .clang-format says; `make check` fails on a file
# that differs (tests/packaging/test_format.sh).
format:
	clang-format -i --style=file src/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c tests/tools/*.c

clean:
	rm -rf $(B)

# The unit names the binary where this install puts it.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(B)/sluice $(DESTDIR)$(BINDIR)/sluice
	install -m 0644 docs/sluice.8 $(DESTDIR)$(MANDIR)/man8/sluice.8
	install -m 0644 docs/sluice.conf.5 $(DESTDIR)$(MANDIR)/man5/sluice.conf.5
	sed 's|/usr/local/bin/sluice|$(BINDIR)/sluice|g' contrib/systemd/sluice@.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/sluice@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/sluice@.service
	install -m 0644 contrib/bash-completion/sluice $(DESTDIR)$(BASHCOMPDIR)/sluice

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sluice $(DESTDIR)$(MANDIR)/man8/sluice.8 \
		$(DESTDIR)$(MANDIR)/man5/sluice.conf.5 $(DESTDIR)$(SYSTEMDUNITDIR)/sluice@.service \
		$(DESTDIR)$(BASHCOMPDIR)/sluice

# Lints the man pages (mandoc -T lint) and checks they name every command,
# option and configuration key the program has.
man: deps all
	@tests/packaging/test_man.sh

-include $(wildcard $(B)/obj/*.d $(B)/asan/obj/*.d $(B)/fuzz/obj/*.d $(B)/tsan/obj/*.d $(B)/tests/*.d $(B)/tools/*.d)
