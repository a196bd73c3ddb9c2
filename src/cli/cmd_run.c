/*
 * ecr-renew run: the controller. Keeps the pull Secret of every selected
 * namespace fresh for ever, serves new namespaces at once and repairs
 * drift (see ctl/controller.h), with health and metrics on --listen.
 *
 * Everything runs on one loop: the Kubernetes requests and watches, the
 * HTTP endpoint, timers and the signal pipe. AWS calls run on the token
 * worker's thread (ctl/tokens.h).
 */
#include "cluster.h"
#include "commands.h"
#include "common.h"
#include "../core/log.h"
#include "../core/fileio.h"
#include "../core/loop.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"
#include "../ctl/controller.h"
#include "../ctl/heal.h"
#include "../ctl/tokens.h"
#include "../kube/names.h"
#include "../net/httpd.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each token fetch (credentials, STS, ECR, retries included); the first
 * also bounds the start (region lookup). */
#define RUN_DEFAULT_TIMEOUT_MS (2 * 60 * 1000)
#define RUN_DEFAULT_LISTEN ":8080"

static const char run_usage[] =
    "Usage: ecr-renew run [--namespace NS|GLOB]... [--exclude-namespace "
    "GLOB]...\n"
    "                     [--namespace-selector SELECTOR] [--secret-name "
    "NAME]\n"
    "                     [--region REGION]... [--registry-id ID]...\n"
    "                     [--kubeconfig FILE] [--context NAME]\n"
    "                     [--service-account NAME]... "
    "[--annotated-service-accounts]\n"
    "                     [--listen ADDR|off] [--leader-elect]\n"
    "                     [--lease-name NAME] [--lease-namespace NS]\n"
    "                     [--heal-pods] [--heal-rate N]\n"
    "                     [--timeout DURATION]\n"
    "\n"
    "Runs until stopped, keeping the pull Secret of every selected namespace\n"
    "fresh: it lists and watches the namespaces and the Secrets named\n"
    "--secret-name, writes what is missing or stale, gives a new namespace\n"
    "its Secret at once, puts back a Secret someone deleted or changed, and\n"
    "renews the tokens when half their life has passed. A Secret that is\n"
    "not ours is never touched (reported once per change), and one holding\n"
    "a later token (another copy renewed first) is kept. A namespace that\n"
    "stops matching keeps its Secret; it is no longer refreshed. With\n"
    "--service-account or --annotated-service-accounts it watches the\n"
    "ServiceAccounts too and adds the Secret to their imagePullSecrets once\n"
    "it is written (get, list, watch and patch on serviceaccounts).\n"
    "\n"
    "Options (environment variable in brackets):\n" CLUSTER_SELECTION_HELP
    "                         run lists and watches namespaces even for\n"
    "                         exact names, so it needs list and watch on\n"
    "                         namespaces.\n" CLUSTER_OTHER_HELP
    "  --listen ADDR          health and metrics: /healthz, /readyz,\n"
    "                         /metrics [ECR_RENEW_LISTEN] (default: :8080;\n"
    "                         off: none; 127.0.0.1:9090, [::1]:9090)\n"
    "  --leader-elect         only the holder of a coordination.k8s.io Lease\n"
    "                         writes; the others keep their caches warm and\n"
    "                         take over within 20 s of its death (5 s after a\n"
    "                         SIGTERM) [ECR_RENEW_LEADER_ELECT=true]\n"
    "  --lease-name NAME      [ECR_RENEW_LEASE_NAME] (default: ecr-renew)\n"
    "  --lease-namespace NS   [ECR_RENEW_LEASE_NAMESPACE] (default: the pod's\n"
    "                         own, from the service-account folder, else\n"
    "                         kube-system)\n"
    "  --heal-pods            delete, once, a pod stuck in ErrImagePull or\n"
    "                         ImagePullBackOff on our registry whose\n"
    "                         imagePullSecrets lacks the Secret while its\n"
    "                         ServiceAccount now has it, when a ReplicaSet,\n"
    "                         StatefulSet, DaemonSet or Job owns it (never a\n"
    "                         bare pod), so it is made again with the Secret\n"
    "                         [ECR_RENEW_HEAL_PODS=true]; needs list, watch\n"
    "                         and delete on pods\n"
    "  --heal-rate N          at most N such deletions a minute\n"
    "                         [ECR_RENEW_HEAL_RATE] (default: 10)\n"
    "  --log-format FORMAT    text or json [ECR_RENEW_LOG_FORMAT]\n"
    "  --log-level LEVEL      debug, info, warn, error [ECR_RENEW_LOG_LEVEL]\n"
    "  --timeout DURATION     limit of each token fetch, all its retries\n"
    "                         included [ECR_RENEW_TIMEOUT] (default: 2m)\n"
    "  -h, --help             show this help\n"
    "\n"
    "It records Kubernetes Events (SecretCreated, SecretTakenOver,\n"
    "SecretRestored, ForeignSecret, SecretWriteFailed; TokenRenewalFailed on\n"
    "its own Pod, named by POD_NAME and POD_NAMESPACE), one per object and\n"
    "reason, updated at most once a minute: create and patch on events.\n"
    "\n"
    "SIGTERM or SIGINT stops it within a second or two (a leader gives its\n"
    "Lease up first), exit status 0. A bad option, kubeconfig or AWS\n"
    "setting found at start exits with the statuses sync uses (2-5);\n"
    "trouble later (AWS or the API server down, 401s, 5xx) is retried with\n"
    "backoff and shown in /readyz, the metrics and the log, never an exit.\n";

