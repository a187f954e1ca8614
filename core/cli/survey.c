/* patron survey: satisfaction answers recorded, imported, and summed up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../inbox/survey.h"
#include "../value.h"
#include "cli.h"

int cli_survey_summary(cli *c, patron_store *s, int days, json_t **out)
{
	sqlite3 *db = patron_store_db(s);
	sqlite3_stmt *st;
	int64_t since = c->now - (int64_t)days * 86400;
	/* each customer's latest answer of each kind in the period */
	if (sqlite3_prepare_v2(db, "WITH latest AS (SELECT a.*, row_number() OVER (PARTITION BY"
			       " customer_id, kind ORDER BY answered_at DESC, id DESC) AS k FROM"
			       " survey_answers a WHERE answered_at > ?1 AND answered_at <= ?2)"
			       " SELECT kind, count(*), sum(score >= 9), sum(score <= 6), avg(score),"
			       " sum(score >= 4) FROM latest WHERE k = 1 GROUP BY kind", -1, &st,
			       NULL) != SQLITE_OK)
		return cli_fail(EXIT_FAIL, "reading the surveys: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, c->now);
	json_t *j = json_pack("{s:i, s:n, s:n, s:i, s:i}", "days", days, "nps", "csat",
			      "nps_answers", 0, "csat_answers", 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		double n = sqlite3_column_double(st, 1);
		if (strcmp(kind, "nps") == 0) {
			/* promoters (9-10) less detractors (0-6), in % of answers */
			json_object_set_new(j, "nps", json_real(100 * (sqlite3_column_double(st, 2) -
								       sqlite3_column_double(st, 3)) / n));
			json_object_set_new(j, "nps_answers", json_integer((json_int_t)n));
		} else {
			/* the share answering 4 or 5 */
			json_object_set_new(j, "csat", json_real(100 * sqlite3_column_double(st, 5) / n));
			json_object_set_new(j, "csat_mean", json_real(sqlite3_column_double(st, 4)));
			json_object_set_new(j, "csat_answers", json_integer((json_int_t)n));
		}
	}
	sqlite3_finalize(st);
	/* detractors to follow up: their latest NPS answer 0-6, the period's */
	json_t *det = json_array();
	if (sqlite3_prepare_v2(db, "WITH latest AS (SELECT a.*, row_number() OVER (PARTITION BY"
			       " customer_id ORDER BY answered_at DESC, id DESC) AS k FROM"
			       " survey_answers a WHERE kind = 'nps' AND answered_at > ?1 AND"
			       " answered_at <= ?2) SELECT l.customer_id, l.score, l.answered_at,"
			       " coalesce(l.comment, ''), (SELECT value FROM identities WHERE customer_id"
			       " = l.customer_id AND kind = 'email' ORDER BY value LIMIT 1) FROM latest l"
			       " WHERE k = 1 AND score <= 6 ORDER BY score, answered_at DESC LIMIT 50",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, since);
		sqlite3_bind_int64(st, 2, c->now);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char d[32];
			json_array_append_new(det, json_pack(
				"{s:I, s:i, s:s, s:s, s:s?}", "customer_id",
				(json_int_t)sqlite3_column_int64(st, 0), "score",
				sqlite3_column_int(st, 1), "answered_at",
				patron_format_day(sqlite3_column_int64(st, 2), d), "comment",
				(const char *)sqlite3_column_text(st, 3), "email",
				(const char *)sqlite3_column_text(st, 4)));
		}
		sqlite3_finalize(st);
	}
	json_object_set_new(j, "detractors", det);
	/* NPS by month, the last twelve */
	json_t *months = json_array();
	if (sqlite3_prepare_v2(db, "SELECT strftime('%Y-%m', answered_at, 'unixepoch') AS m,"
			       " count(*), sum(score >= 9), sum(score <= 6) FROM survey_answers"
			       " WHERE kind = 'nps' AND answered_at <= ?1 GROUP BY m ORDER BY m DESC"
			       " LIMIT 12", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, c->now);
		while (sqlite3_step(st) == SQLITE_ROW) {
			double n = sqlite3_column_double(st, 1);
			json_array_insert_new(months, 0, json_pack(
				"{s:s, s:i, s:f}", "month", (const char *)sqlite3_column_text(st, 0),
				"answers", (int)n, "nps", 100 * (sqlite3_column_double(st, 2) -
							       sqlite3_column_double(st, 3)) / n));
		}
		sqlite3_finalize(st);
	}
	json_object_set_new(j, "nps_by_month", months);
	*out = j;
	return EXIT_OK;
}

