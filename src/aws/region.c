#include "region.h"
#include "../core/buf.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"
#include "imds.h"

#include <stdlib.h>
#include <string.h>

bool aws_region_is_valid(const char *region)
{
    size_t n = strlen(region);

    if (n == 0 || n > 32 || !(region[0] >= 'a' && region[0] <= 'z'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = region[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return region[n - 1] != '-';
}

static enum er_code from_imds(const struct aws_settings *s,
                              struct aws_client *c, char **region,
                              struct er_error *err)
{
    struct imds m;
    struct buf body = BUF_INIT;
    long status = 0;
    size_t n;
    const char *r;
    enum er_code rc;

    imds_init(&m, c, s);
    rc =
        imds_get(&m, "/latest/meta-data/placement/region", &body, &status, err);
    if (rc == ER_OK && status == 200) {
        r = str_trim(buf_str(&body), &n);
        *region = n ? xstrndup(r, n) : NULL;
    }
    buf_free(&body);
    imds_free(&m);
    if (rc == ER_OK && *region && !aws_region_is_valid(*region)) {
        char shown[48];
        str_copy_printable(shown, sizeof(shown), *region, strlen(*region));
        free(*region);
        *region = NULL;
        return er_set(err, ER_PARSE,
                      "instance metadata gave the region \"%s\", which is "
                      "not a region name",
                      shown);
    }
    return rc == ER_OK && *region ? ER_OK : ER_USAGE;
}

enum er_code aws_region_resolve(const struct aws_settings *s,
                                const struct aws_profile_files *files,
                                struct aws_client *c, char **region,
                                const char **origin, struct er_error *err)
{
    const char *v;
    struct er_error ignored;

    *region = NULL;
    if ((v = s->region_env)) {
        *origin = "AWS_REGION";
    } else if ((v = s->default_region_env)) {
        *origin = "AWS_DEFAULT_REGION";
    } else if ((v = aws_profile_get(files, s->profile, "region"))) {
        *origin = "profile";
    }
    if (v) {
        *region = xstrdup(v);
        return ER_OK;
    }
    if (!s->imds_disabled) {
        enum er_code rc = from_imds(s, c, region, &ignored);
        if (rc == ER_OK) {
            *origin = "instance metadata";
            return ER_OK;
        }
        if (rc == ER_PARSE)
            return er_set(err, rc, "%s", ignored.msg);
    }
    return er_set(err, ER_USAGE,
                  "no AWS region: pass --region, set AWS_REGION, or add "
                  "\"region\" to profile %s",
                  s->profile);
}
