/*
 * Resolving a kubeconfig the way client-go does, for the one context in
 * use: the context, then the cluster and user it names, each taken from
 * the first file that defines it. Entries no context uses are not
 * checked, as kubectl does not check them either.
 *
 * A user may set both token and tokenFile; both are kept, and tokenFile
 * wins when the client builds a request (client-go's rule). For the CA,
 * the client certificate and key, the -data form wins over the file form
 * and only it is kept, so the client sees one source. client-go's
 * transport does the same for the CA; for the client certificate and key
 * its validation refuses both forms at once, which is tolerated here.
 */
#include "kubeconfig.h"
#include "../core/b64.h"
#include "../core/buf.h"
#include "../core/fileio.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"
#include "yaml_doc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Real kubeconfigs are a few KiB; one with a thousand clusters and their
 * CAs is about 2 MiB. */
#define KUBECONFIG_FILE_CAP (4u * 1024 * 1024)
#define SA_NAMESPACE_CAP 1024

#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"
#define EXEC_V1ALPHA1 "client.authentication.k8s.io/v1alpha1"

struct kc_file {
    const char *name;
    char *dir; /* what relative paths in this file are joined to */
    struct yaml_doc *doc;
};

struct kc_set {
    struct kc_file *files;
    size_t n;
    char *names; /* "a:b", for messages about the whole set */
};

/* A mapping of one file and how messages call it ("cluster \"prod\""). */
struct kc_obj {
    const struct kc_file *file;
    json_t *obj;      /* NULL when the section is absent */
    const json_t *at; /* where messages point when obj is NULL */
    char label[192];
};

/* --- messages ---------------------------------------------------------- */

static int line_of(const struct kc_obj *o, const json_t *v)
{
    int line = v ? yaml_doc_line(o->file->doc, v) : 0;

    if (!line && o->obj)
        line = yaml_doc_line(o->file->doc, o->obj);
    if (!line && o->at)
        line = yaml_doc_line(o->file->doc, o->at);
    return line;
}

static enum er_code fail(const struct kc_obj *o, const json_t *v,
                         struct er_error *err, const char *fmt, ...)
    ER_PRINTF(4, 5);

/* "file:line: label: what". Values are never quoted: they may be secret. */
static enum er_code fail(const struct kc_obj *o, const json_t *v,
                         struct er_error *err, const char *fmt, ...)
{
    char what[512];
    int line = line_of(o, v);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (line)
        return er_set(err, ER_CONFIG, "%s:%d: %s: %s", o->file->name, line,
                      o->label, what);
    return er_set(err, ER_CONFIG, "%s: %s: %s", o->file->name, o->label, what);
}

/* Labels are cut at their size; a name that long is its own problem. */
static void set_label(struct kc_obj *o, const char *fmt, ...) ER_PRINTF(2, 3);

static void set_label(struct kc_obj *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(o->label, sizeof(o->label), fmt, ap);
    va_end(ap);
}

/* --- typed fields ------------------------------------------------------ */

/* A string field; absent, null and "" all mean unset (*out = NULL). */
static enum er_code get_str(const struct kc_obj *o, const char *key,
                            const char **out, struct er_error *err)
{
    json_t *v = o->obj ? json_object_get(o->obj, key) : NULL;

    *out = NULL;
    if (!v || json_is_null(v))
        return ER_OK;
    if (!json_is_string(v))
        return fail(o, v, err, "%s must be a string", key);
    if (json_string_length(v) > 0)
        *out = json_string_value(v);
    return ER_OK;
}

static enum er_code dup_str(const struct kc_obj *o, const char *key, char **out,
                            struct er_error *err)
{
    const char *s;
    enum er_code rc = get_str(o, key, &s, err);

    if (rc == ER_OK && s)
        *out = xstrdup(s);
    return rc;
}

/* Only the boolean true counts: "yes", "1" or a quoted "true" do not
 * turn off certificate checks. */
static bool get_true(const struct kc_obj *o, const char *key)
{
    return o->obj && json_is_true(json_object_get(o->obj, key));
}