static int survey(cli *c, int argc, char **argv)
{
	if (argc < 2)
		argc = 1;
	const char *what = argc >= 2 && argv[1][0] != '-' ? argv[1] : "summary";
	int first = strcmp(what, "summary") == 0 && (argc < 2 || argv[1][0] == '-') ? 1 : 2;
	if (strcmp(what, "record") == 0) {
		const char *token = NULL, *score_s = NULL, *comment = NULL;
		for (int i = 2; i < argc; i++) {
			const char *v;
			int r;
			if ((r = cli_opt_value(argc, argv, &i, "--comment", &v)) != 0) {
				if (r < 0)
					return cli_usage(&cmd_survey, "--comment needs the text");
				comment = v;
			} else if (!token) {
				token = argv[i];
			} else if (!score_s) {
				score_s = argv[i];
			} else {
				return cli_usage(&cmd_survey, "unexpected argument \"%s\"", argv[i]);
			}
		}
		if (!token)
			return cli_usage(&cmd_survey, "record: expected TOKEN [SCORE]");
		patron_store *s = cli_store(c);
		if (!s)
			return EXIT_FAIL;
		unsigned char key[32];
		patron_err err;
		int64_t id, given = -1;
		int score;
		int k = patron_survey_key(s, 0, key, &err);
		if (k < 0)
			return cli_fail(EXIT_FAIL, "%s", err.msg);
		if (k == 1 || !patron_survey_check(key, token, &id, &score))
			return cli_fail(EXIT_FAIL, "\"%s\" is not a survey token of this store (it "
					"may have been changed or copied only in part)", token);
		if (score_s && (patron_parse_int(score_s, &given) < 0 || given < 0 || given > 10))
			return cli_usage(&cmd_survey, "record: SCORE is a whole number from 0 to 10, "
					 "got \"%s\"", score_s);
		if (score >= 0 && given >= 0 && given != score)
			return cli_fail(EXIT_FAIL, "the token says %d, not %lld", score,
					(long long)given);
		if (score < 0 && given < 0)
			return cli_usage(&cmd_survey, "record: this token carries no score: give "
					 "SCORE");
		if (score < 0)
			score = (int)given;
		if (patron_survey_record(s, id, score, comment, "cli", c->now, &err) < 0)
			return cli_fail(EXIT_FAIL, "%s", err.msg);
		if (c->json)
			cli_print_json(json_pack("{s:I, s:i}", "survey", (json_int_t)id, "score", score));
		else
			printf("survey %lld: %d recorded\n", (long long)id, score);
		return EXIT_OK;
	}
	if (strcmp(what, "import") == 0) {
		if (argc < 3)
			return cli_usage(&cmd_survey, "import: expected FILE.csv");
		patron_store *s = cli_store(c);
		if (!s)
			return EXIT_FAIL;
		int rc = EXIT_OK;
		for (int i = 2; i < argc; i++) {
			int64_t n;
			patron_err err;
			if (patron_survey_import(s, argv[i], c->now, &n, &err) < 0) {
				rc = cli_fail(EXIT_FAIL, "%s", err.msg);
				break;
			}
			if (c->json)
				cli_print_json(json_pack("{s:s, s:I}", "file", argv[i], "answers",
							 (json_int_t)n));
			else
				printf("%s: %lld answers\n", argv[i], (long long)n);
		}
		return rc;
	}
	if (strcmp(what, "summary") != 0)
		return cli_usage(&cmd_survey, "expected record, import or nothing, got \"%s\"", what);
	int days = 90;
	for (int i = first; i < argc; i++) {
		const char *v;
		int r;
		int64_t d;
		if ((r = cli_opt_value(argc, argv, &i, "--days", &v)) != 0) {
			if (r < 0 || patron_parse_int(v, &d) < 0 || d < 1 || d > 3650)
				return cli_usage(&cmd_survey, "--days: expected a number of days");
			days = (int)d;
		} else {
			return cli_usage(&cmd_survey, "unexpected argument \"%s\"", argv[i]);
		}
	}
	patron_store *s = cli_store(c);
	if (!s)
		return EXIT_FAIL;
	json_t *j;
	if (cli_survey_summary(c, s, days, &j) != EXIT_OK)
		return EXIT_FAIL;
	if (c->json) {
		cli_print_json(j);
		return EXIT_OK;
	}
	printf("the last %d days:\n", days);
	if (json_is_real(json_object_get(j, "nps")))
		printf("  NPS   %+.0f (%lld answers; promoters 9-10 less detractors 0-6)\n",
		       json_real_value(json_object_get(j, "nps")),
		       (long long)json_integer_value(json_object_get(j, "nps_answers")));
	else
		printf("  NPS   no answers\n");
	if (json_is_real(json_object_get(j, "csat")))
		printf("  CSAT  %.0f%% satisfied (4-5), mean %.2f (%lld answers)\n",
		       json_real_value(json_object_get(j, "csat")),
		       json_real_value(json_object_get(j, "csat_mean")),
		       (long long)json_integer_value(json_object_get(j, "csat_answers")));
	else
		printf("  CSAT  no answers\n");
	size_t i;
	json_t *d;
	if (json_array_size(json_object_get(j, "detractors")))
		printf("detractors to follow up (their latest answer 0-6):\n");
	json_array_foreach(json_object_get(j, "detractors"), i, d)
		printf("  %-30s %2lld  %s  %s\n", json_string_value(json_object_get(d, "email"))
			       ? json_string_value(json_object_get(d, "email")) : "?",
		       (long long)json_integer_value(json_object_get(d, "score")),
		       json_string_value(json_object_get(d, "answered_at")),
		       json_string_value(json_object_get(d, "comment")));
	json_decref(j);
	return EXIT_OK;
}

