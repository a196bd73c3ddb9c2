#include "test_util.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = xmalloc((size_t)n + 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n)
        fail_msg("cannot read %s", path);
    data[n] = '\0';
    fclose(f);
    return data;
}

static char temp_dir[64];

static void remove_temp_dir(void)
{
    char *cmd = xasprintf("rm -rf '%s'", temp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", temp_dir);
    free(cmd);
}

char *test_write_temp(const char *name, const char *text)
{
    char *path;
    FILE *f;

    if (!temp_dir[0]) {
        snprintf(temp_dir, sizeof(temp_dir), "/tmp/ecr-renew-test.XXXXXX");
        if (!mkdtemp(temp_dir))
            fail_msg("mkdtemp failed");
        atexit(remove_temp_dir);
    }
    path = xasprintf("%s/%s", temp_dir, name);
    f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot create %s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

static time_t tc_now(void *ctx)
{
    return ((struct test_clock *)ctx)->now;
}

static long long tc_mono(void *ctx)
{
    return ((struct test_clock *)ctx)->mono_ms;
}

static void tc_sleep(void *ctx, long ms)
{
    struct test_clock *tc = ctx;

    tc->slept_ms += ms;
    test_clock_advance_ms(tc, ms);
}

static double tc_random(void *ctx)
{
    (void)ctx;
    return 0.5;
}

void test_clock_init(struct test_clock *tc, time_t now)
{
    memset(tc, 0, sizeof(*tc));
    tc->now = now;
    tc->mono_ms = 1000000;
    tc->clock = (struct clock){
        .now = tc_now,
        .mono_ms = tc_mono,
        .sleep_ms = tc_sleep,
        .random01 = tc_random,
        .ctx = tc,
    };
}

void test_clock_advance_ms(struct test_clock *tc, long long ms)
{
    tc->mono_ms += ms;
    tc->wall_carry_ms += ms;
    tc->now += (time_t)(tc->wall_carry_ms / 1000);
    tc->wall_carry_ms %= 1000;
}