static char *join_dir(const char *dir, const char *path)
{
    if (path[0] == '/')
        return xstrdup(path);
    while (path[0] == '.' && path[1] == '/')
        path += 2; /* "./bin/x" reads better as "/dir/bin/x" */
    return xasprintf("%s/%s", dir, path);
}

static enum er_code get_path(const struct kc_obj *o, const char *key,
                             char **out, struct er_error *err)
{
    const char *s;
    enum er_code rc = get_str(o, key, &s, err);

    if (rc == ER_OK && s)
        *out = join_dir(o->file->dir, s);
    return rc;
}

/* Go's base64 skips line breaks, so a wrapped block scalar decodes. */
static int decode_pem(const char *s, struct buf *pem)
{
    struct buf flat = BUF_INIT_SECRET;
    int rc = 0;

    for (; *s && rc == 0; s++) {
        if (*s != '\n' && *s != '\r')
            rc = buf_addc(&flat, *s) == BUF_OK ? 0 : -1;
    }
    if (rc == 0)
        rc = b64_decode(pem, buf_str(&flat), flat.len);
    buf_free(&flat);
    return rc;
}

/* A -data field: base64 of PEM text, decoded into *out. */
static enum er_code get_data(const struct kc_obj *o, const char *key,
                             char **out, struct er_error *err)
{
    struct buf pem = BUF_INIT_SECRET;
    const char *s;
    enum er_code rc = get_str(o, key, &s, err);

    if (rc != ER_OK || !s)
        goto out;
    if (decode_pem(s, &pem) != 0)
        rc = fail(o, json_object_get(o->obj, key), err,
                  "%s is not valid base64", key);
    else if (pem.len == 0 || memchr(pem.data, '\0', pem.len))
        rc = fail(o, json_object_get(o->obj, key), err,
                  "%s does not decode to PEM text", key);
    else
        *out = buf_detach(&pem, NULL);
out:
    buf_free(&pem);
    return rc;
}

/* A nested mapping; absent or null leaves sub->obj NULL. */
static enum er_code get_sub(const struct kc_obj *o, const char *key,
                            struct kc_obj *sub, struct er_error *err)
{
    json_t *v = o->obj ? json_object_get(o->obj, key) : NULL;

    sub->file = o->file;
    sub->obj = NULL;
    sub->at = o->obj ? o->obj : o->at;
    set_label(sub, "%s: %s", o->label, key);
    if (!v || json_is_null(v))
        return ER_OK;
    if (!json_is_object(v))
        return fail(o, v, err, "%s must be a mapping", key);
    sub->obj = v;
    return ER_OK;
}

/* --- finding named entries -------------------------------------------- */

struct kc_kind {
    const char *list; /* "clusters" */
    const char *body; /* "cluster" */
};

static const struct kc_kind KIND_CLUSTER = {"clusters", "cluster"};
static const struct kc_kind KIND_USER = {"users", "user"};
static const struct kc_kind KIND_CONTEXT = {"contexts", "context"};

static enum er_code list_of(const struct kc_file *f, const char *key,
                            json_t **out, struct er_error *err)
{
    struct kc_obj top = {f, yaml_doc_root(f->doc), NULL, "kubeconfig"};
    json_t *v = json_object_get(top.obj, key);

    *out = NULL;
    if (!v || json_is_null(v))
        return ER_OK;
    if (!json_is_array(v))
        return fail(&top, v, err, "%s must be a list", key);
    *out = v;
    return ER_OK;
}

static enum er_code item_name(const struct kc_file *f, const char *list,
                              json_t *item, const char **name,
                              struct er_error *err)
{
    struct kc_obj it = {f, item, NULL, ""};
    json_t *v;

    *name = NULL;
    set_label(&it, "%s entry", list);
    if (!json_is_object(item))
        return fail(&it, item, err, "not a mapping");
    v = json_object_get(item, "name");
    *name = json_is_string(v) ? json_string_value(v) : NULL;
    if (v && !json_is_null(v) && !json_is_string(v))
        return fail(&it, v, err, "name must be a string");
    return ER_OK;
}

