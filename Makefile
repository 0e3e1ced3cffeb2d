# mod_orderstream: build with apxs; demo and test with a private PostgreSQL.
#
#   make          build .libs/mod_orderstream.so
#   make install  install it into httpd's module directory (apxs -i) and, on
#                 Debian, orderstream.load/.conf into mods-available (DESTDIR)
#   make uninstall  the reverse (a2dismod first if enabled)
#   make deb      build libapache2-mod-orderstream_*.deb into .deb-build/
#   make demo     private PostgreSQL + httpd on 127.0.0.1:$(DEMO_PORT)
#   make test     the layer check (t/bin/layers), C unit tests, the fuzz
#                 targets' committed inputs, and the Apache::Test suite
#   make stress   100 downloads with disconnects and 12 slow readers, with
#                 and without the spool (not in CI)
#   make bench    export vs psql COPY vs static file, size sweep, concurrency
#                 (not in make test; results in .bench/results-latest.txt)
#   make bench/xlsx_writer  the XLSX writer alone (bench/xlsx_writer.c)
#   make asan     the Apache::Test suite against an AddressSanitizer build
#   make fuzz     each libFuzzer target of t/fuzz for FUZZ_SECONDS (60);
#                 FUZZ_TARGET=NAME for one
#   make clean    remove build output (keeps the demo's data)

APXS    ?= $(shell command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null || echo apxs)
HTTPD   ?= $(shell $(APXS) -q SBINDIR 2>/dev/null)/$(shell $(APXS) -q PROGNAME 2>/dev/null)
PG_CONFIG ?= pg_config
PG_INC  := $(shell $(PG_CONFIG) --includedir 2>/dev/null)

DEMO_ROWS ?= 1000000
DEMO_PORT ?= 8080
export DEMO_ROWS DEMO_PORT

# src/ is laid out by layer, bottom to top: a file may include headers of
# its own layer and of those below it, never above (README, "Layout";
# t/bin/layers checks it in make test). Every layer's folder is on the
# include path, so a source names a header by its file name alone.
LAYERS  := base db deliver render export operate request
SRC_INC := $(addprefix -Isrc/,$(LAYERS))
# $(call src,os_a.c os_b.h): where those files are in src/'s layers.
src = $(foreach f,$(1),$(firstword $(wildcard $(addsuffix /$(f),$(addprefix src/,$(LAYERS)))) src/?/$(f)))
SRCS    := mod_orderstream.c $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
HDRS    := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.h))
MODULE  := .libs/mod_orderstream.so
WARN    := -Wall -Wextra -Werror
comma   := ,
# apxs passes compiler flags with -Wc,
# SANITIZE=address builds for AddressSanitizer (make asan).
SAN_FLAGS := $(if $(SANITIZE),-Wc$(comma)-fsanitize=$(SANITIZE) -Wc$(comma)-fno-omit-frame-pointer -Wl$(comma)-fsanitize=$(SANITIZE))
APXS_CFLAGS := $(addprefix -Wc$(comma),$(WARN) -std=gnu99) $(SRC_INC) -I$(PG_INC) \
	$(SAN_FLAGS)

.PHONY: all install uninstall deb demo test unit deps stress bench asan clean \
	fuzz fuzz-replay layers

all: $(MODULE)

$(MODULE): $(SRCS) $(HDRS) Makefile
	$(APXS) -c -o mod_orderstream.la $(APXS_CFLAGS) $(SRCS) -lpq -larchive -lz \
	    -lcrypto -ljansson

# DESTDIR: apxs has none, so its LIBEXECDIR is redirected under it.
# On Debian (mods-available exists) orderstream.load, which says
# "Depends: dbd" so that a2enmod enables mod_dbd too, and the
# all-commented conf/debian/orderstream.conf go to mods-available; the
# package (make deb) installs the same two files.
LIBEXECDIR := $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
MODS_AVAILABLE ?= /etc/apache2/mods-available
LOAD    := .libs/orderstream.load
DEBIAN_CONF := $(LOAD) conf/debian/orderstream.conf

