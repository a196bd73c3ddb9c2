/*
 * Reading small files: only regular files and capped character devices,
 * never blocking on a FIFO; token files; private files written through
 * symbolic links, atomically, never over a special file.
 */
#include "core/fileio.h"
#include "core/wipe.h"
#include "core/xalloc.h"
#include "test_assert.h"
#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void file_read__regular_file__contents(void **state)
{
    char *p = test_temp_path("plain");
    struct buf b = BUF_INIT;
    struct er_error err;

    (void)state;
    put(p, "hello\n");
    assert_int_equal(file_read(p, &b, NULL, &err), ER_OK);
    assert_string_equal(buf_str(&b), "hello\n");
    buf_free(&b);
    free(p);
}

static void file_read__fifo__refused_at_once(void **state)
{
    char *p = test_temp_path("fifo");
    struct buf b = BUF_INIT;
    struct er_error err;
    struct timespec t0, t1;

    (void)state;
    assert_int_equal(mkfifo(p, 0600), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(file_read(p, &b, NULL, &err), ER_CONFIG);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    assert_contains(err.msg, "FIFO");
    assert_contains(err.msg, p);
    buf_free(&b);
    free(p);
}

static void file_read__directory__refused(void **state)
{
    struct buf b = BUF_INIT;
    struct er_error err;

    (void)state;
    assert_int_equal(file_read(test_temp_dir(), &b, NULL, &err), ER_CONFIG);
    assert_contains(err.msg, "directory");
}

static void file_read__char_device__read_up_to_cap(void **state)
{
    struct buf b;
    struct er_error err;

    (void)state;
    buf_init(&b, 4096, BUF_PLAIN);
    assert_int_equal(file_read("/dev/null", &b, NULL, &err), ER_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(file_read("/dev/zero", &b, NULL, &err), ER_CONFIG);
    assert_contains(err.msg, "larger than 4096 bytes");
    buf_free(&b);
}

static void file_read__larger_than_cap__refused_before_reading(void **state)
{
    char *p = test_temp_path("big");
    struct buf b;
    struct er_error err;

    (void)state;
    put(p, "0123456789");
    buf_init(&b, 4, BUF_PLAIN);
    assert_int_equal(file_read(p, &b, NULL, &err), ER_CONFIG);
    assert_contains(err.msg, "larger than 4 bytes");
    assert_int_equal(b.len, 0);
    buf_free(&b);
    free(p);
}

static void file_read__missing__reported_or_flagged(void **state)
{
    char *p = test_temp_path("nothing-here");
    struct buf b = BUF_INIT;
    struct er_error err;
    bool missing = false;

    (void)state;
    assert_int_equal(file_read(p, &b, &missing, &err), ER_OK);
    assert_true(missing);
    assert_int_equal(file_read(p, &b, NULL, &err), ER_CONFIG);
    assert_contains(err.msg, "No such file");
    buf_free(&b);
    free(p);
}

static void file_read_token__trimmed__control_or_empty_refused(void **state)
{
    char *p = test_temp_path("token");
    char *tok = NULL;
    struct er_error err;

    (void)state;
    put(p, "  abc.def\n");
    assert_int_equal(file_read_token(p, "token file", 1024, &tok, &err), ER_OK);
    assert_string_equal(tok, "abc.def");
    wipe_free_str(tok);
    put(p, "abc\r\nX-Injected: yes\n");
    assert_int_equal(file_read_token(p, "token file", 1024, &tok, &err),
                     ER_CONFIG);
    assert_contains(err.msg, "control character");
    assert_not_contains(err.msg, "X-Injected");
    put(p, " \n");
    assert_int_equal(file_read_token(p, "token file", 1024, &tok, &err),
                     ER_CONFIG);
    assert_contains(err.msg, "is empty");
    free(p);
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_mode;
}

static void file_write_private__new_file__mode_0600(void **state)
{
    char *p = test_temp_path("out.json");
    char *text;

    (void)state;
    assert_int_equal(file_write_private(p, "{}", 2, NULL), ER_OK);
    assert_int_equal(mode_of(p) & 0777, 0600);
    text = test_read_file(p);
    assert_string_equal(text, "{}");
    free(text);
    free(p);
}

static void file_write_private__symlink__target_replaced_link_kept(void **s)
{
    char *target = test_temp_path("real.json"),
         *link = test_temp_path("link.json");
    struct stat st;
    char *text;

    (void)s;
    put(target, "old");
    assert_int_equal(symlink("real.json", link), 0);
    assert_int_equal(file_write_private(link, "new", 3, NULL), ER_OK);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    text = test_read_file(target);
    assert_string_equal(text, "new");
    free(text);
    free(target);
    free(link);
}

static void file_write_private__fifo_or_dir__refused_untouched(void **s)
{
    char *fifo = test_temp_path("out.fifo"), *sub = test_temp_path("subdir");
    struct er_error err;

    (void)s;
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(file_write_private(fifo, "x", 1, &err), ER_CONFIG);
    assert_contains(err.msg, "FIFO");
    assert_true(S_ISFIFO(mode_of(fifo)));
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(file_write_private(sub, "x", 1, &err), ER_CONFIG);
    assert_contains(err.msg, "directory");
    assert_int_equal(file_write_private("/dev/null", "x", 1, &err), ER_CONFIG);
    assert_contains(err.msg, "character device");
    free(fifo);
    free(sub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_read__regular_file__contents),
        cmocka_unit_test(file_read__fifo__refused_at_once),
        cmocka_unit_test(file_read__directory__refused),
        cmocka_unit_test(file_read__char_device__read_up_to_cap),
        cmocka_unit_test(file_read__larger_than_cap__refused_before_reading),
        cmocka_unit_test(file_read__missing__reported_or_flagged),
        cmocka_unit_test(file_read_token__trimmed__control_or_empty_refused),
        cmocka_unit_test(file_write_private__new_file__mode_0600),
        cmocka_unit_test(
            file_write_private__symlink__target_replaced_link_kept),
        cmocka_unit_test(file_write_private__fifo_or_dir__refused_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
