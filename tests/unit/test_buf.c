/*
 * struct buf: the hard cap that keeps a peer from eating our memory, the
 * wiping of secret buffers, and handing the data over with buf_detach.
 */
#include "core/buf.h"
#include "test_assert.h"
#include "test_util.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void buf_add__within_cap__appends_and_terminates(void **state)
{
    struct buf b = BUF_INIT;

    assert_int_equal(buf_adds(&b, "ab"), BUF_OK);
    assert_int_equal(buf_addc(&b, 'c'), BUF_OK);
    assert_int_equal(buf_add(&b, "d\0e", 3), BUF_OK);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "abcd\0e", 7); /* includes the terminator */
    buf_free(&b);
}

static void buf_add__exactly_cap__accepted(void **state)
{
    struct buf b;

    buf_init(&b, 8, BUF_PLAIN);
    assert_int_equal(buf_adds(&b, "12345678"), BUF_OK);
    assert_string_equal(buf_str(&b), "12345678");
    assert_true(b.alloc <= b.cap + 1);
    buf_free(&b);
}

static void buf_add__beyond_cap__refuses_and_keeps_contents(void **state)
{
    struct buf b;

    buf_init(&b, 8, BUF_PLAIN);
    assert_int_equal(buf_adds(&b, "12345"), BUF_OK);
    assert_int_equal(buf_adds(&b, "6789"), BUF_TOO_BIG);
    assert_int_equal(buf_addc(&b, 'x'), BUF_OK);
    assert_int_equal(buf_addc(&b, 'y'), BUF_OK);
    assert_int_equal(buf_addc(&b, 'z'), BUF_OK);
    assert_int_equal(buf_addc(&b, '!'), BUF_TOO_BIG);
    assert_string_equal(buf_str(&b), "12345xyz");
    assert_int_equal(b.len, 8);
    buf_free(&b);
}

static void buf_add__size_max__refuses_without_overflow(void **state)
{
    struct buf b = BUF_INIT;

    assert_int_equal(buf_adds(&b, "x"), BUF_OK);
    assert_int_equal(buf_add(&b, "y", SIZE_MAX), BUF_TOO_BIG);
    assert_int_equal(buf_add(&b, "y", SIZE_MAX - 1), BUF_TOO_BIG);
    assert_string_equal(buf_str(&b), "x");
    buf_free(&b);
}

static void buf_addf__beyond_cap__refuses_without_partial_write(void **state)
{
    struct buf b;

    buf_init(&b, 10, BUF_PLAIN);
    assert_int_equal(buf_addf(&b, "%s-%d", "ab", 42), BUF_OK);
    assert_int_equal(buf_addf(&b, "%s", "far too long"), BUF_TOO_BIG);
    assert_string_equal(buf_str(&b), "ab-42");
    assert_int_equal(b.len, 5);
    buf_free(&b);
}

static void buf_addf__large_output__formats_whole(void **state)
{
    struct buf b = BUF_INIT;
    char big[5000];

    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(buf_addf(&b, "<%s>", big), BUF_OK);
    assert_int_equal(b.len, sizeof(big) - 1 + 2);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[b.len - 1], '>');
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);
}

