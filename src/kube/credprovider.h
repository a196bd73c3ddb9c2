/*
 * credprovider.h - the kubelet's image credential provider protocol,
 * credentialprovider.kubelet.k8s.io v1 and v1beta1 (REFERENCE-2 §5).
 *
 * The kubelet writes one CredentialProviderRequest on the plugin's stdin
 * and decodes the CredentialProviderResponse on its stdout strictly: a
 * field it does not know, a second copy of one, or a kind or apiVersion
 * other than its own discards the credentials, and the pull goes on
 * without them. So the response is built here from fixed fields only,
 * always in the order the kubelet's own encoder writes them:
 *
 *   {"kind":"CredentialProviderResponse","apiVersion":"<the request's>",
 *    "cacheKeyType":"Registry","cacheDuration":"5h59m59s",
 *    "auth":{"<host[:port] as the image names it>":
 *            {"username":"AWS","password":"..."}}}
 *
 * The request is read by key, in any order (the kubelet sends kind
 * first). Fields it does not name are ignored rather than refused, since
 * newer kubelets add some (serviceAccountToken came with 1.33).
 *
 * Pure: no I/O and no clock; the caller passes the time.
 *
 * Ownership: struct credprovider_request owns its strings and
 * credprovider_request_free wipes the token; the response text holds the
 * password, and the caller frees it with wipe_free_str.
 */
#ifndef ECR_RENEW_KUBE_CREDPROVIDER_H
#define ECR_RENEW_KUBE_CREDPROVIDER_H

#include "../core/err.h"

#include <stddef.h>
#include <time.h>

#define CREDPROVIDER_API_V1 "credentialprovider.kubelet.k8s.io/v1"
#define CREDPROVIDER_API_V1BETA1 "credentialprovider.kubelet.k8s.io/v1beta1"

/* A real request is an image reference, a ServiceAccount token (about
 * 1 KiB) and a few annotations; anything past this is not one. */
#define CREDPROVIDER_REQUEST_CAP (64u * 1024)

/* The ServiceAccount annotation naming the role to pull with, as
 * cloud-provider-aws's ecr-credential-provider reads it. */
#define CREDPROVIDER_ROLE_ANNOTATION "eks.amazonaws.com/ecr-role-arn"

/* A token with less than this left is refused rather than handed over:
 * the kubelet may use it for half of what is left (cacheDuration), and
 * a pull that starts at the end of that must still have a few seconds of
 * it. ECR's tokens live 12 hours, so only a wrong clock gets here. */
#define CREDPROVIDER_MIN_LIFE_SECONDS 10

struct credprovider_request {
    const char *api_version;     /* CREDPROVIDER_API_V1 or _V1BETA1 */
    char *image;                 /* as the kubelet names it */
    char *service_account_token; /* secret; NULL when none was sent */
    char *role_arn; /* CREDPROVIDER_ROLE_ANNOTATION's value, or NULL */
};

/* Decodes a request of len bytes. ER_USAGE, saying what to fix, when it
 * is larger than CREDPROVIDER_REQUEST_CAP, not JSON, of another kind or
 * apiVersion, or without an image; or when a field it knows has the
 * wrong type or holds a control character. *out is written only on
 * success. */
enum er_code credprovider_parse_request(const char *json, size_t len,
                                        struct credprovider_request *out,
                                        struct er_error *err) ER_CHECK;

void credprovider_request_free(struct credprovider_request *r);

/* ER_USAGE naming what unless value looks like an IAM role ARN
 * ("arn:<partition>:iam::<account>:role/<name>"), so a typo in an
 * annotation or AWS_ECR_ROLE_ARN is said before any call. */
enum er_code credprovider_check_role_arn(const char *value, const char *what,
                                         struct er_error *err) ER_CHECK;

/* The auth key for image: its host and port exactly as written (the
 * kubelet matches keys by label and port, case and all), at most cap - 1
 * bytes. ER_USAGE when it has none, or one that is not host[:port]. */
enum er_code credprovider_image_key(const char *image, char *out, size_t cap,
                                    struct er_error *err) ER_CHECK;

/* Whole seconds the kubelet may cache a token that expires at
 * expires_at: half of the whole seconds left, rounded down, as
 * cloud-provider-aws computes it; 0 when fewer than
 * CREDPROVIDER_MIN_LIFE_SECONDS are left (or expires_at is not a
 * time). */
long long credprovider_cache_seconds(double expires_at, time_t now);

struct credprovider_response {
    const char *api_version; /* the request's */
    const char *key;         /* from credprovider_image_key */
    const char *username;
    const char *password; /* secret */
    double expires_at;    /* epoch seconds */
};

/* Builds the response text (no trailing newline) into *out. ER_AWS,
 * naming the key, when the token has expired or has too little life
 * left at now; ER_PARSE when a value is not UTF-8 text. */
enum er_code credprovider_build_response(const struct credprovider_response *r,
                                         time_t now, char **out,
                                         struct er_error *err) ER_CHECK;

#endif