static void entry_obj(const struct kc_file *f, const struct kc_kind *k,
                      const char *name, json_t *item, struct kc_obj *out)
{
    out->file = f;
    out->obj = item;
    out->at = NULL;
    set_label(out, "%s \"%s\"", k->body, name);
}

static enum er_code fail_twice(const struct kc_file *f, const struct kc_kind *k,
                               const char *name, json_t *first, json_t *again,
                               struct er_error *err)
{
    struct kc_obj it;

    entry_obj(f, k, name, again, &it);
    return fail(&it, NULL, err, "defined twice (first at line %d)",
                yaml_doc_line(f->doc, first));
}

/* Finds the entry called name in one file; *found stays NULL if absent.
 * Like client-go, a name defined twice in one file is an error. */
static enum er_code find_in_file(const struct kc_file *f,
                                 const struct kc_kind *k, const char *name,
                                 json_t **found, struct er_error *err)
{
    json_t *list, *item;
    const char *n;
    size_t i;
    enum er_code rc;

    *found = NULL;
    if ((rc = list_of(f, k->list, &list, err)) != ER_OK)
        return rc;
    json_array_foreach(list, i, item)
    {
        if ((rc = item_name(f, k->list, item, &n, err)) != ER_OK)
            return rc;
        if (!n || strcmp(n, name) != 0)
            continue;
        if (*found)
            return fail_twice(f, k, name, *found, item, err);
        *found = item;
    }
    return ER_OK;
}

/* The first file defining name wins, as when kubectl merges. out is the
 * entry's body (its "cluster:" mapping), labelled with the entry. */
static enum er_code find_entry(const struct kc_set *s, const struct kc_kind *k,
                               const char *name, struct kc_obj *out, bool *have,
                               struct er_error *err)
{
    struct kc_obj it;
    json_t *item;
    enum er_code rc;

    *have = false;
    for (size_t i = 0; i < s->n; i++) {
        if ((rc = find_in_file(&s->files[i], k, name, &item, err)) != ER_OK)
            return rc;
        if (!item)
            continue;
        entry_obj(&s->files[i], k, name, item, &it);
        if ((rc = get_sub(&it, k->body, out, err)) != ER_OK)
            return rc;
        set_label(out, "%s", it.label);
        *have = true;
        return ER_OK;
    }
    return ER_OK;
}

/* --- clusters ---------------------------------------------------------- */

static enum er_code resolve_cluster(const struct kc_obj *c,
                                    struct kube_target *t, struct er_error *err)
{
    enum er_code rc;

    if ((rc = dup_str(c, "server", &t->server, err)) != ER_OK ||
        (rc = dup_str(c, "tls-server-name", &t->tls_server_name, err)) !=
            ER_OK ||
        (rc = dup_str(c, "proxy-url", &t->proxy_url, err)) != ER_OK ||
        (rc = get_data(c, "certificate-authority-data", &t->ca_pem, err)) !=
            ER_OK)
        return rc;
    if (!t->server)
        return fail(c, NULL, err, "has no server");
    if (!str_has_prefix(t->server, "https://") &&
        !str_has_prefix(t->server, "http://"))
        return fail(c, json_object_get(c->obj, "server"), err,
                    "server is not an http:// or https:// URL");
    t->insecure = get_true(c, "insecure-skip-tls-verify");
    if (!t->ca_pem)
        rc = get_path(c, "certificate-authority", &t->ca_file, err);
    return rc;
}

/* --- exec plugins ------------------------------------------------------ */

static enum er_code exec_api_version(const struct kc_obj *x,
                                     struct kube_exec_config *e,
                                     struct er_error *err)
{
    const char *v;
    json_t *node = json_object_get(x->obj, "apiVersion");
    enum er_code rc = get_str(x, "apiVersion", &v, err);

