#include "SplitKernels.h"
#include <stdio.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int split_set_mmap_threshold(int bytes) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}

int split_resident_breakdown(const char *model_path, uint64_t bytes[4]) {
    FILE *smaps = fopen("/proc/self/smaps", "re");
    if (!smaps) return 0;
    char line[4096 + 128];  // a mapping's line: addresses, flags, device, inode and a path
    bytes[0] = bytes[1] = bytes[2] = bytes[3] = 0;
    int kind = 2;
    size_t model_length = strlen(model_path);
    while (fgets(line, sizeof line, smaps)) {
        unsigned long long kilobytes;
        const char *space = strchr(line, ' '), *dash = strchr(line, '-');
        if (space && dash && dash < space) {
            // A mapping: "7f12…-7f13… r-xp 00000000 fd:01 1234   /usr/lib/…" (a field's key,
            // "Rss:", has no '-'); a file's path starts with '/', anonymous memory has none.
            const char *path = strchr(space, '/');
            size_t length = path ? strcspn(path, "\n") : 0;
            kind = !path ? 2 : length == model_length && memcmp(path, model_path, length) == 0 ? 0 : 1;
        } else if (sscanf(line, "Rss: %llu kB", &kilobytes) == 1) {
            bytes[kind] += (uint64_t)kilobytes * 1024;
        } else if (kind == 0 && sscanf(line, "FilePmdMapped: %llu kB", &kilobytes) == 1) {
            bytes[3] += (uint64_t)kilobytes * 1024;
        }
    }
    fclose(smaps);
    return 1;
}
