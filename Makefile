# Patron. `make` builds, `make demo` and `make check` first install what is
# missing (scripts/install-deps.sh). See README.md.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
PKGS    := sqlite3 jansson lua5.4 libsodium libmicrohttpd libcurl
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -std=c11 -Wall -Wextra -Werror -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -pthread
SAN     ?=
ifneq ($(SAN),)
  CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LDFLAGS += -fsanitize=address,undefined
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
# libcsv ships no pkg-config file, so it is named directly.
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lcsv -ldl -lm -pthread
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)

CORE_SRC := core/util.c core/csv.c core/value.c core/strmap.c core/store.c core/import.c \
            core/import_orders.c core/import_batch.c core/rows.c core/rates.c core/formats.c $(wildcard core/formats/*.c) \
            core/snapshot.c core/config.c core/plugin.c core/bus.c core/view.c \
            core/rules.c core/rules_scan.c core/actions.c core/event_import.c core/template.c core/mime.c \
            core/profile.c core/consent.c core/outbox.c core/results.c core/design.c core/metrics.c core/learn.c \
            core/backup.c core/privacy.c \
            core/inbox/mail.c core/inbox/inbox.c core/inbox/mailbox.c core/inbox/tickets.c core/inbox/imap.c core/inbox/entities.c \
            core/inbox/faq.c core/inbox/survey.c plugins/text/text.c \
            core/report/kpi.c core/report/svg.c core/report/report.c \
            core/serve/hooks.c core/serve/ingest.c core/serve/tokens.c \
            core/serve/pages.c core/serve/server.c
CLI_SRC  := $(wildcard core/cli/*.c)
GEN_SRC  := scripts/gen/gen.c
UNIT_SRC := $(wildcard tests/unit/*.c)

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
GEN_OBJ  := $(GEN_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)

PATRON     := $(BUILD)/patron
PATRON_GEN := $(BUILD)/patron-gen
UNIT       := $(BUILD)/unit-tests

# Plugins see only the SDK: -Isdk, never core/.
PLUGIN_CFLAGS = $(WARN) $(CFLAGS) -fPIC -Isdk
# JOB.NAME, built from plugins/NAME/NAME.c
PLUGIN_NAMES := segment.tiers segment.rfm segment.kmeans value.clv \
                recommend.popular recommend.itemknn recommend.als churn.logreg churn.forest \
                churn.nbayes churn.mlp churn.tree churn.svm churn.palive \
                channel.outbox-file channel.smtp channel.webhook forecast.holtwinters \
                sentiment.lexicon sentiment.textnb forecast.theta intent.bayes intent.linear
PLUGINS      := $(PLUGIN_NAMES:%=$(BUILD)/plugins/%.so)
# Refused on purpose by the tests: each a build flag of tests/plugins/broken.c.
TEST_PLUGINS := $(addprefix $(BUILD)/test-plugins/,no-entry.so bad-abi.so init-fails.so \
                unknown-kind.so twin-a.so twin-b.so old-abi.so text.so \
                crash-channel.so crash-segmenter.so)

.PHONY: all deps deps-test build-all demo check check-asan test bench bench-quick install clean fuzz \
        check-long

all: $(PATRON) $(PATRON_GEN) $(PLUGINS)

deps:
	@scripts/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -Icore -MMD -MP -c $< -o $@

$(BUILD)/obj/core/plugin.o: CFLAGS += -DPATRON_PREFIX='"$(PREFIX)"'

# Every .c of plugins/NAME/ goes into the plugin, with PLUGIN_SRC_NAME (code shared
# between plugins); PLUGIN_LIBS_NAME adds libraries.
RECS_SRC := plugins/recs/recs.c plugins/recs/recs.h plugins/common/parallel.h plugins/common/random.h
PLUGIN_SRC_popular = $(RECS_SRC)
PLUGIN_SRC_itemknn = $(RECS_SRC)
PLUGIN_SRC_als = $(RECS_SRC)
PLUGIN_CFLAGS_popular = -Iplugins/recs
PLUGIN_CFLAGS_itemknn = -Iplugins/recs
# -O3: the conjugate-gradient loops over the factors vectorize.
PLUGIN_CFLAGS_als = -Iplugins/recs $(shell pkg-config --cflags openblas) -O3
SUP_SRC := plugins/supervised/supervised.c plugins/supervised/supervised.h \
           plugins/common/parallel.h plugins/common/random.h
PLUGIN_SRC_logreg = $(SUP_SRC)
PLUGIN_CFLAGS_logreg = -Iplugins/supervised $(shell pkg-config --cflags openblas jansson)
PLUGIN_LIBS_logreg = -pthread $(shell pkg-config --libs openblas jansson)
PLUGIN_SRC_forest = $(SUP_SRC)
PLUGIN_CFLAGS_forest = -Iplugins/supervised $(shell pkg-config --cflags jansson)
PLUGIN_LIBS_forest = -pthread $(shell pkg-config --libs jansson)
PLUGIN_SRC_tree = $(SUP_SRC) plugins/forest/cart.c plugins/forest/cart_json.c
PLUGIN_CFLAGS_tree = -Iplugins/supervised -Iplugins/forest $(shell pkg-config --cflags jansson)
PLUGIN_LIBS_tree = -pthread $(shell pkg-config --libs jansson)
PLUGIN_SRC_palive = $(SUP_SRC) plugins/clv/bgnbd.c
PLUGIN_CFLAGS_palive = -Iplugins/supervised $(shell pkg-config --cflags jansson gsl)
PLUGIN_LIBS_palive = -pthread $(shell pkg-config --libs jansson gsl)
PLUGIN_SRC_svm = $(SUP_SRC)
PLUGIN_CFLAGS_svm = -Iplugins/supervised $(shell pkg-config --cflags jansson) -O3
PLUGIN_LIBS_svm = -pthread $(shell pkg-config --libs jansson)
PLUGIN_SRC_nbayes = $(SUP_SRC)
PLUGIN_CFLAGS_nbayes = -Iplugins/supervised $(shell pkg-config --cflags jansson)
PLUGIN_LIBS_nbayes = -pthread $(shell pkg-config --libs jansson)
PLUGIN_SRC_mlp = $(SUP_SRC)
PLUGIN_CFLAGS_mlp = -Iplugins/supervised $(shell pkg-config --cflags jansson)
PLUGIN_LIBS_mlp = -pthread $(shell pkg-config --libs jansson)
PLUGIN_LIBS_popular = -pthread
PLUGIN_LIBS_itemknn = -pthread
PLUGIN_LIBS_als = -pthread $(shell pkg-config --libs openblas)
PLUGIN_LIBS_clv = $(shell pkg-config --libs gsl)
PLUGIN_CFLAGS_clv = $(shell pkg-config --cflags gsl)
PLUGIN_LIBS_kmeans = $(shell pkg-config --libs gsl) -pthread
PLUGIN_LIBS_holtwinters = $(shell pkg-config --libs gsl)
PLUGIN_LIBS_theta = $(shell pkg-config --libs gsl)
PLUGIN_CFLAGS_theta = $(shell pkg-config --cflags gsl)
TEXT_SRC = plugins/text/text.c
PLUGIN_SRC_lexicon = $(TEXT_SRC)
PLUGIN_CFLAGS_lexicon = -Iplugins/text
PLUGIN_SRC_textnb = $(TEXT_SRC)
PLUGIN_CFLAGS_textnb = -Iplugins/text $(shell pkg-config --cflags jansson)
PLUGIN_LIBS_textnb = $(shell pkg-config --libs jansson)
TEXTCLASS_SRC = $(TEXT_SRC) plugins/text/tfidf.c plugins/text/textclass.c
PLUGIN_SRC_bayes = $(TEXTCLASS_SRC)
PLUGIN_CFLAGS_bayes = -Iplugins/text $(shell pkg-config --cflags jansson)
PLUGIN_LIBS_bayes = $(shell pkg-config --libs jansson)
PLUGIN_SRC_linear = $(TEXTCLASS_SRC)
PLUGIN_CFLAGS_linear = -Iplugins/text $(shell pkg-config --cflags jansson gsl)
PLUGIN_LIBS_linear = $(shell pkg-config --libs jansson gsl)
PLUGIN_CFLAGS_holtwinters = $(shell pkg-config --cflags gsl)
PLUGIN_CFLAGS_kmeans = $(shell pkg-config --cflags gsl)
PLUGIN_LIBS_outbox-file = $(shell pkg-config --libs jansson)
PLUGIN_LIBS_smtp = $(shell pkg-config --libs libcurl)
PLUGIN_CFLAGS_smtp = $(shell pkg-config --cflags libcurl)
PLUGIN_LIBS_webhook = $(shell pkg-config --libs libcurl libsodium jansson)
PLUGIN_CFLAGS_webhook = $(shell pkg-config --cflags libcurl libsodium jansson)
define plugin_rule
$(BUILD)/plugins/$(1).so: $(wildcard plugins/$(2)/*.c plugins/$(2)/*.h) $$(PLUGIN_SRC_$(2)) \
		sdk/patron/plugin.h
	@mkdir -p $$(dir $$@)
	$$(CC) $$(PLUGIN_CFLAGS) $$(PLUGIN_CFLAGS_$(2)) -shared $(wildcard plugins/$(2)/*.c) \
		$$(filter %.c,$$(PLUGIN_SRC_$(2))) -o $$@ $$(LDFLAGS) $$(PLUGIN_LIBS_$(2)) -lm
endef
$(foreach p,$(PLUGIN_NAMES),$(eval $(call plugin_rule,$(p),$(lastword $(subst ., ,$(p))))))

$(BUILD)/test-plugins/%.so: tests/plugins/broken.c sdk/patron/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -shared -D$(shell echo $* | tr a-z- A-Z_ | sed 's/TWIN_[AB]/TWIN/') \
		$< -o $@ $(LDFLAGS)

# Plugins that crash on purpose (tests/plugins/crash.c), a build flag each.
$(BUILD)/test-plugins/crash-channel.so $(BUILD)/test-plugins/crash-segmenter.so: \
		tests/plugins/crash.c sdk/patron/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -shared -D$(if $(findstring channel,$@),CHANNEL,SEGMENTER) \
		$< -o $@ $(LDFLAGS)

$(BUILD)/test-plugins/text.so:
	@mkdir -p $(dir $@)
	echo "this is a text file, not a shared object" > $@

$(PATRON): $(CORE_OBJ) $(CLI_OBJ) $(GEN_OBJ)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(PATRON_GEN): $(BUILD)/obj/scripts/gen/main.o $(GEN_OBJ) $(BUILD)/obj/core/value.o
	$(CC) $(LDFLAGS) $^ -lm -o $@

# The models' maths, shared by the plugins and their known-answer tests.
CLV_OBJ := $(BUILD)/obj/plugins/clv/bgnbd.o $(BUILD)/obj/plugins/kmeans/lloyd.o \
           $(BUILD)/obj/plugins/itemknn/knn.o $(BUILD)/obj/plugins/logreg/irls.o \
           $(BUILD)/obj/plugins/logreg/spd.o $(BUILD)/obj/plugins/forest/cart.o \
           $(BUILD)/obj/plugins/nbayes/nb.o $(BUILD)/obj/plugins/holtwinters/hw.o \
           $(BUILD)/obj/plugins/text/tfidf.o \
           $(BUILD)/obj/plugins/lexicon/score.o \
           $(BUILD)/obj/plugins/textnb/mnb.o $(BUILD)/obj/plugins/theta/theta_fit.o \
           $(BUILD)/obj/plugins/tree/prune.o $(BUILD)/obj/plugins/svm/dcd.o
GSL_LIBS = $(shell pkg-config --libs gsl)

$(BUILD)/obj/plugins/%.o: plugins/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -Iplugins/text -Iplugins/forest $(shell pkg-config --cflags gsl openblas) -MMD -MP -c $< -o $@

$(UNIT): $(UNIT_OBJ) $(CORE_OBJ) $(CLV_OBJ)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(CHECK_LIBS) $(GSL_LIBS) \
		$(shell pkg-config --libs openblas) -pthread -o $@

# Builds use every core (half the time on two); the tests run as before.
NPROC := $(shell nproc 2>/dev/null || echo 1)

demo: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@mkdir -p $(BUILD)/demo
	./$(PATRON) --db $(BUILD)/demo/patron.db demo

# The unit suites (Check), then the end-to-end suites; the last line counts both.
test: all $(UNIT) $(TEST_PLUGINS)
	@tests/run.sh $(BUILD)

# What the tests alone need (make demo does not install them): Debian's
# chromium, which renders the report, and jq, which reads JSON output.
TEST_DEPS = chromium chromium-driver jq dovecot-imapd
deps-test:
	@scripts/install-deps.sh $(TEST_DEPS)

# Everything the tests run, built (on every core, by check and check-asan).
build-all: all $(UNIT) $(TEST_PLUGINS)

check: deps-test
	@$(MAKE) --no-print-directory -j$(NPROC) build-all
	@$(MAKE) --no-print-directory test

# intercept_tls_get_addr=0: the sanitizer runtime of Debian 12's gcc can crash
# in LeakSanitizer's tracer at exit once a library with dynamic TLS is loaded
# (OpenBLAS, by the ALS and logreg plugins): google/sanitizers#1267, fixed in
# LLVM 17 (D147459). Leaks are still looked for.
check-asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 -j$(NPROC) build-all
	@ASAN_OPTIONS=intercept_tls_get_addr=0$${ASAN_OPTIONS:+:$$ASAN_OPTIONS} \
		$(MAKE) --no-print-directory BUILD=build-asan SAN=1 test

# The peers (the sqlite3 shell, GNU time, scikit-learn, and pandas for the
# churn baselines) are installed here, not by `make check`.
BENCH_PEERS := sqlite3 time bc jq python3-sklearn python3-pandas wrk

$(BUILD)/bench-kmeans: scripts/bench/kmeans.c $(BUILD)/obj/plugins/kmeans/lloyd.o
	$(CC) $(WARN) $(CFLAGS) $(shell pkg-config --cflags gsl) $^ -o $@ $(LDFLAGS) \
		$(shell pkg-config --libs gsl) -pthread -lm

bench: deps
	@scripts/install-deps.sh $(BENCH_PEERS)
	@$(MAKE) --no-print-directory all $(BUILD)/bench-kmeans
	@scripts/bench.sh $(BUILD) full

bench-quick: deps
	@scripts/install-deps.sh $(BENCH_PEERS)
	@$(MAKE) --no-print-directory all $(BUILD)/bench-kmeans
	@scripts/bench.sh $(BUILD) quick

# Crash safety, proven long: SIGKILL at random points during import, run
# and deliver (KILLS times each), compared with runs never interrupted.
check-long: deps
	@$(MAKE) --no-print-directory all
	@scripts/check-long.sh $(BUILD)

# Fuzzing (libFuzzer, clang): each tests/fuzz/NAME.c against the core,
# built with the address and undefined-behaviour sanitizers, run for
# FUZZ_SECONDS on a copy of its seed corpus (tests/fuzz/corpus/NAME). Not
# part of make check; a crash found becomes a regression test.
FUZZ         := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := csv values template config mime events webhooks tokens mail
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=all
FUZZ_OBJ     := $(CORE_SRC:%.c=$(FUZZ)/obj/%.o)
.SECONDARY: $(FUZZ_OBJ)

$(FUZZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(WARN) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ)/fuzz-%: tests/fuzz/%.c tests/fuzz/common.h $(FUZZ_OBJ)
	clang $(WARN) $(FUZZ_FLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) $< $(FUZZ_OBJ) \
		$(PKG_LIBS) -o $@

fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ)/fuzz-%)
	@for t in $(FUZZ_TARGETS); do \
		rm -rf $(FUZZ)/work-$$t; mkdir -p $(FUZZ)/work-$$t; \
		$(FUZZ)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ)/crash-$$t- $(FUZZ)/work-$$t tests/fuzz/corpus/$$t \
			>$(FUZZ)/$$t.log 2>&1; rc=$$?; \
		echo "fuzz $$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ)/$$t.log) runs in $(FUZZ_SECONDS) s, $$(ls $(FUZZ)/work-$$t | wc -l) inputs in the corpus, $$( [ $$rc -eq 0 ] && echo 'no crash' || echo "CRASH: see $(FUZZ)/$$t.log")"; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/patron/plugins \
		$(DESTDIR)$(PREFIX)/include/patron $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/share/patron
	install -m 755 $(PATRON) $(PATRON_GEN) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(PLUGINS) $(DESTDIR)$(PREFIX)/lib/patron/plugins/
	install -m 644 sdk/patron/plugin.h $(DESTDIR)$(PREFIX)/include/patron/
	sed 's|@PREFIX@|$(PREFIX)|' sdk/patron-sdk.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/patron-sdk.pc
	cp -R examples $(DESTDIR)$(PREFIX)/share/patron/

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