    if (rc != ER_OK)
        return rc;
    if (!v)
        return fail(x, NULL, err, "apiVersion is required (%s)", EXEC_V1);
    if (strcmp(v, EXEC_V1ALPHA1) == 0)
        return fail(x, node, err,
                    "apiVersion %s is no longer supported (client-go dropped "
                    "it in Kubernetes 1.24): use %s, or %s",
                    v, EXEC_V1, EXEC_V1BETA1);
    if (strcmp(v, EXEC_V1) != 0 && strcmp(v, EXEC_V1BETA1) != 0)
        return fail(x, node, err, "unsupported apiVersion \"%s\": use %s or %s",
                    v, EXEC_V1, EXEC_V1BETA1);
    e->api_version = xstrdup(v);
    return ER_OK;
}

static enum er_code exec_command(const struct kc_obj *x,
                                 struct kube_exec_config *e,
                                 struct er_error *err)
{
    const char *cmd;
    enum er_code rc = get_str(x, "command", &cmd, err);

    if (rc != ER_OK)
        return rc;
    if (!cmd)
        return fail(x, NULL, err, "command is required");
    /* A bare name is looked up in PATH; a path is the file's. */
    e->command = strchr(cmd, '/') ? join_dir(x->file->dir, cmd) : xstrdup(cmd);
    return ER_OK;
}

static enum er_code exec_args(const struct kc_obj *x,
                              struct kube_exec_config *e, struct er_error *err)
{
    json_t *list = json_object_get(x->obj, "args"), *a;
    size_t i;

    if (!list || json_is_null(list))
        return ER_OK;
    if (!json_is_array(list))
        return fail(x, list, err, "args must be a list of strings");
    json_array_foreach(list, i, a)
    {
        if (!json_is_string(a))
            return fail(x, list, err, "args must be a list of strings");
        str_list_push(&e->args, json_string_value(a));
    }
    return ER_OK;
}

static enum er_code exec_env_item(const struct kc_obj *x, json_t *item,
                                  struct kube_exec_env *out,
                                  struct er_error *err)
{
    struct kc_obj it = {x->file, item, x->obj, ""};
    const char *name, *value;
    enum er_code rc;

    set_label(&it, "%s: env entry", x->label);
    if (!json_is_object(item))
        return fail(x, item, err, "env entries must be mappings");
    if ((rc = get_str(&it, "name", &name, err)) != ER_OK ||
        (rc = get_str(&it, "value", &value, err)) != ER_OK)
        return rc;
    if (!name)
        return fail(&it, NULL, err, "name is required");
    out->name = xstrdup(name);
    out->value = xstrdup(value ? value : "");
    return ER_OK;
}

static enum er_code exec_env(const struct kc_obj *x, struct kube_exec_config *e,
                             struct er_error *err)
{
    json_t *list = json_object_get(x->obj, "env"), *item;
    enum er_code rc;
    size_t i;

    if (!list || json_is_null(list))
        return ER_OK;
    if (!json_is_array(list))
        return fail(x, list, err, "env must be a list of name/value pairs");
    e->env = xcalloc(json_array_size(list) + 1, sizeof(*e->env));
    json_array_foreach(list, i, item)
    {
        if ((rc = exec_env_item(x, item, &e->env[e->n_env], err)) != ER_OK)
            return rc;
        e->n_env++;
    }
    return ER_OK;
}

/* client-go requires interactiveMode for v1 and defaults it to
 * IfAvailable for v1beta1; here NULL stands for that default. */
static enum er_code exec_interactive(const struct kc_obj *x,
                                     struct kube_exec_config *e,
                                     struct er_error *err)
{
    const char *m;
    enum er_code rc = get_str(x, "interactiveMode", &m, err);

    if (rc != ER_OK)
        return rc;
    if (!m && strcmp(e->api_version, EXEC_V1) == 0)
        return fail(x, NULL, err,
                    "interactiveMode is required with %s (set it to Never)",
                    EXEC_V1);
    if (m && strcmp(m, "Never") != 0 && strcmp(m, "IfAvailable") != 0 &&
        strcmp(m, "Always") != 0)
        return fail(x, json_object_get(x->obj, "interactiveMode"), err,
                    "interactiveMode \"%s\" is not Never, IfAvailable or "
                    "Always",
                    m);
    if (m)
        e->interactive_mode = xstrdup(m);
    return ER_OK;
}