static void buf_str__never_used__returns_empty_string(void **state)
{
    struct buf b = BUF_INIT;

    assert_null(b.data);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

/* buf_must_add is for builders we control: exceeding the cap is a bug and
 * must stop the process rather than truncate silently. */
static void buf_must_add__beyond_cap__aborts(void **state)
{
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct buf b;
        /* Keep the child's expected complaint out of the test log. */
        if (!freopen("/dev/null", "w", stderr))
            _exit(2);
        buf_init(&b, 4, BUF_PLAIN);
        buf_must_adds(&b, "12345");
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void buf_secret__growing_many_times__keeps_contents(void **state)
{
    struct buf b = BUF_INIT_SECRET;
    char expect[3000];

    for (size_t i = 0; i < sizeof(expect) - 1; i++) {
        expect[i] = (char)('a' + i % 26);
        assert_int_equal(buf_addc(&b, expect[i]), BUF_OK);
    }
    expect[sizeof(expect) - 1] = '\0';
    assert_string_equal(buf_str(&b), expect);
    buf_free(&b);
}

static void buf_reset__secret__wipes_old_bytes(void **state)
{
    struct buf b = BUF_INIT_SECRET;
    size_t old_len;

    assert_int_equal(buf_adds(&b, "hunter2-not-a-real-password"), BUF_OK);
    old_len = b.len;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    /* The memory is still the buffer's, so reading it is allowed. */
    for (size_t i = 0; i < old_len; i++)
        assert_int_equal(b.data[i], 0);
    buf_free(&b);
}

static void buf_reset__plain__empties_and_allows_reuse(void **state)
{
    struct buf b = BUF_INIT;

    assert_int_equal(buf_adds(&b, "first"), BUF_OK);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_adds(&b, "second"), BUF_OK);
    assert_string_equal(buf_str(&b), "second");
    buf_free(&b);
}

static void buf_detach__with_data__hands_over_and_empties(void **state)
{
    struct buf b = BUF_INIT;
    size_t len = 0;
    char *data;

    assert_int_equal(buf_adds(&b, "payload"), BUF_OK);
    data = buf_detach(&b, &len);
    assert_string_equal(data, "payload");
    assert_int_equal(len, 7);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    /* The buffer is usable again, independently of the detached data. */
    assert_int_equal(buf_adds(&b, "again"), BUF_OK);
    assert_string_equal(buf_str(&b), "again");
    assert_string_equal(data, "payload");
    free(data);
    buf_free(&b);
}

static void buf_detach__empty__returns_allocated_empty_string(void **state)
{
    struct buf b = BUF_INIT;
    size_t len = 99;
    char *data = buf_detach(&b, &len);

    assert_non_null(data);
    assert_string_equal(data, "");
    assert_int_equal(len, 0);
    free(data); /* must be a real allocation */
    buf_free(&b);
}

static void buf_detach__secret__keeps_flags_and_cap(void **state)
{
    struct buf b;
    char *data;

    buf_init(&b, 16, BUF_SECRET);
    assert_int_equal(buf_adds(&b, "s3cret"), BUF_OK);
    data = buf_detach(&b, NULL);
    assert_string_equal(data, "s3cret");
    assert_int_equal(b.flags, BUF_SECRET);
    assert_int_equal(b.cap, 16);
    free(data);
}

static void buf_free__twice__is_safe(void **state)
{
    struct buf b = BUF_INIT_SECRET;

    assert_int_equal(buf_adds(&b, "x"), BUF_OK);
    buf_free(&b);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_add__within_cap__appends_and_terminates),
        cmocka_unit_test(buf_add__exactly_cap__accepted),
        cmocka_unit_test(buf_add__beyond_cap__refuses_and_keeps_contents),
        cmocka_unit_test(buf_add__size_max__refuses_without_overflow),
        cmocka_unit_test(buf_addf__beyond_cap__refuses_without_partial_write),
        cmocka_unit_test(buf_addf__large_output__formats_whole),
        cmocka_unit_test(buf_str__never_used__returns_empty_string),
        cmocka_unit_test(buf_must_add__beyond_cap__aborts),
        cmocka_unit_test(buf_secret__growing_many_times__keeps_contents),
        cmocka_unit_test(buf_reset__secret__wipes_old_bytes),
        cmocka_unit_test(buf_reset__plain__empties_and_allows_reuse),
        cmocka_unit_test(buf_detach__with_data__hands_over_and_empties),
        cmocka_unit_test(buf_detach__empty__returns_allocated_empty_string),
        cmocka_unit_test(buf_detach__secret__keeps_flags_and_cap),
        cmocka_unit_test(buf_free__twice__is_safe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