struct run_opts {
    struct cluster_opts cl;
    const char *listen;
    bool leader_elect;
    bool heal_pods;
    long heal_rate;
    const char *lease_name;
    char *lease_namespace; /* owned */
    char *identity;        /* owned */
    struct cli_common common;
};

enum {
    OPT_LISTEN = OPT_CLUSTER_END,
    OPT_LEADER_ELECT,
    OPT_LEASE_NAME,
    OPT_LEASE_NAMESPACE,
    OPT_HEAL_PODS,
    OPT_HEAL_RATE,
};

static const struct option run_longopts[] = {
    CLUSTER_LONG_OPTIONS,
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"leader-elect", no_argument, NULL, OPT_LEADER_ELECT},
    {"lease-name", required_argument, NULL, OPT_LEASE_NAME},
    {"lease-namespace", required_argument, NULL, OPT_LEASE_NAMESPACE},
    {"heal-pods", no_argument, NULL, OPT_HEAL_PODS},
    {"heal-rate", required_argument, NULL, OPT_HEAL_RATE},
    COMMON_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static const char *env_value(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

/* The pod's own namespace, from the service-account folder, else
 * kube-system. */
static char *default_lease_namespace(void)
{
    const char *dir = env_value("ECR_RENEW_SERVICEACCOUNT_DIR");
    char *path =
        xasprintf("%s/namespace", dir ? dir
                                      : "/var/run/secrets/kubernetes.io/"
                                        "serviceaccount");
    char *ns = NULL;
    struct er_error err = {0};

    if (file_read_token(path, "the service-account namespace file", 256, &ns,
                        &err) != ER_OK ||
        !kube_name_is_label(ns)) {
        free(ns);
        ns = xstrdup("kube-system");
    }
    free(path);
    return ns;
}

/* <pod or host name>_<random>: two processes on one host never share
 * one, as kube-controller-manager's rule has it. */
static char *make_identity(void)
{
    const char *pod = env_value("POD_NAME");
    const struct clock *c = clock_system();
    char host[256] = "";

    if (!pod && gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "ecr-renew");
    return xasprintf("%s_%08lx%08lx", pod ? pod : host,
                     (unsigned long)(c->random01(c->ctx) * 4294967295.0),
                     (unsigned long)(c->random01(c->ctx) * 4294967295.0));
}

static int take_heal_rate(struct run_opts *o, const char *what,
                          const char *value)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(value, &end, 10);
    if (errno || end == value || *end || n < 1 || n > HEAL_MAX_RATE)
        return cli_usage_error("run",
                               "%s \"%s\" is not a number of pods a minute "
                               "from 1 to %d",
                               what, value, HEAL_MAX_RATE);
    o->heal_rate = n;
    return 0;
}

static int finish_healing(struct run_opts *o)
{
    const char *v = env_value("ECR_RENEW_HEAL_RATE");

    if (!o->heal_pods)
        o->heal_pods = str_is_true(getenv("ECR_RENEW_HEAL_PODS"));
    if (!o->heal_rate && v)
        return take_heal_rate(o, "ECR_RENEW_HEAL_RATE", v);
    if (!o->heal_rate)
        o->heal_rate = HEAL_DEFAULT_RATE;
    return 0;
}

static int finish_election(struct run_opts *o)
{
    const char *ns;

    if (!o->leader_elect)
        o->leader_elect = str_is_true(getenv("ECR_RENEW_LEADER_ELECT"));
    if (!o->lease_name)
        o->lease_name = env_value("ECR_RENEW_LEASE_NAME");
    if (!o->lease_name)
        o->lease_name = "ecr-renew";
    ns = o->lease_namespace ? NULL : env_value("ECR_RENEW_LEASE_NAMESPACE");
    if (ns)
        o->lease_namespace = xstrdup(ns);
    if (!o->lease_namespace)
        o->lease_namespace = default_lease_namespace();
    if (!kube_name_is_subdomain(o->lease_name))
        return cli_usage_error("run",
                               "--lease-name \"%s\" is not a "
                               "Kubernetes name",
                               o->lease_name);
    if (!kube_name_is_label(o->lease_namespace))
        return cli_usage_error("run",
                               "--lease-namespace \"%s\" is not a "
                               "namespace name",
                               o->lease_namespace);
    o->identity = make_identity();
    return 0;
}

