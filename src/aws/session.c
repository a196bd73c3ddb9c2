#include "session.h"
#include "../core/log.h"
#include "../core/xalloc.h"
#include "endpoints.h"
#include "region.h"

#include <stdlib.h>
#include <string.h>

static enum er_code set_regions(struct aws_session *sess, char *const *regions,
                                size_t n, struct er_error *err)
{
    const char *origin = "--region";
    char *resolved[1] = {NULL};
    enum er_code rc;

    if (n == 0) {
        rc = aws_region_resolve(&sess->settings, &sess->files, &sess->client,
                                &resolved[0], &origin, err);
        if (rc != ER_OK)
            return rc;
        regions = resolved;
        n = 1;
    }
    sess->regions = xcalloc(n, sizeof(*sess->regions));
    for (size_t i = 0; i < n; i++) {
        if (!aws_region_is_valid(regions[i])) {
            rc = er_set(err, ER_USAGE, "invalid AWS region \"%s\" (from %s)",
                        regions[i], origin);
            free(resolved[0]);
            return rc;
        }
        sess->regions[sess->n_regions++] = xstrdup(regions[i]);
    }
    free(resolved[0]);
    return ER_OK;
}

enum er_code aws_session_open(struct aws_session *sess,
                              struct aws_settings *settings,
                              char *const *regions, size_t n_regions,
                              const struct clock *clock,
                              const struct deadline *deadline,
                              struct er_error *err)
{
    enum er_code rc;

    memset(sess, 0, sizeof(*sess));
    sess->settings = *settings;
    memset(settings, 0, sizeof(*settings));
    {
        /* Borrowed from the session's settings, which outlive it. */
        struct http_settings tls = {.ca_file = sess->settings.ca_bundle,
                                    .ca_dir = sess->settings.ca_dir};
        sess->http = http_client_new(&tls);
    }
    sess->client.http = sess->http;
    sess->client.clock = clock;
    sess->client.deadline = deadline;
    sess->client.retry = retry_default_policy;
    if ((rc = aws_profile_load(&sess->settings, &sess->files, err)) != ER_OK ||
        (rc = set_regions(sess, regions, n_regions, err)) != ER_OK)
        return rc;
    /* STS is called in the first region: the regional endpoint, as the
     * EKS webhook's AWS_STS_REGIONAL_ENDPOINTS=regional asks. */
    sess->provider = aws_provider_new(&sess->settings, &sess->files,
                                      &sess->client, sess->regions[0]);
    return ER_OK;
}

enum er_code aws_session_tokens(struct aws_session *sess, char *const *ids,
                                size_t n_ids, struct ecr_tokens *out,
                                struct er_error *err)
{
    const struct aws_credentials *creds;
    enum er_code rc = ER_OK;

    for (size_t i = 0; i < sess->n_regions && rc == ER_OK; i++) {
        rc = aws_provider_get(sess->provider, &creds, err);
        if (rc == ER_OK)
            rc = ecr_get_tokens(&sess->client, &sess->settings, creds,
                                sess->regions[i], ids, n_ids, out, err);
        if (rc == ER_OK)
            log_event(LOG_DEBUG, "ECR token obtained", "region",
                      sess->regions[i], "credentials", creds->source, LOG_END);
    }
    return rc;
}

enum er_code aws_session_all_tokens(struct aws_session *sess, char *const *ids,
                                    size_t n_ids, bool with_public,
                                    struct ecr_tokens *out,
                                    struct er_error *err)
{
    enum er_code rc;

    if (with_public) {
        for (size_t i = 0; i < sess->n_regions; i++) {
            const struct aws_partition *p = aws_partition_of(sess->regions[i]);
            if (!p->has_ecr_public)
                return er_set(err, ER_USAGE,
                              "--public: ECR Public exists only in the aws "
                              "partition, and region %s is in %s. Fix: drop "
                              "--public (ECR_RENEW_PUBLIC) for this region",
                              sess->regions[i], p->name);
        }
    }
    rc = aws_session_tokens(sess, ids, n_ids, out, err);
    if (rc == ER_OK && with_public)
        rc = aws_session_public_token(sess, out, err);
    return rc;
}

enum er_code aws_session_public_token(struct aws_session *sess,
                                      struct ecr_tokens *out,
                                      struct er_error *err)
{
    const struct aws_credentials *creds;
    enum er_code rc = aws_provider_get(sess->provider, &creds, err);

    if (rc == ER_OK)
        rc = ecr_public_get_token(&sess->client, &sess->settings, creds, out,
                                  err);
    if (rc == ER_OK)
        log_event(LOG_DEBUG, "ECR Public token obtained", "credentials",
                  creds->source, LOG_END);
    return rc;
}

void aws_session_close(struct aws_session *sess)
{
    aws_provider_free(sess->provider);
    for (size_t i = 0; i < sess->n_regions; i++)
        free(sess->regions[i]);
    free(sess->regions);
    aws_profile_free(&sess->files);
    aws_settings_free(&sess->settings);
    http_client_free(sess->http);
    memset(sess, 0, sizeof(*sess));
}