# Made, not kept: its LoadModule line names where apxs installs modules.
$(LOAD): Makefile
	@mkdir -p $(dir $@)
	printf '# Depends: dbd\nLoadModule orderstream_module %s/mod_orderstream.so\n' \
	    '$(LIBEXECDIR)' >$@

install: $(MODULE) $(LOAD)
	mkdir -p $(DESTDIR)$(LIBEXECDIR)
	$(APXS) -i -S LIBEXECDIR=$(DESTDIR)$(LIBEXECDIR) -n orderstream \
	    mod_orderstream.la
	@if [ -d $(MODS_AVAILABLE) ]; then \
	    echo "install -m 644 $(DEBIAN_CONF) $(DESTDIR)$(MODS_AVAILABLE)/"; \
	    mkdir -p $(DESTDIR)$(MODS_AVAILABLE) && \
	    install -m 644 $(DEBIAN_CONF) $(DESTDIR)$(MODS_AVAILABLE)/; \
	fi

uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -e $(dir $(MODS_AVAILABLE))mods-enabled/orderstream.load ]; then \
	    echo "a2dismod orderstream"; a2dismod -q orderstream; fi
	rm -f $(DESTDIR)$(LIBEXECDIR)/mod_orderstream.so \
	    $(addprefix $(DESTDIR)$(MODS_AVAILABLE)/,$(notdir $(DEBIAN_CONF)))

