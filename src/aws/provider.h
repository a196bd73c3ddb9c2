/*
 * provider.h - AWS credentials, found the way the SDKs find them, cached.
 *
 * Sources, in order: environment keys; web identity (AWS_ROLE_ARN +
 * AWS_WEB_IDENTITY_TOKEN_FILE, the IRSA way) through STS
 * AssumeRoleWithWebIdentity; the shared credentials/config files for the
 * profile (static keys, role_arn with web_identity_token_file,
 * source_profile or credential_source); container credentials (EKS Pod
 * Identity, ECS); IMDSv2. The first source that applies is used, and
 * kept for refreshes. When none applies, the error lists each source and
 * why it did not.
 *
 * Temporary credentials are cached and refreshed once fewer than
 * PROVIDER_REFRESH_WINDOW seconds remain; if a refresh fails while the
 * cached ones are still valid, those are used and a warning logged, but
 * expired credentials are never handed out.
 */
#ifndef ECR_RENEW_AWS_PROVIDER_H
#define ECR_RENEW_AWS_PROVIDER_H

#include "../core/err.h"
#include "aws_call.h"
#include "credentials.h"
#include "profile.h"
#include "settings.h"

#define PROVIDER_REFRESH_WINDOW (5 * 60)

struct aws_provider;

/* Borrows everything; region is used for STS (may be NULL until known). */
struct aws_provider *aws_provider_new(const struct aws_settings *s,
                                      const struct aws_profile_files *files,
                                      struct aws_client *c, const char *region);
void aws_provider_free(struct aws_provider *p);

/* Current credentials, fetched or refreshed as needed. The pointer stays
 * valid until the next call or aws_provider_free. */
enum er_code aws_provider_get(struct aws_provider *p,
                              const struct aws_credentials **out,
                              struct er_error *err) ER_CHECK;

#endif
