/*
 * kubeconfig.h - where the API server is and who we are to it.
 *
 * Two ways in, as client-go: a kubeconfig (a colon-separated list of
 * files merged the way kubectl merges them: for every named cluster,
 * user and context, and for current-context, the first file that sets it
 * wins), or in-cluster configuration (service host and port from the
 * environment, the pod's service-account token and CA).
 *
 * Paths inside a kubeconfig (certificate-authority, client-certificate,
 * client-key, tokenFile, an exec command containing '/') are relative to
 * the directory of the file that names them, and are made absolute here.
 *
 * Ownership: struct kube_target owns every string in it;
 * kube_target_free wipes the secret ones (token, client key).
 */
#ifndef ECR_RENEW_KUBE_KUBECONFIG_H
#define ECR_RENEW_KUBE_KUBECONFIG_H

#include "../core/err.h"
#include "../core/strutil.h"

#include <stdbool.h>
#include <stddef.h>

#define KUBE_SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_exec_env {
    char *name;
    char *value;
};

/* users[].user.exec: a client.authentication.k8s.io credential plugin. */
struct kube_exec_config {
    char *api_version; /* ".../v1" or ".../v1beta1" */
    char *command;     /* made absolute if it contains '/' */
    struct str_list args;
    struct kube_exec_env *env;
    size_t n_env;
    char *interactive_mode; /* "Never", "IfAvailable", "Always" or NULL */
    bool provide_cluster_info;
    char *install_hint; /* shown when the command cannot be run */
};

/* Everything needed to talk to one cluster as one user. */
struct kube_target {
    char *origin; /* for messages: "kubeconfig /x (context y)", "in-cluster" */
    char *server; /* "https://10.0.0.1:443" */
    char *tls_server_name;
    char *proxy_url;
    bool insecure; /* insecure-skip-tls-verify: only when set to true */
    char *ca_file; /* absolute path */
    char *ca_pem;  /* from certificate-authority-data, decoded */
    char *client_cert_file;
    char *client_cert_pem;
    char *client_key_file;
    char *client_key_pem; /* secret */
    char *token;          /* secret */
    char *token_file;     /* rotates: re-read per request; beats token */
    struct kube_exec_config *exec; /* NULL unless the user has exec */
    char *namespace;               /* the context's namespace, or NULL */
};

/* Reads and merges the kubeconfig files in paths (':'-separated; empty
 * entries skipped), picks context_override or else current-context, and
 * resolves the target. Failures are ER_CONFIG naming the file and line
 * (syntax errors) or the file and entry (e.g. a context naming a cluster
 * no file defines). */
enum er_code kubeconfig_load(const char *paths, const char *context_override,
                             struct kube_target *out,
                             struct er_error *err) ER_CHECK;

/* The same from documents already in memory; names[i] is the path of
 * texts[i], used for messages and relative paths. Pure: no file is read
 * (relative paths are only joined, not opened). */
enum er_code kubeconfig_parse(const char *const *texts, const size_t *lens,
                              const char *const *names, size_t n,
                              const char *context_override,
                              struct kube_target *out,
                              struct er_error *err) ER_CHECK;

/* In-cluster configuration: https://host:port, the token file and
 * ca.crt under sa_dir (KUBE_SA_DIR_DEFAULT in a pod). The token is not
 * read here: it is re-read before every request. IPv6 hosts are
 * bracketed. */
enum er_code kube_incluster(const char *host, const char *port,
                            const char *sa_dir, struct kube_target *out,
                            struct er_error *err) ER_CHECK;

void kube_target_free(struct kube_target *t);

#endif
