/*
 * region.h - which region to use when the user did not say.
 *
 * As the SDKs: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's
 * "region", then the instance metadata service.
 */
#ifndef ECR_RENEW_REGION_H
#define ECR_RENEW_REGION_H

#include "../core/err.h"
#include "aws_call.h"
#include "profile.h"
#include "settings.h"

/* Sets *region (newly allocated) and *origin (static text naming where
 * it came from). ER_USAGE when no source has one. */
enum er_code aws_region_resolve(const struct aws_settings *s,
                                const struct aws_profile_files *files,
                                struct aws_client *c, char **region,
                                const char **origin,
                                struct er_error *err) ER_CHECK;

#endif
