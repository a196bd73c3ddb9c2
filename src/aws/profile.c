#include "profile.h"
#include "../core/buf.h"
#include "../core/fileio.h"
#include "../core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_FILE_CAP (1024u * 1024)

static enum er_code load_one(const char *path, struct ini_file **out,
                             struct er_error *err)
{
    struct buf text;
    bool missing;
    enum er_code rc;

    buf_init(&text, PROFILE_FILE_CAP, BUF_SECRET);
    *out = NULL;
    rc = file_read(path, &text, &missing, err);
    if (rc == ER_OK && !missing)
        rc = ini_parse(buf_str(&text), text.len, path, out, err);
    buf_free(&text);
    return rc;
}

enum er_code aws_profile_load(const struct aws_settings *s,
                              struct aws_profile_files *out,
                              struct er_error *err)
{
    enum er_code rc;

    memset(out, 0, sizeof(*out));
    out->credentials_path = xstrdup(s->credentials_file);
    out->config_path = xstrdup(s->config_file);
    rc = load_one(out->credentials_path, &out->credentials, err);
    if (rc == ER_OK)
        rc = load_one(out->config_path, &out->config, err);
    if (rc != ER_OK)
        aws_profile_free(out);
    return rc;
}

/* The config file's section for a profile: "[profile x]", and for the
 * default profile also plain "[default]". */
static const char *config_lookup(const struct ini_file *config,
                                 const char *profile, const char *key,
                                 int *line)
{
    char *section = xasprintf("profile %s", profile);
    const char *v = ini_get(config, section, key);

    *line = ini_line(config, section, key);
    if (!v && strcmp(profile, "default") == 0) {
        v = ini_get(config, "default", key);
        *line = ini_line(config, "default", key);
    }
    free(section);
    return v;
}

const char *aws_profile_get(const struct aws_profile_files *f,
                            const char *profile, const char *key)
{
    const char *v = ini_get(f->credentials, profile, key);
    int line;

    return v ? v : config_lookup(f->config, profile, key, &line);
}

void aws_profile_where(const struct aws_profile_files *f, const char *profile,
                       const char *key, char *out, size_t cap)
{
    int line;

    if (ini_get(f->credentials, profile, key)) {
        snprintf(out, cap, "%s:%d", f->credentials_path,
                 ini_line(f->credentials, profile, key));
    } else if (config_lookup(f->config, profile, key, &line)) {
        snprintf(out, cap, "%s:%d", f->config_path, line);
    } else {
        snprintf(out, cap, "profile %s", profile);
    }
}

bool aws_profile_exists(const struct aws_profile_files *f, const char *profile)
{
    char *section = xasprintf("profile %s", profile);
    bool found = ini_has_section(f->credentials, profile) ||
                 ini_has_section(f->config, section) ||
                 (strcmp(profile, "default") == 0 &&
                  ini_has_section(f->config, "default"));

    free(section);
    return found;
}

void aws_profile_free(struct aws_profile_files *f)
{
    ini_free(f->credentials);
    ini_free(f->config);
    free(f->credentials_path);
    free(f->config_path);
    memset(f, 0, sizeof(*f));
}
