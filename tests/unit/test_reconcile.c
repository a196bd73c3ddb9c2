/*
 * The controller's decision for one Secret: its whole table.
 */
#include "ctl/reconcile.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <string.h>

#define WANT "aaaa"
#define OLD "bbbb"
#define OTHER "cccc"
#define REGS "rrrr"
#define EXP ((time_t)1767268800)

static struct secret_view view(bool present, enum kube_secret_verdict v,
                               const char *hash, time_t exp,
                               const char *written)
{
    struct secret_view s = {
        .present = present, .verdict = v, .expires_at = exp};

    snprintf(s.data_hash, sizeof(s.data_hash), "%s", hash);
    snprintf(s.registries_hash, sizeof(s.registries_hash), "%s", REGS);
    snprintf(s.good_hash, sizeof(s.good_hash), "%s", written);
    return s;
}

static void check(struct secret_view s, enum reconcile_action want,
                  bool restore)
{
    struct reconcile_want w = {
        .data_hash = WANT, .registries_hash = REGS, .expires_at = EXP};
    struct reconcile_decision d = reconcile_decide(&s, &w);

    assert_string_equal(reconcile_action_name(d.action),
                        reconcile_action_name(want));
    assert_int_equal(d.restore, restore);
}

static void reconcile_decide__table(void **state)
{
    (void)state;
    /* Missing: written, and a restore when we had written it. */
    check(view(false, KUBE_SECRET_OURS, "", 0, ""), RECONCILE_WRITE, false);
    check(view(false, KUBE_SECRET_OURS, "", 0, WANT), RECONCILE_WRITE, true);
    /* Fresh: nothing to do. */
    check(view(true, KUBE_SECRET_OURS, WANT, EXP, WANT), RECONCILE_NOTHING,
          false);
    /* The same password renewed with a later expiry: the annotation is
     * brought up to date. */
    check(view(true, KUBE_SECRET_OURS, WANT, EXP - 60, WANT), RECONCILE_WRITE,
          false);
    /* Our older token: an update. */
    check(view(true, KUBE_SECRET_OURS, OLD, EXP - 60, OLD), RECONCILE_WRITE,
          false);
    /* Changed by someone after our write: restored. */
    check(view(true, KUBE_SECRET_OURS, OTHER, EXP, WANT), RECONCILE_WRITE,
          true);
    /* A later token than ours (another copy renewed first): kept. */
    check(view(true, KUBE_SECRET_OURS, OTHER, EXP + 60, WANT),
          RECONCILE_KEEP_NEWER, false);
    /* ...but only for the same registries: a copy configured for others
     * does not hold what this one serves. */
    {
        struct secret_view s =
            view(true, KUBE_SECRET_OURS, OTHER, EXP + 60, WANT);
        snprintf(s.registries_hash, sizeof(s.registries_hash), "%s", OTHER);
        check(s, RECONCILE_WRITE, true);
    }
    /* Not ours: reported, never written. */
    check(view(true, KUBE_SECRET_FOREIGN, OTHER, 0, WANT), RECONCILE_FOREIGN,
          false);
    /* Unlabelled dockerconfigjson: taken over. */
    check(view(true, KUBE_SECRET_TAKE_OVER, OTHER, 0, ""), RECONCILE_WRITE,
          false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reconcile_decide__table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