static int parse(int argc, char **argv, struct run_opts *o)
{
    int c, status;

    while ((c = getopt_long(argc, argv, "hn:", run_longopts, NULL)) != -1) {
        if (c == OPT_LISTEN)
            o->listen = optarg;
        else if (c == OPT_LEADER_ELECT)
            o->leader_elect = true;
        else if (c == OPT_HEAL_PODS)
            o->heal_pods = true;
        else if (c == OPT_HEAL_RATE &&
                 (status = take_heal_rate(o, "--heal-rate", optarg)) != 0)
            return status;
        else if (c == OPT_HEAL_RATE)
            continue;
        else if (c == OPT_LEASE_NAME)
            o->lease_name = optarg;
        else if (c == OPT_LEASE_NAMESPACE) {
            free(o->lease_namespace);
            o->lease_namespace = xstrdup(optarg);
        } else if ((status = cluster_opts_take("run", &o->cl, c, optarg)) > 0)
            return status;
        else if (status < 0 &&
                 (status = cli_other_option("run", c, optarg, &o->common)) != 0)
            return status;
    }
    if ((status = cli_no_arguments("run", argc, argv)) != 0 || o->common.help)
        return status;
    if ((status = cluster_opts_finish("run", &o->cl)) != 0)
        return status;
    if (!o->listen)
        o->listen = getenv("ECR_RENEW_LISTEN");
    if (!o->listen || !*o->listen)
        o->listen = RUN_DEFAULT_LISTEN;
    if ((status = finish_election(o)) != 0 || (status = finish_healing(o)) != 0)
        return status;
    return cli_start_deadline("run", &o->common, RUN_DEFAULT_TIMEOUT_MS);
}

struct run {
    struct run_opts o;
    struct loop *loop;
    struct kube_client *kc;
    struct aws_session *sess; /* until the worker takes it */
    struct token_worker *tokens;
    struct controller *ctl;
    struct httpd *httpd;
};

static void run_opts_clear(struct run_opts *o)
{
    cluster_opts_clear(&o->cl);
    free(o->lease_namespace);
    free(o->identity);
}

/* --- signals --------------------------------------------------------------
 */

/* The self-pipe: the handler writes the signal's number, the loop reads
 * it (as OpenBSD's daemons and redis do), so nothing else runs in a
 * handler. */
static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;

    (void)!write(signal_pipe[1], &c, 1);
    errno = saved;
}

static void stop_loop(void *ctx)
{
    loop_stop(ctx);
}

/* Stops writing, gives the Lease up if held, then stops the loop. */
static void on_signal_byte(void *ctx, int fd, int events)
{
    struct run *r = ctx;
    unsigned char c = 0;

    (void)events;
    if (read(fd, &c, 1) == 1)
        log_event(LOG_INFO, "stopping", "signal",
                  c == SIGTERM ? "SIGTERM" : "SIGINT", LOG_END);
    if (r->ctl)
        controller_shutdown(r->ctl, stop_loop, r->loop);
    else
        loop_stop(r->loop);
}

static enum er_code catch_signals(struct run *r, struct er_error *err)
{
    struct sigaction sa = {.sa_handler = on_signal};

    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return er_set(err, ER_INTERNAL, "signal pipe: %s", strerror(errno));
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    loop_watch(r->loop, signal_pipe[0], LOOP_READ, on_signal_byte, r);
    return ER_OK;
}

static void release_signals(void)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    for (int i = 0; i < 2; i++) {
        if (signal_pipe[i] >= 0)
            close(signal_pipe[i]);
        signal_pipe[i] = -1;
    }
}

/* --- the endpoint ---------------------------------------------------------
 */

static void serve(void *ctx, const char *path, struct httpd_reply *reply)
{
    struct controller *c = ctx;
    char why[256];

    reply->status = 200;
    reply->content_type = "text/plain; charset=utf-8";
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0) {
        /* Answering at all shows the loop is turning. */
        reply->body = xstrdup("ok\n");
    } else if (strcmp(path, "/readyz") == 0) {
        if (!controller_ready(c, why, sizeof(why)))
            reply->status = 503;
        reply->body = xasprintf("%s\n", why);
    } else if (strcmp(path, "/metrics") == 0) {
        reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
        reply->body = controller_metrics(c);
    } else {
        reply->status = 404;
        reply->body = xstrdup("not found: try /healthz, /readyz or /metrics\n");
    }
}