static void exec_config_free(struct kube_exec_config *e)
{
    if (!e)
        return;
    free(e->api_version);
    free(e->command);
    str_list_clear(&e->args);
    for (size_t i = 0; i < e->n_env; i++) {
        free(e->env[i].name);
        /* Plugins are sometimes handed credentials this way. */
        wipe_free_str(e->env[i].value);
    }
    free(e->env);
    free(e->interactive_mode);
    free(e->install_hint);
    free(e);
}

static enum er_code resolve_exec(const struct kc_obj *x,
                                 struct kube_exec_config **out,
                                 struct er_error *err)
{
    struct kube_exec_config *e = xcalloc(1, sizeof(*e));
    enum er_code rc;

    if ((rc = exec_api_version(x, e, err)) != ER_OK ||
        (rc = exec_command(x, e, err)) != ER_OK ||
        (rc = exec_args(x, e, err)) != ER_OK ||
        (rc = exec_env(x, e, err)) != ER_OK ||
        (rc = exec_interactive(x, e, err)) != ER_OK ||
        (rc = dup_str(x, "installHint", &e->install_hint, err)) != ER_OK) {
        exec_config_free(e);
        return rc;
    }
    e->provide_cluster_info = get_true(x, "provideClusterInfo");
    *out = e;
    return ER_OK;
}

/* --- users ------------------------------------------------------------- */

/* Methods client-go has but ecr-renew does not would otherwise fall
 * through to anonymous requests and confusing 401s. */
static enum er_code refuse_unsupported(const struct kc_obj *u,
                                       struct er_error *err)
{
    json_t *ap = json_object_get(u->obj, "auth-provider");

    if (ap && !json_is_null(ap))
        return fail(u, ap, err,
                    "auth-provider plugins are not supported: use an exec "
                    "plugin");
    if (json_object_get(u->obj, "username") ||
        json_object_get(u->obj, "password"))
        return fail(u, NULL, err,
                    "username/password authentication is not supported");
    return ER_OK;
}

static enum er_code user_cert(const struct kc_obj *u, struct kube_target *t,
                              struct er_error *err)
{
    enum er_code rc;

    if ((rc = get_data(u, "client-certificate-data", &t->client_cert_pem,
                       err)) != ER_OK ||
        (rc = get_data(u, "client-key-data", &t->client_key_pem, err)) != ER_OK)
        return rc;
    if (!t->client_cert_pem &&
        (rc = get_path(u, "client-certificate", &t->client_cert_file, err)) !=
            ER_OK)
        return rc;
    if (!t->client_key_pem &&
        (rc = get_path(u, "client-key", &t->client_key_file, err)) != ER_OK)
        return rc;
    if (!t->client_cert_pem && !t->client_cert_file &&
        (t->client_key_pem || t->client_key_file))
        return fail(u, NULL, err, "client-key without client-certificate");
    if ((t->client_cert_pem || t->client_cert_file) && !t->client_key_pem &&
        !t->client_key_file)
        return fail(u, NULL, err, "client-certificate without client-key");
    return ER_OK;
}

/* A user with nothing set is allowed: requests go out anonymous. */
static enum er_code resolve_user(const struct kc_obj *u, struct kube_target *t,
                                 struct er_error *err)
{
    struct kc_obj x;
    enum er_code rc;

    if ((rc = refuse_unsupported(u, err)) != ER_OK ||
        (rc = dup_str(u, "token", &t->token, err)) != ER_OK ||
        (rc = get_path(u, "tokenFile", &t->token_file, err)) != ER_OK ||
        (rc = user_cert(u, t, err)) != ER_OK ||
        (rc = get_sub(u, "exec", &x, err)) != ER_OK)
        return rc;
    /* The token becomes a header: a line break in it would add others. */
    if (t->token && !str_has_no_controls(t->token))
        return fail(u, json_object_get(u->obj, "token"), err,
                    "token holds a control character (a line break?)");
    if (x.obj)
        rc = resolve_exec(&x, &t->exec, err);
    return rc;
}