# The package, built by dpkg-buildpackage in a copy of the tree's files
# (tracked and not ignored) under .deb-build/src, so the build leaves
# nothing in the tree; the .deb lands in .deb-build/.
deb:
	rm -rf .deb-build && mkdir -p .deb-build/src
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z --cached --others --exclude-standard \
	    | xargs -0 sh -c 'for f; do [ ! -e "$$f" ] || printf "%s\0" "$$f"; done' sh \
	    | tar --null -cf - -T - | tar -xf - -C .deb-build/src; \
	else \
	    tar -cf - --exclude=./.deb-build --exclude=./.libs . \
	    | tar -xf - -C .deb-build/src; \
	fi
	cd .deb-build/src && dpkg-buildpackage -us -uc -b
	@ls .deb-build/*.deb

# Installs the Debian packages this needs (or says which, when not root).
deps:
	@bash t/bin/deps

t/unit/test_csv: t/unit/test_csv.c $(call src,os_csv.c os_csv.h)
	$(CC) $(WARN) $(SRC_INC) -O2 -g -o $@ t/unit/test_csv.c $(call src,os_csv.c)

APR_CONFIG ?= $(shell $(APXS) -q APR_CONFIG 2>/dev/null || echo apr-1-config)
t/unit/test_params: t/unit/test_params.c \
	    $(call src,os_params.c os_params.h os_format.c os_format.h) \
	    $(call src,os_utf8.c os_utf8.h os_date.c os_date.h)
	$(CC) $(WARN) $(SRC_INC) -O2 -g $(shell $(APR_CONFIG) --cppflags --includes) \
	    -o $@ t/unit/test_params.c \
	    $(call src,os_params.c os_format.c os_utf8.c os_date.c) \
	    $(shell $(APR_CONFIG) --link-ld)

t/unit/test_sql: t/unit/test_sql.c $(call src,os_sql.c os_sql.h)
	$(CC) $(WARN) $(SRC_INC) -O2 -g $(shell $(APR_CONFIG) --cppflags --includes) \
	    -o $@ t/unit/test_sql.c $(call src,os_sql.c) \
	    $(shell $(APR_CONFIG) --link-ld)

# Under valgrind too: the formatter writes into buffers sized by a
# worst-case macro, and an overrun there must fail here, not in httpd.
t/unit/test_format: t/unit/test_format.c $(call src,os_format.c os_format.h)
	$(CC) $(WARN) $(SRC_INC) -O2 -g $(shell $(APR_CONFIG) --cppflags --includes) \
	    -o $@ t/unit/test_format.c $(call src,os_format.c) \
	    $(shell $(APR_CONFIG) --link-ld)

# os_metrics.h's types come with httpd's and libpq's headers; nothing of
# httpd is linked.
t/unit/test_metrics: t/unit/test_metrics.c t/unit/unit.h \
	    $(call src,os_metrics.c os_metrics.h os_tally.c os_tally.h) \
	    $(call src,os_status.h os_utf8.c os_utf8.h)
	$(CC) $(WARN) $(SRC_INC) -O2 -g $(shell $(APR_CONFIG) --cppflags --includes) \
	    -I$(shell $(APXS) -q INCLUDEDIR) -I$(PG_INC) \
	    -o $@ t/unit/test_metrics.c \
	    $(call src,os_metrics.c os_tally.c os_utf8.c) \
	    $(shell $(APR_CONFIG) --link-ld)

# OrderStreamMinRate's window and OrderStreamMaxDuration, on a made-up
# clock.
t/unit/test_pace: t/unit/test_pace.c $(call src,os_pace.c os_pace.h) t/unit/unit.h
	$(CC) $(WARN) $(SRC_INC) -O2 -g $(shell $(APR_CONFIG) --cppflags --includes) \
	    -o $@ t/unit/test_pace.c $(call src,os_pace.c) \
	    $(shell $(APR_CONFIG) --link-ld)

# The XLSX writer with libarchive and zlib, no server. Reads workbooks back
# with Debian's python3 and its openpyxl (/usr/bin/python3: not whatever
# python3 comes first in PATH).
XLSX_SRCS := $(call src,os_xlsx.c os_xlsx_cell.c os_xlsx_zip.c os_utf8.c \
	os_date.c)
XLSX_HDRS := $(call src,os_xlsx.h os_xlsx_cell.h os_xlsx_zip.h os_utf8.h \
	os_date.h)
t/unit/test_xlsx: t/unit/test_xlsx.c $(XLSX_SRCS) $(XLSX_HDRS) t/unit/unit.h
	$(CC) $(WARN) $(SRC_INC) -O2 -g $(shell $(APR_CONFIG) --cppflags --includes) \
	    -o $@ t/unit/test_xlsx.c $(XLSX_SRCS) \
	    $(shell $(APR_CONFIG) --link-ld) -larchive -lz

# The XLSX writer alone on synthetic shop rows: rows/s per deflate level,
# sizes, memory per sheet (figures for the README; not in make test).
bench/xlsx_writer: bench/xlsx_writer.c $(XLSX_SRCS) $(XLSX_HDRS) \
	    $(call src,os_csv.c)
	$(CC) $(WARN) $(SRC_INC) -O2 -g $(shell $(APR_CONFIG) --cppflags --includes) \
	    -o $@ bench/xlsx_writer.c $(XLSX_SRCS) $(call src,os_csv.c) \
	    $(shell $(APR_CONFIG) --link-ld) -larchive -lz

# Django's signed tokens, against vectors Django made (token_vectors.py).
t/unit/test_token: t/unit/test_token.c t/unit/token_vectors.h \
	    $(call src,os_token.c os_token.h) t/unit/unit.h
	$(CC) $(WARN) $(SRC_INC) -O2 -g $(shell $(APR_CONFIG) --cppflags --includes) \
	    -o $@ t/unit/test_token.c $(call src,os_token.c) \
	    $(shell $(APR_CONFIG) --link-ld) -lcrypto -ljansson

UNIT := t/unit/test_csv t/unit/test_params t/unit/test_sql t/unit/test_format \
	t/unit/test_xlsx t/unit/test_metrics t/unit/test_pace t/unit/test_token
# Leaks count as errors: the XLSX writer's pool cleanup must free
# libarchive's and zlib's malloc'd state when a download is abandoned.
# test_metrics --print is a scrape as the module writes it: promtool
# (Debian's prometheus) must accept it.
unit: $(UNIT)
	@for u in $(UNIT); do echo "$$u"; $$u || exit 1; \
	    valgrind -q --error-exitcode=1 --leak-check=full \
	        --errors-for-leak-kinds=definite $$u >/dev/null || exit 1; done
	@echo "t/unit/test_metrics --print | promtool check metrics"
	@t/unit/test_metrics --print | promtool check metrics
	@echo "contrib/django: manage.py test shopsite (Django's test client)"
	@cd contrib/django && /usr/bin/python3 -B manage.py test -v 0 shopsite
	@$(MAKE) --no-print-directory fuzz-replay

# ---- fuzzing: libFuzzer targets in t/fuzz (README, "Fuzzing") ----------
# Each target is built with clang under ASan and UBSan; everything they
# make (binaries, the grown corpus, crash inputs, logs) goes under
# FUZZ_DIR, which git ignores. fuzz.c says why apr_palloc is wrapped.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_DIR := t/tmp/fuzz
FUZZ_CFLAGS := $(WARN) $(SRC_INC) -std=gnu99 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(shell $(APR_CONFIG) --cppflags --cflags --includes)
FUZZ_LDFLAGS := -Wl,--wrap=apr_palloc,--wrap=apr_pstrdup \
	-Wl,--wrap=apr_pstrndup,--wrap=apr_pmemdup \
	$(shell $(APR_CONFIG) --link-ld --libs)
FUZZ_TARGETS :=

# $(call fuzz_target,NAME,SOURCES[,LIBS]): t/fuzz/fuzz_NAME.c against
# SOURCES (and libraries they need beyond APR, e.g. -lz), seeds in
# t/fuzz/corpus/NAME/, regression inputs in t/fuzz/regress/NAME/.
define fuzz_target
FUZZ_TARGETS += $(1)
$(FUZZ_DIR)/bin/$(1): t/fuzz/fuzz_$(1).c t/fuzz/fuzz.c t/fuzz/fuzz.h \
	    $(2) $(2:.c=.h) Makefile
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ t/fuzz/fuzz_$(1).c t/fuzz/fuzz.c \
	    $(2) $$(FUZZ_LDFLAGS) $(3)
endef
# One line per target.
$(eval $(call fuzz_target,params,$(call src,os_params.c os_format.c \
	os_utf8.c os_date.c)))
$(eval $(call fuzz_target,accept,$(call src,os_format.c)))
$(eval $(call fuzz_target,file_name,$(call src,os_format.c)))
$(eval $(call fuzz_target,sql,$(call src,os_sql.c)))
$(eval $(call fuzz_target,csv,$(call src,os_csv.c)))
$(eval $(call fuzz_target,tsv,$(call src,os_format.c)))
$(eval $(call fuzz_target,json,$(call src,os_format.c)))
$(eval $(call fuzz_target,xlsx,$(call src,os_xlsx_cell.c os_utf8.c os_date.c)))
$(eval $(call fuzz_target,token,$(call src,os_token.c),-lcrypto -ljansson))
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/bin/%)

# The committed inputs of target $$t (seeds and regression inputs), as
# shell words.
fuzz_inputs = $$(find t/fuzz/corpus/$$t t/fuzz/regress/$$t -type f \
	2>/dev/null | sort)

# Every committed input through its target once (seconds, in make unit):
# a crash or a failed property on any of them fails. Given files rather
# than directories, libFuzzer runs each once and fuzzes nothing.
fuzz-replay: $(FUZZ_BINS)
	@mkdir -p $(FUZZ_DIR)/log
	@for t in $(FUZZ_TARGETS); do \
	    inputs="$(fuzz_inputs)"; log=$(FUZZ_DIR)/log/replay-$$t.log; \
	    if [ -z "$$inputs" ]; then echo "fuzz $$t: no inputs"; exit 1; fi; \
	    echo "fuzz $$t: replaying $$(echo $$inputs | wc -w) inputs"; \
	    $(FUZZ_DIR)/bin/$$t $$inputs >$$log 2>&1 \
	        || { tail -n 40 $$log; echo "fuzz $$t: FAILED"; exit 1; }; \
	done

# Each target for FUZZ_SECONDS, one after the other, from the committed
# inputs and the corpus grown by earlier runs ($(FUZZ_DIR)/corpus, where
# new inputs go). Crash inputs land in $(FUZZ_DIR)/crashes/NAME/; the run
# goes on with the next target and fails at the end.
# FUZZ_TARGET=NAME runs that one only (make fuzz FUZZ_TARGET=token).
fuzz: deps $(FUZZ_BINS)
	@failed=; for t in $(or $(FUZZ_TARGET),$(FUZZ_TARGETS)); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes/$$t \
	        $(FUZZ_DIR)/log; \
	    log=$(FUZZ_DIR)/log/fuzz-$$t.log; \
	    echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
	    $(FUZZ_DIR)/bin/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	        -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/crashes/$$t/ \
	        $$( [ -f t/fuzz/$$t.dict ] && echo -dict=t/fuzz/$$t.dict ) \
	        $(FUZZ_DIR)/corpus/$$t t/fuzz/corpus/$$t \
	        $$(ls -d t/fuzz/regress/$$t 2>/dev/null) >$$log 2>&1 \
	        || { tail -n 40 $$log; failed="$$failed $$t"; }; \
	    grep -E '^(Done |stat::(number_of_executed_units|new_units_added))' \
	        $$log | sed "s/^/    /"; \
	done; \
	if [ -n "$$failed" ]; then \
	    echo "fuzz: crashed:$$failed (inputs in $(FUZZ_DIR)/crashes/)"; \
	    exit 1; fi

demo: deps
	@$(MAKE) --no-print-directory all
	@MODULE_SO=$(CURDIR)/$(MODULE) APXS=$(APXS) HTTPD=$(HTTPD) bash t/bin/demo

# No #include in src/ runs up a layer, and no two units use each other.
layers:
	@python3 t/bin/layers $(LAYERS)

test: deps
	@$(MAKE) --no-print-directory layers all unit
	@MODULE_SO=$(CURDIR)/$(MODULE) APXS=$(APXS) HTTPD=$(HTTPD) bash t/run

stress: deps
	@$(MAKE) --no-print-directory all
	@MODULE_SO=$(CURDIR)/$(MODULE) APXS=$(APXS) HTTPD=$(HTTPD) bash t/stress/run

# BENCH_ROWS (2000000), BENCH_ROUNDS (5), BENCH_SWEEP_MAX (20000000): see bench/run.
bench: deps
	@$(MAKE) --no-print-directory all
	@MODULE_SO=$(CURDIR)/$(MODULE) APXS=$(APXS) HTTPD=$(HTTPD) bash bench/run

# httpd must load the ASan runtime first, so only httpd gets it preloaded
# (through t/bin/httpd-asan); leak checks are off because httpd frees its
# pools at exit only. Rebuilds normally afterwards.
asan: deps
	@$(MAKE) --no-print-directory clean
	@$(MAKE) --no-print-directory all SANITIZE=address
	@MODULE_SO=$(CURDIR)/$(MODULE) APXS=$(APXS) \
	    HTTPD="$(CURDIR)/t/bin/httpd-asan" REAL_HTTPD=$(HTTPD) \
	    bash t/run; rc=$$?; $(MAKE) --no-print-directory clean; \
	    if ls t/logs/asan.* >/dev/null 2>&1; then cat t/logs/asan.*; exit 1; fi; \
	    exit $$rc

clean:
	rm -rf .deb-build .libs src/.libs src/*/.libs *.la *.lo *.slo *.o \
	       src/*.lo src/*.slo src/*.o src/*/*.lo src/*/*.slo src/*/*.o \
	       $(UNIT) $(FUZZ_DIR)/bin bench/xlsx_writer