/* --- the run --------------------------------------------------------------
 */

static const char *process_env(const char *name)
{
    return getenv(name);
}

/* Everything a bad setting can break, found before the loop starts. */
static enum er_code start(struct run *r, struct er_error *err)
{
    struct aws_settings settings;
    struct controller_config cfg;
    enum er_code rc;

    if ((rc = cluster_open(&r->o.cl, NULL, &r->kc, err)) != ER_OK)
        return rc;
    aws_settings_from_env(&settings, process_env);
    r->sess = xcalloc(1, sizeof(*r->sess));
    if ((rc = aws_session_open(r->sess, &settings, r->o.cl.regions.items,
                               r->o.cl.regions.n, clock_system(),
                               &r->o.common.deadline, err)) != ER_OK)
        return rc;
    r->loop = loop_new(clock_system());
    if ((rc = catch_signals(r, err)) != ER_OK)
        return rc;
    cfg = (struct controller_config){
        .selection = &r->o.cl.selection,
        .secret_name = r->o.cl.secret_name,
        .auth = {.fips_hosts = r->sess->settings.use_fips,
                 .dualstack_hosts = r->sess->settings.use_dualstack,
                 .aliases = &r->o.cl.reg.aliases},
        .service_accounts = &r->o.cl.service_accounts,
        .all_service_accounts = r->o.cl.all_service_accounts,
        .annotated_service_accounts = r->o.cl.annotated_service_accounts,
        .leader_elect = r->o.leader_elect,
        .heal_pods = r->o.heal_pods,
        .heal_rate = (int)r->o.heal_rate,
        .lease_namespace = r->o.lease_namespace,
        .lease_name = r->o.lease_name,
        .identity = r->o.identity,
        .pod_name = env_value("POD_NAME"),
        .pod_namespace = env_value("POD_NAMESPACE"),
    };
    r->ctl = controller_new(r->loop, r->kc, &cfg);
    if (strcmp(r->o.listen, "off") != 0) {
        if ((rc = httpd_start(r->loop, r->o.listen, serve, r->ctl, &r->httpd,
                              err)) != ER_OK)
            return rc;
        log_event(LOG_INFO, "listening", "address", httpd_address(r->httpd),
                  "paths", "/healthz /readyz /metrics", LOG_END);
    }
    if ((rc = token_worker_start(
             r->loop, r->sess, &r->o.cl.ids, r->o.cl.reg.public_registry,
             r->o.common.deadline.total_ms, controller_on_tokens, r->ctl,
             &r->tokens, err)) != ER_OK)
        return rc;
    r->sess = NULL; /* the worker's now */
    return ER_OK;
}

/* Frees what start made; true when a token fetch was abandoned. */
static bool stop(struct run *r)
{
    bool abandoned;

    httpd_stop(r->httpd);
    controller_free(r->ctl);
    abandoned = token_worker_stop(r->tokens);
    if (r->sess) {
        aws_session_close(r->sess);
        free(r->sess);
    }
    kube_client_free(r->kc);
    release_signals();
    loop_free(r->loop);
    return abandoned;
}

int cmd_run(int argc, char **argv)
{
    struct run r = {0};
    struct er_error err = {0};
    int status = parse(argc, argv, &r.o);

    if (status != 0 || r.o.common.help) {
        if (r.o.common.help)
            fputs(run_usage, stdout);
        run_opts_clear(&r.o);
        return status;
    }
    /* One malloc arena: the AWS worker would otherwise get its own, whose
     * pages a long-running process keeps. */
    mallopt(M_ARENA_MAX, 1);
    if (start(&r, &err) != ER_OK) {
        status = cli_fail("run", &err);
    } else {
        log_event(LOG_INFO, "controller started", "secret", r.o.cl.secret_name,
                  LOG_END);
        controller_start(r.ctl, r.tokens);
        if (loop_run(r.loop, &err) != ER_OK)
            status = cli_fail("run", &err);
        else
            status = controller_fatal_status(r.ctl);
    }
    if (stop(&r)) {
        /* A fetch is still running on the worker: exit's cleanup would
         * pull libcurl and OpenSSL from under it. */
        log_event(LOG_INFO, "stopped", "note", "a token fetch was abandoned",
                  LOG_END);
        fflush(NULL);
        _exit(status);
    }
    run_opts_clear(&r.o);
    if (status == 0)
        log_event(LOG_INFO, "stopped", LOG_END);
    return status;
}