/* --- contexts ---------------------------------------------------------- */

/* The context in use: --context, or else the first current-context. */
static enum er_code pick_context(const struct kc_set *s, const char *override,
                                 const char **name, struct er_error *err)
{
    struct kc_obj top;
    const char *cc;
    enum er_code rc;

    *name = override && *override ? override : NULL;
    for (size_t i = 0; !*name && i < s->n; i++) {
        top.file = &s->files[i];
        top.obj = yaml_doc_root(s->files[i].doc);
        top.at = NULL;
        set_label(&top, "kubeconfig");
        if ((rc = get_str(&top, "current-context", &cc, err)) != ER_OK)
            return rc;
        *name = cc;
    }
    if (!*name)
        return er_set(err, ER_CONFIG,
                      "kubeconfig %s sets no current-context: pass --context "
                      "NAME to choose a context",
                      s->names);
    return ER_OK;
}

static enum er_code missing_context(const struct kc_set *s,
                                    const char *override, const char *name,
                                    struct er_error *err)
{
    if (override && *override)
        return er_set(err, ER_CONFIG,
                      "context \"%s\" (from --context) is not defined in "
                      "kubeconfig %s",
                      name, s->names);
    return er_set(err, ER_CONFIG,
                  "current-context \"%s\" is not defined in kubeconfig %s: "
                  "pass --context NAME to choose another",
                  name, s->names);
}

/* Finds the cluster or user a context names, or says which context
 * named what no file defines. */
static enum er_code referred(const struct kc_set *s, const struct kc_obj *ctx,
                             const struct kc_kind *k, struct kc_obj *out,
                             struct er_error *err)
{
    const char *name;
    bool have;
    enum er_code rc;

    if ((rc = get_str(ctx, k->body, &name, err)) != ER_OK)
        return rc;
    if (!name)
        return fail(ctx, NULL, err, "names no %s", k->body);
    if ((rc = find_entry(s, k, name, out, &have, err)) != ER_OK)
        return rc;
    if (!have)
        return fail(ctx, json_object_get(ctx->obj, k->body), err,
                    "names %s \"%s\", which no kubeconfig file defines (%s)",
                    k->body, name, s->names);
    return ER_OK;
}

static enum er_code resolve(const struct kc_set *s, const char *override,
                            struct kube_target *t, struct er_error *err)
{
    struct kc_obj ctx, cluster, user;
    const char *name;
    bool have;
    enum er_code rc;

    if ((rc = pick_context(s, override, &name, err)) != ER_OK ||
        (rc = find_entry(s, &KIND_CONTEXT, name, &ctx, &have, err)) != ER_OK)
        return rc;
    if (!have)
        return missing_context(s, override, name, err);
    if ((rc = referred(s, &ctx, &KIND_CLUSTER, &cluster, err)) != ER_OK ||
        (rc = referred(s, &ctx, &KIND_USER, &user, err)) != ER_OK ||
        (rc = dup_str(&ctx, "namespace", &t->namespace, err)) != ER_OK ||
        (rc = resolve_cluster(&cluster, t, err)) != ER_OK ||
        (rc = resolve_user(&user, t, err)) != ER_OK)
        return rc;
    t->origin = xasprintf("kubeconfig %s (context %s)", ctx.file->name, name);
    return ER_OK;
}

/* --- files ------------------------------------------------------------- */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return xstrdup(".");
    /* "/config" lives in "/", which join_dir spells "" + "/". */
    return xstrndup(path, (size_t)(slash - path));
}

