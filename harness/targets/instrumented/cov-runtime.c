/*
 * Edge-coverage runtime for SanitizerCoverage's trace-pc-guard mode, linked into the instrumented servers.
 *
 * The harness creates a file (normally on /dev/shm) and names it in SSH_HARNESS_COV_MAP. The first module
 * constructor of every process maps it MAP_SHARED, so every process of the server writes into the same
 * pages: dropbear's per-connection children (fork), OpenSSH's re-exec'd connection child (the environment
 * survives execv, the new image maps the file again) and its privsep pre-auth child (fork after the map,
 * the mapping survives chroot and setuid). The harness zeroes the counters before a case and reads them
 * after it.
 *
 * Layout: a 64-byte header ("SSHCOV1\0", then the number of guards as a little-endian uint32 at offset 8),
 * then one saturating 8-bit hit counter per edge. Edges beyond the file wrap around (never write outside): the
 * wrap is folded into the guard numbers at init, so the per-edge callback has no division (it runs on every
 * edge the server executes; a modulo there cost a third of a connection's CPU time in the crypto loops).
 * This file is compiled WITHOUT coverage instrumentation (it would trace itself).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define COV_HEADER 64u

static unsigned char *cov_counters; /* NULL: no map, tracing is a no-op */
static uint32_t cov_slots;
static uint32_t cov_next_guard;
static int cov_tried;

static void cov_map_file(void) {
  cov_tried = 1;
  const char *path = getenv("SSH_HARNESS_COV_MAP");
  if (!path || !*path) return;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= (off_t)COV_HEADER || st.st_size > (off_t)(64u << 20)) { close(fd); return; }
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd); /* the mapping keeps the file; no descriptor leaks into the server's fd accounting */
  if (p == MAP_FAILED) return;
  memcpy(p, "SSHCOV1", 8);
  cov_slots = (uint32_t)((size_t)st.st_size - COV_HEADER);
  cov_counters = (unsigned char *)p + COV_HEADER;
}

void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop) {
  if (start == stop || *start) return; /* already numbered (a module initialised twice) */
  if (!cov_tried) cov_map_file();
  for (uint32_t *g = start; g < stop; g++) {
    ++cov_next_guard;
    /* guard numbers stay within the map (1..cov_slots) */
    *g = cov_slots ? (cov_next_guard - 1) % cov_slots + 1 : cov_next_guard;
  }
  if (cov_counters) memcpy(cov_counters - COV_HEADER + 8, &cov_next_guard, 4);
}

void __sanitizer_cov_trace_pc_guard(uint32_t *guard) {
  uint32_t g = *guard;
  if (!g || !cov_counters) return;
  unsigned char *c = &cov_counters[g - 1];
  if (*c != 255) (*c)++;
}