const cli_command cmd_survey = {
	"survey", survey, "satisfaction surveys: NPS and CSAT answers recorded and summed up",
	"usage: patron survey [--days 90] [--json]\n"
	"       patron survey record TOKEN [SCORE] [--comment TEXT]\n"
	"       patron survey import FILE.csv...\n"
	"\n"
	"A survey goes out as any message, from a rule: send{ channel = \"email\", to = c,\n"
	"template = \"nps\", vars = { survey = \"nps\" } } (or \"csat\"). Its template then\n"
	"has survey.links, one signed link per score ({{#survey.links}}<a href=\"{{url}}\">\n"
	"{{score}}</a>{{/survey.links}}; patron serve shows the score with a button that\n"
	"records it, no login), and\n"
	"survey.token. NPS is 0 to 10 (how likely to recommend), CSAT 1 to 5 (how\n"
	"satisfied). Each answer becomes the customer's score nps or csat (c.nps in\n"
	"rules) and the event survey.answered (kind, score, category promoter, passive\n"
	"or detractor; satisfied, neutral or dissatisfied).\n"
	"\n"
	"  (no command)   NPS (promoters less detractors, in %) and CSAT (the share of\n"
	"                 4 and 5) of each customer's latest answer in the last --days,\n"
	"                 and the detractors to follow up\n"
	"  record         an answer given another way: TOKEN from the message, SCORE\n"
	"                 unless the token carries it (a changed score is refused)\n"
	"  import         answers from CSV: email (or customer_id), score, kind (nps or\n"
	"                 csat; nps when absent), date, comment\n",
};