static enum er_code parse_file(struct kc_file *f, const char *text, size_t len,
                               const char *name, struct er_error *err)
{
    struct kc_obj top;
    json_t *root;
    enum er_code rc;

    f->name = name;
    f->dir = dir_of(name);
    if ((rc = yaml_doc_parse(text, len, name, &f->doc, err)) != ER_OK)
        return rc;
    root = yaml_doc_root(f->doc);
    if (json_is_object(root) || json_is_null(root))
        return ER_OK;
    top.file = f;
    top.obj = NULL;
    top.at = root;
    set_label(&top, "kubeconfig");
    return fail(&top, NULL, err,
                "not a mapping of clusters, users and "
                "contexts");
}

static void set_free(struct kc_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->files[i].dir);
        yaml_doc_free(s->files[i].doc);
    }
    free(s->files);
    free(s->names);
}

static void join_names(struct kc_set *s, const char *const *names, size_t n)
{
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < n; i++)
        buf_must_addf(&b, "%s%s", i ? ":" : "", names[i]);
    s->names = buf_detach(&b, NULL);
}

enum er_code kubeconfig_parse(const char *const *texts, const size_t *lens,
                              const char *const *names, size_t n,
                              const char *context_override,
                              struct kube_target *out, struct er_error *err)
{
    struct kc_set s = {NULL, 0, NULL};
    struct kube_target t;
    enum er_code rc = ER_OK;

    memset(&t, 0, sizeof(t));
    join_names(&s, names, n);
    s.files = xcalloc(n ? n : 1, sizeof(*s.files));
    for (; s.n < n && rc == ER_OK; s.n++)
        rc = parse_file(&s.files[s.n], texts[s.n], lens[s.n], names[s.n], err);
    if (rc == ER_OK)
        rc = resolve(&s, context_override, &t, err);
    set_free(&s);
    if (rc != ER_OK) {
        kube_target_free(&t);
        return rc;
    }
    *out = t;
    return ER_OK;
}

/* --- reading ----------------------------------------------------------- */

struct kc_texts {
    struct buf *bufs;
    const char **texts;
    size_t *lens;
    char **names;
    size_t n;
};

/* Relative entries in KUBECONFIG are relative to where we run, and the
 * paths inside such a file are relative to it: make them absolute. */
static char *absolute(const char *path)
{
    char cwd[4096];

    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return xstrdup(path);
    return xasprintf("%s/%s", cwd, path);
}

static bool seen(const struct kc_texts *k, const char *path)
{
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->names[i], path) == 0)
            return true;
    }
    return false;
}

/* Reads one listed file; like kubectl, a file that does not exist is
 * skipped, and a file listed twice counts once. */
static enum er_code read_one(struct kc_texts *k, const char *listed,
                             struct er_error *err)
{
    char *path = absolute(listed);
    struct buf *b = &k->bufs[k->n];
    bool missing = false;
    enum er_code rc = ER_OK;

    buf_init(b, KUBECONFIG_FILE_CAP, BUF_SECRET);
    if (seen(k, path))
        goto out;
    if ((rc = file_read(path, b, &missing, err)) != ER_OK || missing)
        goto out;
    k->texts[k->n] = buf_str(b);
    k->lens[k->n] = b->len;
    k->names[k->n++] = path;
    path = NULL;
out:
    if (path)
        buf_free(b);
    free(path);
    return rc;
}

static void texts_free(struct kc_texts *k)
{
    for (size_t i = 0; i < k->n; i++) {
        buf_free(&k->bufs[i]);
        free(k->names[i]);
    }
    free(k->bufs);
    free(k->texts);
    free(k->lens);
    free(k->names);
}

enum er_code kubeconfig_load(const char *paths, const char *context_override,
                             struct kube_target *out, struct er_error *err)
{
    struct kc_texts k = {NULL, NULL, NULL, NULL, 0};
    struct str_list list = {NULL, 0};
    size_t n;
    enum er_code rc = ER_OK;

