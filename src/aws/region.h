/*
 * region.h - which region to use when the user did not say.
 *
 * As the SDKs: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's
 * "region", then the instance metadata service.
 */
#ifndef ECR_RENEW_AWS_REGION_H
#define ECR_RENEW_AWS_REGION_H

#include "../core/err.h"
#include "aws_call.h"
#include "profile.h"
#include "settings.h"

#include <stdbool.h>

/* True for a plausible region name: lower-case letters, digits and '-',
 * starting with a letter; guards host names built from it. Pure. */
bool aws_region_is_valid(const char *region);

/* Sets *region (newly allocated) and *origin (static text naming where
 * it came from). ER_USAGE when no source has one. */
enum er_code aws_region_resolve(const struct aws_settings *s,
                                const struct aws_profile_files *files,
                                struct aws_client *c, char **region,
                                const char **origin,
                                struct er_error *err) ER_CHECK;

#endif
