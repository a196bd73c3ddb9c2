/*
 * ini.h - the INI dialect of ~/.aws/credentials and ~/.aws/config.
 *
 * Pure: parses text already read. Rules follow the AWS CLI's parser:
 * "[section]" headers, "key = value" or "key: value" lines, whole-line
 * comments starting with '#' or ';', and indented lines continuing the
 * previous value (how nested settings such as "s3 =" are written). Keys
 * are case-sensitive; surrounding whitespace is trimmed. A later
 * duplicate key in the same section wins.
 *
 * Ownership: struct ini_file owns its strings; ini_free wipes them,
 * since credential files hold secret keys.
 */
#ifndef ECR_RENEW_AWS_INI_H
#define ECR_RENEW_AWS_INI_H

#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>

struct ini_file;

/* Parses len bytes of text. name is used in errors ("file:3: ..."),
 * which return ER_CONFIG and never quote values. */
enum er_code ini_parse(const char *text, size_t len, const char *name,
                       struct ini_file **out, struct er_error *err) ER_CHECK;

/* The value of key in section, or NULL. */
const char *ini_get(const struct ini_file *f, const char *section,
                    const char *key);

/* The line a key was set on (for messages), or 0. */
int ini_line(const struct ini_file *f, const char *section, const char *key);

bool ini_has_section(const struct ini_file *f, const char *section);

void ini_free(struct ini_file *f);

#endif
