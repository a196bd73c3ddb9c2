#include "aws_error.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "xml_fields.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* "com.amazonaws.ecr#AccessDeniedException" and
 * "AccessDeniedException:http://internal..." both name AccessDenied... */
static void set_code(struct aws_error *e, const char *raw)
{
    const char *hash = strrchr(raw, '#');
    const char *start = hash ? hash + 1 : raw;
    size_t n = strcspn(start, ":");

    str_copy_printable(e->code, sizeof(e->code), start, n);
}

static bool parse_json(const char *body, size_t len, struct aws_error *e)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *type, *msg;
    bool ok = false;

    if (!json_is_object(root))
        goto out;
    type = json_object_get(root, "__type");
    if (!json_is_string(type))
        type = json_object_get(root, "code");
    msg = json_object_get(root, "message");
    if (!json_is_string(msg))
        msg = json_object_get(root, "Message");
    if (json_is_string(type)) {
        set_code(e, json_string_value(type));
        ok = true;
    }
    if (json_is_string(msg))
        str_copy_printable(e->message, sizeof(e->message),
                           json_string_value(msg), json_string_length(msg));
out:
    json_decref(root);
    return ok;
}

static bool parse_xml(const char *body, size_t len, struct aws_error *e)
{
    static const char *const names[] = {"Code", "Message"};
    char *values[2];
    struct er_error ignored;
    bool ok = false;

    if (xmlf_extract(body, len, names, 2, values, &ignored) != ER_OK)
        return false;
    if (values[0]) {
        set_code(e, values[0]);
        ok = true;
    }
    if (values[1])
        str_copy_printable(e->message, sizeof(e->message), values[1],
                           strlen(values[1]));
    wipe_free_str(values[0]);
    wipe_free_str(values[1]);
    return ok;
}

void aws_error_parse(long status, const char *error_type_header,
                     const char *body, size_t len, struct aws_error *e)
{
    memset(e, 0, sizeof(*e));
    if (len > 0 && (parse_json(body, len, e) || parse_xml(body, len, e)))
        return;
    if (error_type_header && *error_type_header)
        set_code(e, error_type_header);
    else
        snprintf(e->code, sizeof(e->code), "HTTP %ld", status);
}

static const char *const retryable_codes[] = {
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "IDPCommunicationError",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "ServerException",
    "RequestTimeout",
    "RequestTimeoutException",
};

bool aws_error_is_retryable(long status, const struct aws_error *e)
{
    if (status >= 500 || status == 429)
        return true;
    for (size_t i = 0; i < sizeof(retryable_codes) / sizeof(*retryable_codes);
         i++) {
        if (strcmp(e->code, retryable_codes[i]) == 0)
            return true;
    }
    return false;
}

struct hint {
    const char *operation; /* NULL: any operation */
    const char *code;
    const char *text;
};

static const struct hint hints[] = {
    {"ecr:GetAuthorizationToken", "AccessDeniedException",
     "grant the principal ecr:GetAuthorizationToken on Resource \"*\" (it "
     "cannot be scoped to repositories)"},
    {"ecr:GetAuthorizationToken", "AccessDenied",
     "grant the principal ecr:GetAuthorizationToken on Resource \"*\" (it "
     "cannot be scoped to repositories)"},
    {"ecr-public:GetAuthorizationToken", "AccessDeniedException",
     "ECR Public needs both ecr-public:GetAuthorizationToken and "
     "sts:GetServiceBearerToken on Resource \"*\"; or drop --public"},
    {"sts:AssumeRoleWithWebIdentity", "AccessDenied",
     "the role's trust policy does not accept this token: check the "
     "Federated principal (the cluster's IAM OIDC provider) and the :sub "
     "and :aud conditions (system:serviceaccount:<namespace>:<name>, "
     "sts.amazonaws.com)"},
    {"sts:AssumeRole", "AccessDenied",
     "the source identity may not assume the role: check sts:AssumeRole in "
     "its policy and the role's trust policy"},
    {NULL, "InvalidIdentityToken",
     "STS could not verify the web identity token: make sure an IAM OIDC "
     "provider exists for the cluster's issuer URL with audience "
     "sts.amazonaws.com, and that the token file is the projected "
     "service-account token"},
    {NULL, "SignatureDoesNotMatch",
     "the secret access key does not belong to the access key id: check "
     "AWS_SECRET_ACCESS_KEY or the credentials file (and the clock)"},
    {NULL, "InvalidSignatureException",
     "the secret access key does not belong to the access key id: check "
     "AWS_SECRET_ACCESS_KEY or the credentials file (and the clock)"},
    {NULL, "InvalidClientTokenId",
     "AWS does not know this access key id: it was deleted, deactivated, "
     "or belongs to another partition"},
    {NULL, "UnrecognizedClientException",
     "AWS does not know this access key id or session token: it was "
     "deleted, deactivated, or belongs to another partition"},
    {NULL, "ExpiredToken",
     "the session credentials expired: refresh them (web identity tokens "
     "are re-read from their file on every refresh)"},
    {NULL, "ExpiredTokenException",
     "the credentials or web identity token expired: refresh them"},
    {NULL, "InvalidParameterException",
     "check the --registry-id values: each must be a 12-digit account id"},
    {NULL, "RegionDisabledException",
     "STS is not activated in this region: activate it in IAM account "
     "settings or use another region"},
    {NULL, "AccessDenied",
     "the principal lacks the IAM permission named in the message"},
    {NULL, "AccessDeniedException",
     "the principal lacks the IAM permission named in the message"},
};

const char *aws_error_hint(const char *operation, const struct aws_error *e)
{
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        if (strcmp(hints[i].code, e->code) == 0 &&
            (!hints[i].operation || strcmp(hints[i].operation, operation) == 0))
            return hints[i].text;
    }
    return NULL;
}
