/*
 * Edge-coverage runtime for SanitizerCoverage's inline-bool-flag mode, linked into the instrumented servers.
 *
 * The compiler gives every edge a one-byte flag in the section __sancov_bools and sets it inline (a compare
 * and a store, no call: the per-edge callback of trace-pc-guard mode cost the servers 13 % of their CPU).
 * cov-section.ld makes that section start on a page and fill whole pages, so this runtime can map the
 * harness's file over it: the first module constructor of every process maps the file named by
 * SSH_HARNESS_COV_MAP MAP_SHARED and MAP_FIXED onto the flags, and every process of the server then sets flags
 * in the same pages: dropbear's per-connection children (fork), OpenSSH's re-exec'd connection child (the
 * environment survives execv, the new image maps the file again) and its privsep pre-auth child (fork after
 * the map, the mapping survives chroot and setuid). The harness zeroes the flags before a case and reads them
 * after it.
 *
 * File layout: a 4096-byte header page ("SSHCOV2\0", then the number of flags mapped as a little-endian
 * uint32 at offset 8), then one byte per edge (0 or 1) in the section's order. A section larger than the file
 * is mapped as far as the file goes (the rest keeps private flags nobody reads); a section that is not
 * page-aligned (built without the linker script) is not mapped at all, and the header stays unwritten, which the
 * harness reports. Flags record whether an edge ran, not how often: hit counts would need a load and an add
 * per edge and, being 8-bit, wrap to 0 at every 256th hit.
 * This file is compiled WITHOUT coverage instrumentation (it would trace itself).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define COV_HEADER 4096u
#define COV_MAX_FILE (64u << 20)

static int cov_done;

/* Called by every instrumented translation unit's constructor, each time with the whole section. */
void __sanitizer_cov_bool_flag_init(bool *start, bool *stop) {
  if (cov_done || start == stop) return;
  cov_done = 1;
  const char *path = getenv("SSH_HARNESS_COV_MAP");
  if (!path || !*path) return;
  if (((uintptr_t)start | (uintptr_t)stop) & (COV_HEADER - 1)) return; /* mapping would cover other data */
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= (off_t)COV_HEADER || st.st_size > (off_t)COV_MAX_FILE) { close(fd); return; }
  size_t len = (size_t)(stop - start);
  size_t room = ((size_t)st.st_size - COV_HEADER) & ~(size_t)(COV_HEADER - 1);
  if (len > room) len = room;
  if (len && mmap(start, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, COV_HEADER) != MAP_FAILED) {
    unsigned char header[16] = "SSHCOV2";
    uint32_t n = (uint32_t)len;
    memcpy(header + 8, &n, 4);
    if (pwrite(fd, header, sizeof header, 0) != (ssize_t)sizeof header) { /* the harness sees no header */ }
  }
  close(fd); /* the mapping keeps the file; no descriptor leaks into the server's fd accounting */
}
