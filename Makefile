# wgxdp build. Out-of-tree into $(BUILD); quiet unless V=1.
.DELETE_ON_ERROR:
.SUFFIXES:

BUILD   ?= build
SHARED  ?= ../shared
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

PKGS     := libsodium libcrypto libbpf libxdp liburcu-qsbr libmnl libqrencode \
	    libcap-ng
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla \
	    -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Iinclude -Iuser \
	      -I$(BUILD)/bpf $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS   := $(PKG_LIBS) -lsodium -lb2 -lcrypto -lelf -lz -lpthread $(EXTRA_LDLIBS)
# intel-ipsec-mb (x86-64 only) adds the "ipsecmb" AEAD back end when its
# header is there; without it the other back ends build alone.
HAVE_IPSECMB := $(shell printf '\043include <intel-ipsec-mb.h>\n' | \
		  $(CC) -E -x c - >/dev/null 2>&1 && echo 1)
ifeq ($(HAVE_IPSECMB),1)
ALL_CFLAGS += -DWGX_HAVE_IPSECMB
LDLIBS     += -lIPSec_MB
endif

# user/ holds one folder per part: core (the protocol), device (state the
# agent and the datapath share), datapath, agent, cli, util.
USER_SRCS  := $(wildcard user/*/*.c)
LIB_SRCS   := $(filter-out user/cli/main.c,$(USER_SRCS))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS  := $(wildcard tests/unit/*.c)
UNIT_OBJS  := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
BENCH_SRCS := $(wildcard tools/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:tools/bench/%.c=$(BUILD)/bench/%)
NETNS_SRCS := $(wildcard tests/netns/*.c)
NETNS_BINS := $(NETNS_SRCS:tests/netns/%.c=$(BUILD)/tests/netns/%)
HEADERS    := $(wildcard include/*.h user/*/*.h tests/unit/*.h)
# Minimal XDP objects the loader's netns test attaches (t_loader.sh).
LOADER_TEST_BPF := $(BUILD)/tests/bpf/loader_test.bpf.o \
		   $(BUILD)/tests/bpf/loader_foreign.bpf.o

WGXDP := $(BUILD)/wgxdp

# The version: VERSION, and the commit when built from a git checkout.
# Only user/util/version.o sees it; the stamp changes (and rebuilds that
# object) only when the text does.
VERSION     ?= 0.1.0
GIT_REV     := $(shell git rev-parse --short HEAD 2>/dev/null)
WGX_VERSION := $(VERSION)$(if $(GIT_REV), (git $(GIT_REV)))
VERSION_STAMP := $(BUILD)/version.stamp
# What wg-quick runs for WG_QUICK_USERSPACE_IMPLEMENTATION: `wgxdp up`.
LAUNCHER := $(BUILD)/wgxdp-userspace
UNIT  := $(BUILD)/tests/unit/unit

# The XDP program: clang -target bpf against vmlinux.h, then a libbpf
# skeleton that userspace includes as "wgxdp.skel.h".
BPF_CC     ?= clang
BPFTOOL    ?= bpftool
BPF_CFLAGS := -target bpf -mcpu=v3 -O2 -g -Wall -Werror -Iinclude -Ivmlinux
BPF_HDRS   := $(wildcard bpf/*.h) include/wgx_bpf.h include/wgx_wire.h \
	      vmlinux/vmlinux.h
BPF_OBJ    := $(BUILD)/bpf/wgxdp.bpf.o
# The loader's probe for libxdp's dispatcher (bpf/wgxdp_probe.bpf.c).
BPF_SKEL   := $(BUILD)/bpf/wgxdp.skel.h $(BUILD)/bpf/wgxdp_probe.skel.h
BPF_TEST   := $(BUILD)/tests/bpf/bpf_test

DEB_PKGS := build-essential pkg-config clang llvm libbpf-dev libxdp-dev \
	libsodium-dev libb2-dev libssl-dev libelf-dev zlib1g-dev bpftool \
	iproute2 jq clang-format clang-tidy cppcheck wireguard-go \
	wireguard-tools iperf3 procps psmisc kmod socat iputils-ping \
	shellcheck ethtool liburcu-dev libmnl-dev libqrencode-dev curl \
	nftables libcap-ng-dev libcap2-bin libclang-rt-dev
ifeq ($(shell uname -m),x86_64)
DEB_PKGS += libipsec-mb-dev
endif

.PHONY: all deps test test-unit bpf-random test-netns lint asan tsan \
	tsan-build clean install vmlinux bench bench-deps vectors demo fuzz \
	fuzz-build fuzz-bins

all: $(BPF_OBJ) $(BPF_SKEL) $(WGXDP) $(LAUNCHER) $(UNIT) $(BENCH_BINS) \
	$(NETNS_BINS) $(BPF_TEST) $(LOADER_TEST_BPF)

$(BUILD)/%.o: %.c $(HEADERS)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$<)
	@mkdir -p $(@D)
	$(Q)$(BPF_CC) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(VERSION_STAMP): FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = '$(WGX_VERSION)' ] || \
		printf '%s\n' '$(WGX_VERSION)' > $@
$(BUILD)/user/util/version.o: $(VERSION_STAMP)
$(BUILD)/user/util/version.o: ALL_CFLAGS += -DWGX_VERSION='"$(WGX_VERSION)"'
.PHONY: FORCE
FORCE:

# User code may include the skeleton: build it first; the loader, which
# does include it, is rebuilt whenever it changes.
$(LIB_OBJS) $(BUILD)/user/cli/main.o $(UNIT_OBJS): | $(BPF_SKEL)
$(BUILD)/user/agent/loader.o: $(BPF_SKEL)

# Fixture tests of the XDP program through BPF_PROG_TEST_RUN (needs root).
$(BPF_TEST): tests/bpf/bpf_test.c $(BPF_SKEL) $(HEADERS)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

$(BUILD)/libwgx.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(WGXDP): $(BUILD)/user/cli/main.o $(BUILD)/libwgx.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(LDLIBS)

$(LAUNCHER): tools/wgxdp-userspace
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)install -m 0755 $< $@

$(UNIT): $(UNIT_OBJS) $(BUILD)/libwgx.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: tools/bench/%.c $(BUILD)/libwgx.a $(HEADERS)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libwgx.a $(LDLIBS)

# Helper programs the netns shell tests run inside their namespaces.
$(BUILD)/tests/netns/%: tests/netns/%.c $(BUILD)/libwgx.a $(HEADERS)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libwgx.a $(LDLIBS)

# XDP objects for the loader test, compiled like the real program (CO-RE
# against vmlinux/vmlinux.h, BTF for readable map dumps).
$(LOADER_TEST_BPF): $(BUILD)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c \
		include/wgx_bpf.h vmlinux/vmlinux.h
	$(call msg,BPF,$<)
	@mkdir -p $(@D)
	$(Q)clang -target bpf -O2 -g -Wall -Werror -Ivmlinux -Iinclude \
		-c $< -o $@

# Test vectors from shared/ flattened to "path=value" lines for the C tests.
VECTOR_JSON := $(wildcard $(SHARED)/vectors/*.json)
VECTOR_TXT  := $(VECTOR_JSON:$(SHARED)/vectors/%.json=$(BUILD)/vectors/%.txt)
vectors: $(VECTOR_TXT)
$(BUILD)/vectors/%.txt: $(SHARED)/vectors/%.json
	@mkdir -p $(@D)
	$(Q)jq -r 'paths(scalars) as $$p | "\($$p | map(tostring) | join("."))=\(getpath($$p))"' $< > $@

# What the benchmarks need beyond the tests: tools/bench/plot draws PNGs
# with matplotlib, perf profiles where the time goes.
BENCH_PKGS := python3-matplotlib linux-perf
bench-deps: deps
	@missing=$$(for p in $(BENCH_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS   installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $$missing \
			>/dev/null || \
		{ echo "bench-deps: apt-get install failed" >&2; exit 1; }; \
	fi

# Install what building and testing need; a no-op when everything is present.
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS   installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $$missing \
			>/dev/null || { echo "deps: apt-get install failed" >&2; exit 1; }; \
	fi

test-unit: $(UNIT) vectors
	$(Q)WGX_VECTORS=$(BUILD)/vectors $(UNIT)

# The XDP program against 1,000,000 random and mutated frames (make test
# runs 100,000 in the bpf suite); root.
bpf-random: $(BPF_TEST)
	$(Q)$(BPF_TEST) $(BUILD) --frames 1000000

test-netns: $(WGXDP)
	$(Q)tests/netns/run $(WGXDP)

test: deps
	$(Q)$(MAKE) --no-print-directory all vectors
	$(Q)$(MAKE) --no-print-directory tsan-build
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)WGX_TSAN_BUILD=$(TSAN_BUILD) WGX_FUZZ_BUILD=$(FUZZ_BUILD) \
		tests/run-all $(BUILD)

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan CC=gcc \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		test-unit

# ThreadSanitizer: the unit tests and a multi-worker stress test in network
# namespaces (tests/netns/t_stress.sh) against a TSan build of everything.
# `make test` runs both too. GCC 12 sees a false overread in writev of a
# fixed iovec array under -fsanitize=thread, hence the one warning let go.
TSAN_BUILD := build-tsan
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer \
	      -Wno-error=stringop-overread
tsan-build:
	$(Q)$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) CC=gcc \
		EXTRA_CFLAGS="$(TSAN_FLAGS)" all vectors

tsan: deps tsan-build
	$(Q)WGX_TSAN_BUILD=$(TSAN_BUILD) tests/run-all --tsan-only $(BUILD)

# libFuzzer harnesses (tests/fuzz/): clang, ASan and UBSan, against a
# build of the library instrumented for coverage. `make fuzz` runs each
# for FUZZ_SECONDS from the seeds tests/fuzz/seeds.c writes (shared
# vectors, unit fixtures); a finding stops it with the input saved under
# $(FUZZ_BUILD)/findings/. `make test` runs them briefly (tests/run-all).
FUZZ_BUILD   := build-fuzz
FUZZ_SECONDS ?= 15
FUZZ_NAMES   := initiation response cookie data config gso gro uapi
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer
fuzz-build:
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
		vectors fuzz-bins

fuzz-bins: $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%) $(BUILD)/fuzz/seeds

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libwgx.a \
		$(HEADERS)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libwgx.a \
		$(LDLIBS)

$(BUILD)/fuzz/seeds: tests/fuzz/seeds.c tests/fuzz/fuzz.h $(BUILD)/libwgx.a \
		$(HEADERS)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libwgx.a $(LDLIBS)

fuzz: fuzz-build
	$(Q)tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

FORMAT_SRCS = $(wildcard user/*/*.[ch] include/*.h bpf/*.[ch] tests/unit/*.[ch] tests/bpf/*.[ch] tests/netns/*.c tools/bench/*.c tests/fuzz/*.[ch])
lint:
	$(call msg,FORMAT,check)
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS)
	$(call msg,CPPCHK,user)
	$(Q)cppcheck -q --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --std=c11 -D__linux__ -Iinclude -Iuser \
		--suppress=missingIncludeSystem user tests/unit $(wildcard tests/netns) \
		$(filter-out %.bpf.c,$(wildcard tests/bpf/*.c)) tools/bench \
		tests/fuzz
	$(call msg,SHCHK,scripts)
	$(Q)shellcheck -x tests/run-all tests/cli/run tests/netns/run \
		tests/netns/*.sh tools/demo tools/bench/tunnel tools/bench/flood \
		tests/fuzz/run tools/soak \
		tools/bench/scale tools/wgxdp-userspace .ci/run

# The front door: install, build, and run the two-namespace demo.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo $(WGXDP)

vmlinux:
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

# The XDP object is built into the binary (bpftool skeleton). The unit
# runs the installed binary: its path is written in at install time.
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
install: $(WGXDP) $(LAUNCHER)
	install -D -m 0755 $(WGXDP) $(DESTDIR)$(SBINDIR)/wgxdp
	install -D -m 0755 $(LAUNCHER) $(DESTDIR)$(SBINDIR)/wgxdp-userspace
	install -D -m 0644 docs/wgxdp.8 $(DESTDIR)$(MANDIR)/man8/wgxdp.8
	@mkdir -p $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' tools/systemd/wgxdp@.service.in \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/wgxdp@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/wgxdp@.service

clean:
	rm -rf build build-asan build-tsan build-fuzz