    (void)str_list_add_split(&list, paths ? paths : "", ':');
    n = list.n;
    k.bufs = xcalloc(n + 1, sizeof(*k.bufs));
    k.texts = xcalloc(n + 1, sizeof(*k.texts));
    k.lens = xcalloc(n + 1, sizeof(*k.lens));
    k.names = xcalloc(n + 1, sizeof(*k.names));
    for (size_t i = 0; i < n && rc == ER_OK; i++)
        rc = read_one(&k, list.items[i], err);
    if (rc == ER_OK && n == 0)
        rc = er_set(err, ER_CONFIG, "no kubeconfig path given");
    else if (rc == ER_OK && k.n == 0)
        rc = er_set(err, ER_CONFIG, "no kubeconfig file found (looked for %s)",
                    paths);
    if (rc == ER_OK)
        rc = kubeconfig_parse(k.texts, k.lens, (const char *const *)k.names,
                              k.n, context_override, out, err);
    texts_free(&k);
    str_list_clear(&list);
    return rc;
}

/* --- in-cluster -------------------------------------------------------- */

static enum er_code must_exist(const char *path, const char *what,
                               struct er_error *err)
{
    if (access(path, R_OK) != 0)
        return er_set(err, ER_CONFIG, "in-cluster: %s %s: %s", what, path,
                      strerror(errno));
    return ER_OK;
}

/* The pod's namespace, when the service-account folder has it. */
static char *sa_namespace(const char *sa_dir)
{
    struct buf b = BUF_INIT;
    char *path = xasprintf("%s/namespace", sa_dir);
    char *ns = NULL;
    const char *s;
    size_t n;
    bool missing;
    struct er_error ignored;

    buf_init(&b, SA_NAMESPACE_CAP, BUF_PLAIN);
    if (file_read(path, &b, &missing, &ignored) == ER_OK && !missing) {
        s = str_trim(buf_str(&b), &n);
        if (n > 0)
            ns = xstrndup(s, n);
    }
    buf_free(&b);
    free(path);
    return ns;
}

static enum er_code check_service(const char *host, const char *port,
                                  struct er_error *err)
{
    long p;

    if (!host || !*host || !port || !*port)
        return er_set(err, ER_CONFIG,
                      "in-cluster: KUBERNETES_SERVICE_HOST and "
                      "KUBERNETES_SERVICE_PORT must be set (is this a pod?)");
    if (str_to_long(port, 1, 65535, &p) != 0)
        return er_set(err, ER_CONFIG,
                      "in-cluster: KUBERNETES_SERVICE_PORT \"%s\" is not a "
                      "port number",
                      port);
    return ER_OK;
}

enum er_code kube_incluster(const char *host, const char *port,
                            const char *sa_dir, struct kube_target *out,
                            struct er_error *err)
{
    struct kube_target t;
    bool v6;
    enum er_code rc;

    memset(&t, 0, sizeof(t));
    sa_dir = sa_dir ? sa_dir : KUBE_SA_DIR_DEFAULT;
    if ((rc = check_service(host, port, err)) != ER_OK)
        return rc;
    t.token_file = xasprintf("%s/token", sa_dir);
    t.ca_file = xasprintf("%s/ca.crt", sa_dir);
    if ((rc = must_exist(t.token_file, "service-account token", err)) !=
            ER_OK ||
        (rc = must_exist(t.ca_file, "service-account CA", err)) != ER_OK) {
        kube_target_free(&t);
        return rc;
    }
    v6 = strchr(host, ':') && host[0] != '[';
    if (v6)
        t.server = xasprintf("https://[%s]:%s", host, port);
    else
        t.server = xasprintf("https://%s:%s", host, port);
    t.namespace = sa_namespace(sa_dir);
    t.origin = xstrdup("in-cluster");
    *out = t;
    return ER_OK;
}

void kube_target_free(struct kube_target *t)
{
    if (!t)
        return;
    free(t->origin);
    free(t->server);
    free(t->tls_server_name);
    free(t->proxy_url);
    free(t->ca_file);
    free(t->ca_pem);
    free(t->client_cert_file);
    free(t->client_cert_pem);
    free(t->client_key_file);
    wipe_free_str(t->client_key_pem);
    wipe_free_str(t->token);
    free(t->token_file);
    exec_config_free(t->exec);
    free(t->namespace);
    memset(t, 0, sizeof(*t));
}
