/*
 * profile.h - the shared credentials and config files, read once.
 *
 * The credentials file names sections after profiles ("[dev]"); the
 * config file writes "[profile dev]" except for "[default]". A key in
 * the credentials file wins over the same key in the config file, as in
 * the AWS CLI.
 *
 * Ownership: struct aws_profile_files owns both parsed files.
 */
#ifndef ECR_RENEW_AWS_PROFILE_H
#define ECR_RENEW_AWS_PROFILE_H

#include "../core/err.h"
#include "ini.h"
#include "settings.h"

#include <stdbool.h>

struct aws_profile_files {
    struct ini_file *credentials; /* NULL when the file is absent */
    struct ini_file *config;
    char *credentials_path;
    char *config_path;
};

/* Reads both files; absent files are fine, unreadable or malformed ones
 * are ER_CONFIG errors naming the file and line. */
enum er_code aws_profile_load(const struct aws_settings *s,
                              struct aws_profile_files *out,
                              struct er_error *err) ER_CHECK;

/* A profile's setting, credentials file first; NULL when unset. */
const char *aws_profile_get(const struct aws_profile_files *f,
                            const char *profile, const char *key);

/* "file:line" of where the setting came from, for messages. */
void aws_profile_where(const struct aws_profile_files *f, const char *profile,
                       const char *key, char *out, size_t cap);

bool aws_profile_exists(const struct aws_profile_files *f, const char *profile);

void aws_profile_free(struct aws_profile_files *f);

#endif
